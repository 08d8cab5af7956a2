// What the pipeline strip and the launch panel say, as plain functions of the host's messages (unit
// tested without a page): a stage's state line, a chain's progress, the label of the Launch button.
import type { ChainProgressView, LaunchBackendChoice, PipelineStageView } from '../../src/protocol/webviews/experimentFormLaunch';

function figure(v: number | null): string {
  if (v === null) return 'NaN';
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

function eta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds < 90) return `, ${Math.round(seconds)} s left`;
  return `, ${Math.round(seconds / 60)} min left`;
}

/** The trainer's message ends its error text (a traceback comes before it). */
export function lastErrorLine(error: string | null): string {
  return error?.trim().split('\n').filter(Boolean).pop() ?? 'failed without an error message';
}

/** One line under a stage of the strip: not run / running with progress / finished with its headline / failed with the error. */
export function stageSummary(s: PipelineStageView): string {
  switch (s.status) {
    case 'not-run':
      return 'not run';
    case 'running':
      return s.progress ? `running ${s.progress.step}/${s.progress.total}${eta(s.progress.eta)}` : 'running';
    case 'finished':
      return s.headline ? `finished · ${s.headline.label} ${figure(s.headline.value)}` : 'finished';
    case 'failed':
      return `failed: ${lastErrorLine(s.error)}`;
    case 'stopped':
      return 'stopped';
    case 'interrupted':
      return 'interrupted (the trainer ended without a final status)';
  }
}

/** A progress bar's fraction for a running stage, else undefined. */
export function stageFraction(s: PipelineStageView): number | undefined {
  if (s.status !== 'running' || !s.progress || s.progress.total <= 0) return undefined;
  return Math.min(1, Math.max(0, s.progress.step / s.progress.total));
}

const STEP_MARK: Record<ChainProgressView['steps'][number]['status'], string> = {
  pending: 'waiting',
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  stopped: 'stopped',
  skipped: 'skipped',
};

/** "Run from here" in one line: each step's stage and state, then where it stopped. */
export function chainSummary(p: ChainProgressView, labels: Readonly<Record<string, string>>): string {
  const steps = p.steps.map((s) => `${labels[s.stage] ?? s.stage} ${STEP_MARK[s.status]}`).join(' → ');
  const failed = p.steps.find((s) => s.status === 'failed' || s.status === 'stopped');
  if (failed) return `${steps}. Stopped at ${labels[failed.stage] ?? failed.stage}: ${lastErrorLine(failed.error ?? failed.status)}`;
  return p.done ? `${steps}. Done.` : steps;
}

/** The panel's Launch button says what it will do. */
export function launchLabel(backend: LaunchBackendChoice, stageLabel: string, gpus: number): string {
  if (backend === 'slurm') return `Submit ${stageLabel} to Slurm`;
  if (backend === 'torchrun') return `Launch ${stageLabel} (torchrun, ${gpus ? `${gpus} GPU${gpus === 1 ? '' : 's'}` : 'CPU'})`;
  return `Launch ${stageLabel}`;
}
