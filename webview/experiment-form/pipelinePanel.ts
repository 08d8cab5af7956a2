// The form's pipeline strip (SFT → reward model → rl_init → PPO → eval, each stage's state with
// "Run this stage" and "Run from here") and its launch panel (stage, backend local / torchrun /
// Slurm, the GPUs to use, the exact command or sbatch script BEFORE launch, the reason a launch is
// refused). The host plans everything (`planLaunch`); this file shows the plan and sends choices.
import type { FormLaunchStatusMessage, FormViewToHost } from '../../src/protocol/webviews/experimentForm';
import {
  PIPELINE_STAGES,
  STAGE_LABELS,
  type ChainProgressView,
  type GpuListView,
  type LaunchBackendChoice,
  type LaunchParams,
  type LaunchPlanView,
  type PipelineState,
} from '../../src/protocol/webviews/experimentFormLaunch';
import type { Stage } from '../../src/protocol';
import { TOOLKIT_TAGS } from '../shared/toolkit';
import { chainSummary, launchLabel, stageFraction, stageSummary } from './pipelineText';

export interface PipelineHost {
  post(message: FormViewToHost): void;
  planLaunch(params: LaunchParams): Promise<LaunchPlanView>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text: string, className: string, attrs: Record<string, string> = {}): HTMLElement {
  const b = document.createElement(TOOLKIT_TAGS.button);
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  b.className = className;
  b.textContent = text;
  return b;
}

const BACKENDS: ReadonlyArray<{ value: LaunchBackendChoice; label: string }> = [
  { value: 'local', label: 'Local' },
  { value: 'torchrun', label: 'torchrun' },
  { value: 'slurm', label: 'Slurm' },
];

/** Choices and config edits come in bursts (typing, clicking GPUs): one plan request per pause. */
const PLAN_SETTLE_MS = 80;

