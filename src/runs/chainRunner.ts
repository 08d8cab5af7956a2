// Runs a "Run from here" chain (pipelinePlan.ts) one stage after another and stops at the first
// that does not finish. How a stage is launched is the caller's: a `launch` function (the editor's
// run controller, the CLI, a test driving the real trainer through RunManager). Before each launch
// the step's inputs are resolved against the runs made so far and, when it sets any, written as a
// derived config into the new run's folder.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { ChainProgressView, ChainStepStatus, Stage } from '../protocol';
import { writeDerivedConfig, type ConfigOverrides } from './derivedConfig';
import { resolveInputs, type ChainPlan } from './pipelinePlan';
import { configOutputDir } from './configRuns';
import { defaultRunDirectory, experimentName } from './runNaming';

export interface ChainLaunch {
  stage: Stage;
  /** The user's config, or the derived config that extends it. */
  configPath: string;
  runDir: string;
  overrides: ConfigOverrides;
}

export interface StageOutcome {
  status: 'finished' | 'failed' | 'stopped';
  runDir: string;
  error?: string;
}

export type LaunchStage = (launch: ChainLaunch) => Promise<StageOutcome>;

export interface ChainStepResult {
  stage: Stage;
  status: ChainStepStatus;
  runDir: string | null;
  error: string | null;
  configPath: string | null;
  overrides: ConfigOverrides;
}

export interface ChainResult {
  status: 'finished' | 'failed' | 'stopped';
  steps: ChainStepResult[];
}

interface ChainRunnerEvents {
  /** After every change of a step's status. */
  progress: [ChainProgressView];
}

export class ChainRunner extends EventEmitter<ChainRunnerEvents> {
  private readonly steps: ChainStepResult[];
  private cancelled = false;

  constructor(
    private readonly plan: ChainPlan,
    private readonly launch: LaunchStage,
  ) {
    super();
    this.steps = plan.steps.map((s) => ({ stage: s.stage, status: 'pending', runDir: null, error: null, configPath: null, overrides: {} }));
  }

  /** No further stage starts; the one running is the caller's to stop (its run handle). */
  cancel(): void {
    this.cancelled = true;
  }

  progress(): ChainProgressView {
    const done = !this.steps.some((s) => s.status === 'pending' || s.status === 'running');
    return { steps: this.steps.map((s) => ({ stage: s.stage, status: s.status, runDir: s.runDir, error: s.error })), done };
  }

  async run(): Promise<ChainResult> {
    const config = resolve(this.plan.configPath);
    const made = new Map<Stage, string>();
    let status: ChainResult['status'] = 'finished';
    for (let i = 0; i < this.plan.steps.length; i++) {
      const step = this.plan.steps[i];
      const result = this.steps[i];
      if (this.cancelled || status !== 'finished') {
        if (this.cancelled && status === 'finished') status = 'stopped';
        result.status = 'skipped';
        continue;
      }
      result.status = 'running';
      try {
        const runDir = defaultRunDirectory(config, step.stage);
        const overrides = resolveInputs(step, made);
        const configPath = Object.keys(overrides).length
          ? writeDerivedConfig({
              runDir,
              parent: config,
              overrides,
              name: experimentName(config),
              outputDir: configOutputDir(config, step.stage),
              reason: `the ${step.stage} step of "Run from here" (${this.plan.steps.map((s) => s.stage).join(' → ')})`,
            })
          : config;
        Object.assign(result, { runDir, configPath, overrides });
        this.emit('progress', this.progress());
        const outcome = await this.launch({ stage: step.stage, configPath, runDir, overrides });
        result.runDir = outcome.runDir;
        result.status = outcome.status;
        result.error = outcome.error ?? null;
        if (outcome.status === 'finished') made.set(step.stage, outcome.runDir);
        else status = outcome.status;
      } catch (e) {
        result.status = 'failed';
        result.error = (e as Error).message;
        status = 'failed';
      }
      this.emit('progress', this.progress());
    }
    this.emit('progress', this.progress());
    return { status, steps: this.steps.map((s) => ({ ...s })) };
  }
}
