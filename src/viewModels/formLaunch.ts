// The experiment form's pipeline strip and launch panel, behind the webview and without VS Code:
// it answers `planLaunch` with the plan shown before a launch (src/runs/launchPlan.ts), launches
// (local and torchrun through the caller's `start`, which is the editor's run controller, so the
// runs view, status bar and traces see the run; Slurm through submitSlurm), runs "Run from here"
// chains (ChainRunner, stopping at the first stage that does not finish), and sends the strip's
// state (pipelineState) whenever the caller says the runs may have changed. Every message it sends
// is one of the form's contract; the editor session and the browser test wire it the same way.
import { existsSync } from 'node:fs';
import type { FormLaunchStatusMessage, HostToFormView } from '../protocol/webviews/experimentForm';
import { STAGE_LABELS, type LaunchParams, type LaunchPlanView, type Stage, type ValidationDiagnostic } from '../protocol';
import { ChainRunner, type ChainLaunch, type StageOutcome } from '../runs/chainRunner';
import { findTool } from '../runs/executables';
import type { GpuReport } from '../runs/gpus';
import { planLaunch, type LaunchPlan, type LaunchPlanRequest, type SlurmJob } from '../runs/launchPlan';
import { pipelineState } from '../runs/pipeline';
import { chainStepViews, PipelinePlanError, planChain, type ChainPlan } from '../runs/pipelinePlan';
import { RunCatalog } from '../runs/runCatalog';
import type { StartOptions } from '../runs/runManager';
import type { SlurmSubmission } from '../runs/slurmSubmit';

/** What a launch needs from the editor: the interpreter and where the trainer lives. */
export interface LaunchEnvironment {
  python: string;
  trainerRoot: string;
  schemaDir: string;
  /** eval: the model to evaluate (the editor's eval choice), or a random builtin allowed. */
  evalCheckpoint?: string;
  allowRandom?: boolean;
}

/** A run the caller started; `done` settles when it ends. */
export interface StartedRun {
  runId: string;
  runDir: string;
  done: Promise<StageOutcome>;
}

export interface FormLaunchDeps {
  /** The config on disk (the form's document, saved before each launch by `beforeLaunch`). */
  configPath: string;
  post(message: HostToFormView): void;
  /** The language server's diagnostics of the document's current version. */
  diagnostics(): readonly Pick<ValidationDiagnostic, 'severity' | 'message' | 'file' | 'line'>[];
  trusted(): boolean;
  gpus(): Promise<GpuReport>;
  /** Throws, with the reason, when no launch can happen (no interpreter, no eval target). */
  environment(stage: Stage): Promise<LaunchEnvironment>;
  start(opts: StartOptions): Promise<StartedRun>;
  submitSlurm(job: SlurmJob): Promise<SlurmSubmission>;
  /** Whether `sbatch` can be found (default: on PATH). */
  hasSbatch?(): boolean;
  /** Saves the document (a launch runs what is on disk); false when it could not be saved. */
  beforeLaunch?(): Promise<boolean>;
  /**
   * The language server's check of the saved document, asked at launch time: the diagnostics the
   * form holds may be a version behind (a reply still on its way), or missing (no server).
   * `refused`: no complete answer, and a config nobody checked is not launched.
   */
  checkNow?(): Promise<
    { diagnostics: readonly Pick<ValidationDiagnostic, 'severity' | 'message' | 'file' | 'line'>[] } | { refused: string }
  >;
  log(line: string): void;
}

export class FormLaunch {
  private readonly catalog = new RunCatalog();
  private chain: ChainRunner | undefined;
  /**
   * The run folder each stage's shown plan names, kept while it does not exist: the command shown
   * does not change with the clock, and Launch runs exactly the one shown.
   */
  private readonly shownRunDir = new Map<Stage, string>();
  /** Every run launched from this form (the editor tests read it). */
  readonly launched: StartedRun[] = [];

  constructor(private readonly deps: FormLaunchDeps) {}