export class PipelinePanel {
  private readonly strip = el('ol', 'pipeline-strip');
  private readonly chain = el('p', 'chain-progress');
  private readonly stageSelect: HTMLElement & { value: string };
  private readonly backendGroup: HTMLElement & { value: string };
  private readonly gpuBox = el('div', 'gpu-choice');
  private readonly command = el('pre', 'launch-command');
  private readonly envList = el('p', 'launch-env');
  private readonly notes = el('ul', 'launch-notes');
  private readonly script = el('pre', 'launch-script');
  private readonly scriptBox = el('div', 'launch-script-box');
  private readonly refusal = el('div', 'launch-refusal');
  private readonly statusLine = el('p', 'launch-status');
  private readonly launchButton: HTMLElement;
  private stage: Stage = 'ppo';
  private backend: LaunchBackendChoice = 'local';
  private gpus = new Set<number>();
  private lastPlan: LaunchPlanView | undefined;
  private planSeq = 0;
  private planTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    slot: HTMLElement,
    private readonly host: PipelineHost,
  ) {
    slot.hidden = false;
    slot.setAttribute('aria-label', 'Pipeline and launch');
    this.chain.setAttribute('aria-live', 'polite');
    this.chain.hidden = true;
    const stripBox = el('div', 'pipeline');
    stripBox.append(el('h2', 'pipeline-title', 'Pipeline'), this.strip, this.chain);

    const panel = el('div', 'launch-panel');
    const stageLabel = el('label', 'launch-label', 'Stage');
    stageLabel.htmlFor = 'launch-stage';
    this.stageSelect = document.createElement(TOOLKIT_TAGS.dropdown) as HTMLElement & { value: string };
    this.stageSelect.id = 'launch-stage';
    for (const s of PIPELINE_STAGES) {
      const opt = document.createElement(TOOLKIT_TAGS.option);
      opt.setAttribute('value', s);
      if (s === this.stage) opt.setAttribute('selected', '');
      opt.textContent = STAGE_LABELS[s];
      this.stageSelect.append(opt);
    }
    this.stageSelect.addEventListener('change', () => this.choose({ stage: this.stageSelect.value as Stage }));

    this.backendGroup = document.createElement(TOOLKIT_TAGS.radioGroup) as HTMLElement & { value: string };
    this.backendGroup.className = 'launch-backend';
    this.backendGroup.setAttribute('orientation', 'horizontal');
    const legend = el('label', 'launch-label', 'Backend');
    legend.setAttribute('slot', 'label');
    this.backendGroup.append(legend);
    for (const b of BACKENDS) {
      const radio = document.createElement(TOOLKIT_TAGS.radio);
      radio.setAttribute('value', b.value);
      if (b.value === this.backend) radio.setAttribute('checked', '');
      radio.textContent = b.label;
      this.backendGroup.append(radio);
    }
    this.backendGroup.addEventListener('change', () => {
      const value = this.backendGroup.value as LaunchBackendChoice;
      if (BACKENDS.some((b) => b.value === value)) this.choose({ backend: value });
    });

    this.launchButton = button(launchLabel(this.backend, STAGE_LABELS[this.stage], 0), 'launch', {
      title: 'Save the file and launch the chosen stage with the command shown',
    });
    this.launchButton.addEventListener('click', () => this.launch());
    const copy = button('Copy script', 'copy-script', { appearance: 'secondary', title: 'Copy the sbatch script to the clipboard' });
    copy.addEventListener('click', () => void this.copyScript());
    this.scriptBox.append(el('p', 'launch-label', 'sbatch script (review before submitting)'), this.script, copy);
    this.scriptBox.hidden = true;
    this.refusal.setAttribute('role', 'alert');
    this.refusal.hidden = true;
    this.statusLine.setAttribute('role', 'status');

    const choices = el('div', 'launch-choices');
    choices.append(stageLabel, this.stageSelect, this.backendGroup);
    const gpuHead = el('span', 'launch-label', 'GPUs');
    const gpuRow = el('div', 'launch-gpus');
    gpuRow.append(gpuHead, this.gpuBox);
    this.gpuBox.textContent = 'looking for GPUs…';
    panel.append(
      el('h2', 'pipeline-title', 'Launch'),
      choices,
      gpuRow,
      el('span', 'launch-label', 'Command'),
      this.command,
      this.envList,
      this.notes,
      this.scriptBox,
      this.refusal,
      this.launchButton,
      this.statusLine,
    );
    slot.append(stripBox, panel);
    this.schedulePlan();
  }

  showPipeline(state: PipelineState): void {
    const items = state.stages.map((s) => {
      const li = el('li', 'stage');
      li.dataset.stage = s.stage;
      li.dataset.status = s.status;
      const name = el('span', 'stage-name', s.label);
      const summary = el('span', 'stage-summary', stageSummary(s));
      if (s.runDir) summary.title = s.runDir;
      li.append(name, summary);
      const fraction = stageFraction(s);
      if (fraction !== undefined) {
        const bar = el('progress', 'stage-progress');
        bar.max = 1;
        bar.value = fraction;
        bar.setAttribute('aria-label', `${s.label} progress`);
        li.append(bar);
      }
      const actions = el('span', 'stage-actions');
      const one = button('Run this stage', 'run-stage', { appearance: 'secondary', title: `Run ${s.label} alone, locally` });
      one.addEventListener('click', () => this.host.post({ type: 'runStage', stage: s.stage }));
      actions.append(one);
      if (s.stage !== 'eval') {
        const chain = button('Run from here', 'run-from-here', {
          appearance: 'secondary',
          title: `Run ${s.label} and every later stage, each one's output the next one's input`,
        });
        chain.addEventListener('click', () => this.host.post({ type: 'runFromHere', stage: s.stage }));
        actions.append(chain);
      }
      li.append(actions);
      return li;
    });
    this.strip.replaceChildren(...items);
  }

  showChain(progress: ChainProgressView): void {
    this.chain.hidden = false;
    this.chain.dataset.done = String(progress.done);
    this.chain.dataset.failed = String(progress.steps.some((s) => s.status === 'failed' || s.status === 'stopped'));
    this.chain.textContent = `Run from here: ${chainSummary(progress, STAGE_LABELS)}`;
  }

  showGpus(report: GpuListView): void {
    if (report.kind === 'none') {
      this.gpus.clear();
      const none = el('span', 'no-gpu', report.label);
      none.title = report.detail;
      this.gpuBox.replaceChildren(none);
    } else {
      const known = new Set(report.gpus.map((g) => g.index));
      for (const i of [...this.gpus]) if (!known.has(i)) this.gpus.delete(i);
      this.gpuBox.replaceChildren(
        ...report.gpus.map((g) => {
          const box = document.createElement(TOOLKIT_TAGS.checkbox) as HTMLElement & { checked: boolean };
          box.dataset.gpu = String(g.index);
          if (this.gpus.has(g.index)) box.setAttribute('checked', '');
          box.textContent = `GPU ${g.index}: ${g.name}, ${(g.memoryFreeMiB / 1024).toFixed(1)} of ${(g.memoryTotalMiB / 1024).toFixed(1)} GiB free`;
          box.addEventListener('change', () => {
            if (box.checked) this.gpus.add(g.index);
            else this.gpus.delete(g.index);
            this.schedulePlan();
          });
          return box;
        }),
      );
    }
    this.schedulePlan();
  }

  showLaunchStatus(m: FormLaunchStatusMessage): void {
    this.statusLine.dataset.state = m.state;
    this.statusLine.textContent = m.message;
  }

  /** The config changed (values or diagnostics): the plan may differ. */
  configChanged(): void {
    this.schedulePlan();
  }

  private choose(change: { stage?: Stage; backend?: LaunchBackendChoice }): void {
    if (change.stage) this.stage = change.stage;
    if (change.backend) this.backend = change.backend;
    this.schedulePlan();
  }

  private params(): LaunchParams {
    return { stage: this.stage, backend: this.backend, gpus: [...this.gpus].sort((a, b) => a - b) };
  }

  private schedulePlan(): void {
    if (this.planTimer) clearTimeout(this.planTimer);
    this.planTimer = setTimeout(() => void this.plan(), PLAN_SETTLE_MS);
  }

  private async plan(): Promise<void> {
    this.planTimer = undefined;
    const seq = ++this.planSeq;
    const params = this.params();
    this.launchButton.textContent = launchLabel(params.backend, STAGE_LABELS[params.stage], params.gpus.length);
    let plan: LaunchPlanView;
    try {
      plan = await this.host.planLaunch(params);
    } catch (e) {
      plan = { ok: false, stage: params.stage, backend: params.backend, reason: `no plan: ${(e as Error).message}` };
    }
    if (seq !== this.planSeq) return; // a newer choice was made meanwhile
    this.showPlan(plan);
  }

  private showPlan(plan: LaunchPlanView): void {
    this.lastPlan = plan;
    this.gpuBox.toggleAttribute('data-disabled', plan.backend === 'slurm');
    if (!plan.ok) {
      this.refusal.hidden = false;
      this.refusal.textContent = `Launch refused: ${plan.reason}`;
      this.command.textContent = '';
      this.envList.textContent = '';
      this.notes.replaceChildren();
      this.scriptBox.hidden = true;
      this.launchButton.setAttribute('disabled', '');
      this.launchButton.dataset.ready = 'false';
      return;
    }
    this.refusal.hidden = true;
    this.refusal.textContent = '';
    this.command.textContent = plan.commandLine;
    this.command.dataset.backend = plan.backend;
    this.envList.textContent = `Run folder: ${plan.runDir}`;
    this.notes.replaceChildren(...plan.notes.map((n) => el('li', undefined, n)));
    this.scriptBox.hidden = plan.script === null;
    this.script.textContent = plan.script ?? '';
    this.launchButton.removeAttribute('disabled');
    this.launchButton.dataset.ready = 'true';
  }

  private launch(): void {
    if (!this.lastPlan?.ok) return;
    this.statusLine.textContent = this.backend === 'slurm' ? 'submitting…' : 'launching…';
    this.host.post({ type: 'launch', ...this.params() });
  }

  private async copyScript(): Promise<void> {
    const text = this.script.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
      this.statusLine.textContent = 'sbatch script copied';
    } catch {
      // No clipboard access: select the text, so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(this.script);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      this.statusLine.textContent = 'select-all done: press Ctrl+C (Cmd+C) to copy the script';
    }
  }
}