  /** The strip's state now; sent on `ready` and whenever the runs may have changed. */
  refreshPipeline(): void {
    try {
      this.deps.post({ type: 'pipeline', state: pipelineState(this.deps.configPath, this.catalog) });
    } catch (e) {
      this.deps.log(`pipeline strip: cannot read the runs of ${this.deps.configPath}: ${(e as Error).message}`);
    }
  }

  async sendGpus(): Promise<GpuReport> {
    const report = await this.deps.gpus();
    this.deps.post({
      type: 'gpus',
      report: report.kind === 'none' ? { kind: 'none', label: report.label, detail: report.detail } : { kind: 'gpus', gpus: report.gpus },
    });
    return report;
  }

  private async request(p: LaunchParams, extra: Partial<LaunchPlanRequest> = {}): Promise<LaunchPlan> {
    // Only what the view may choose: a message's other fields never reach the plan.
    p = { stage: p.stage, backend: p.backend, gpus: p.gpus };
    const base = { stage: p.stage, backend: p.backend };
    let env: LaunchEnvironment;
    try {
      env = await this.deps.environment(p.stage);
    } catch (e) {
      // Trust and config errors come first: they are the user's to fix before any interpreter matters.
      const early = planLaunch({
        ...p,
        configPath: this.deps.configPath,
        python: 'python',
        trainerRoot: '',
        schemaDir: '',
        trusted: this.deps.trusted(),
        diagnostics: this.diagnostics(),
      });
      if (!early.view.ok) return early;
      return { view: { ok: false, ...base, reason: (e as Error).message }, start: null, slurm: null };
    }
    const shown = this.shownRunDir.get(p.stage);
    const plan = planLaunch({
      ...p,
      configPath: this.deps.configPath,
      ...env,
      trusted: this.deps.trusted(),
      diagnostics: this.diagnostics(),
      available: await this.deps.gpus(),
      runDir: shown && !existsSync(shown) ? shown : undefined,
      ...extra,
    });
    if (plan.view.ok && !extra.runDir) this.shownRunDir.set(p.stage, plan.view.runDir);
    return plan;
  }

  /** The plan the panel shows before launch (the request `planLaunch`). */
  async plan(p: LaunchParams): Promise<LaunchPlanView> {
    const { view } = await this.request(p);
    // Said before Submit is pressed, not after: this machine cannot submit, the script can be copied.
    if (view.ok && view.backend === 'slurm' && !(this.deps.hasSbatch ?? (() => findTool('sbatch') !== undefined))())
      return { ...view, notes: [...view.notes, 'sbatch is not on PATH here: copy the script and submit it on a machine of the cluster'] };
    return view;
  }

  private status(state: FormLaunchStatusMessage['state'], message: string, run?: { runId?: string; runDir?: string }): void {
    this.deps.post({ type: 'launchStatus', state, message, runId: run?.runId ?? null, runDir: run?.runDir ?? null });
  }

  /** Saves, then checks what was saved; the refusal's reason, or undefined when the launch may go on. */
  private async ready(): Promise<string | undefined> {
    if (this.deps.beforeLaunch && !(await this.deps.beforeLaunch())) return 'the file could not be saved: a launch runs what is on disk';
    this.checked = undefined;
    if (!this.deps.checkNow) return undefined;
    const check = await this.deps.checkNow();
    if ('refused' in check) return check.refused;
    this.checked = check.diagnostics;
    return undefined;
  }

  /** The diagnostics of the launch in progress (checked at launch time), else the form's latest. */
  private checked: readonly Pick<ValidationDiagnostic, 'severity' | 'message' | 'file' | 'line'>[] | undefined;

  private diagnostics(): readonly Pick<ValidationDiagnostic, 'severity' | 'message' | 'file' | 'line'>[] {
    return this.checked ?? this.deps.diagnostics();
  }

  /** The panel's Launch: one stage on the chosen backend. Resolves once started (or refused). */
  async launch(p: LaunchParams): Promise<StartedRun | undefined> {
    try {
      return await this.launchChecked(p);
    } finally {
      this.checked = undefined; // the panel's preview goes back to the form's latest diagnostics
    }
  }

  private async launchChecked(p: LaunchParams): Promise<StartedRun | undefined> {
    const notReady = await this.ready();
    if (notReady) {
      this.status('refused', notReady);
      return undefined;
    }
    const plan = await this.request(p);
    if (!plan.view.ok) {
      this.status('refused', plan.view.reason);
      return undefined;
    }
    if (plan.slurm) {
      const submitted = await this.deps.submitSlurm(plan.slurm);
      if (submitted.ok)
        this.status('submitted', `Slurm job ${submitted.jobId} submitted; its run folder is ${submitted.runDir}`, submitted);
      else this.status('failed', submitted.reason, { runDir: submitted.runDir });
      this.refreshPipeline();
      return undefined;
    }
    return this.startPlanned(plan);
  }

  private async startPlanned(plan: LaunchPlan): Promise<StartedRun | undefined> {
    if (!plan.start) return undefined;
    try {
      const run = await this.deps.start(plan.start);
      this.launched.push(run);
      this.status('started', `${plan.start.stage} run ${run.runId} started in ${run.runDir}`, run);
      void run.done.then(
        () => this.refreshPipeline(),
        () => this.refreshPipeline(),
      );
      this.refreshPipeline();
      return run;
    } catch (e) {
      this.status('failed', (e as Error).message);
      return undefined;
    }
  }

  /** "Run this stage": the stage alone, locally, on what the trainer finds. */
  runStage(stage: Stage): Promise<StartedRun | undefined> {
    return this.launch({ stage, backend: 'local', gpus: [] });
  }

  /** "Run from here": `from` and every later stage, each one's output the next one's input. */
  async runFromHere(from: Stage): Promise<void> {
    try {
      await this.runFromHereChecked(from);
    } finally {
      this.checked = undefined;
    }
  }

  private async runFromHereChecked(from: Stage): Promise<void> {
    if (this.chain && !this.chain.progress().done) {
      this.status('refused', 'a "Run from here" chain is still running in this form');
      return;
    }
    const notReady = await this.ready();
    if (notReady) {
      this.status('refused', notReady);
      return;
    }
    let chainPlan: ChainPlan;
    try {
      chainPlan = planChain(this.deps.configPath, pipelineState(this.deps.configPath, this.catalog), { from });
    } catch (e) {
      if (!(e instanceof PipelinePlanError)) throw e;
      this.status('refused', e.message);
      return;
    }
    // Refused up front for what refuses every step (trust, config errors, no interpreter).
    const first = await this.request({ stage: from, backend: 'local', gpus: [] }, { chain: chainStepViews(chainPlan) });
    if (!first.view.ok) {
      this.status('refused', first.view.reason);
      return;
    }
    const runner = new ChainRunner(chainPlan, (step) => this.launchStep(step));
    this.chain = runner;
    runner.on('progress', (progress) => {
      this.deps.post({ type: 'chain', progress });
      this.refreshPipeline();
    });
    this.status('started', `Run from here: ${chainPlan.steps.map((s) => s.stage).join(' → ')}`);
    const result = await runner.run();
    const failed = result.steps.find((s) => s.status === 'failed' || s.status === 'stopped');
    if (failed) {
      // The trainer's message ends its error text (a traceback comes before it).
      const why = failed.error?.trim().split('\n').filter(Boolean).pop() ?? failed.status;
      this.status('failed', `Run from here stopped at ${STAGE_LABELS[failed.stage]}: ${why}`, { runDir: failed.runDir ?? undefined });
    } else this.status('started', `Run from here finished: ${chainPlan.steps.map((s) => STAGE_LABELS[s.stage]).join(' → ')}`);
  }

  private async launchStep(step: ChainLaunch): Promise<StageOutcome> {
    const plan = await this.request(
      { stage: step.stage, backend: 'local', gpus: [] },
      { configPath: step.configPath, runDir: step.runDir },
    );
    if (!plan.view.ok || !plan.start)
      return { status: 'failed', runDir: step.runDir, error: plan.view.ok ? 'nothing to start' : plan.view.reason };
    const run = await this.deps.start(plan.start);
    this.launched.push(run);
    this.refreshPipeline();
    return run.done;
  }
}
