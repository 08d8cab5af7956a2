// The experiment form's pipeline strip SFT → reward model → rl_init → PPO → eval, and `fact-rlhf
// pipeline`: each stage's state from the runs of THIS config (configRuns.ts finds them, RunCatalog
// reads them: status, progress, headline figure, error), in the protocol's shape so the form shows
// it as it comes.
import type { PipelineStageStatus, PipelineStageView, PipelineState, Stage } from '../protocol';
import { PIPELINE_STAGES, STAGE_LABELS } from '../protocol';
import { runsOfConfig } from './configRuns';
import { RunCatalog, type RunInfo } from './runCatalog';

function statusOf(info: RunInfo): PipelineStageStatus {
  if (info.state === 'starting' || info.state === 'running') return 'running';
  return info.state;
}

function stageView(configPath: string, stage: Stage, catalog: RunCatalog): PipelineStageView {
  const runs = runsOfConfig(configPath, stage);
  const infos = runs.map((r) => catalog.read(r.dir));
  const newest = infos[0];
  // Eval runs write no checkpoint; every other stage's output is its checkpoint.
  const finished = infos.find((i) => i.state === 'finished' && (stage === 'eval' || i.checkpoint !== undefined));
  return {
    stage,
    label: STAGE_LABELS[stage],
    status: newest ? statusOf(newest) : 'not-run',
    runId: newest?.id ?? null,
    runDir: newest?.dir ?? null,
    progress: newest && statusOf(newest) === 'running' && newest.progress ? newest.progress : null,
    headline: newest?.headline ? { label: newest.headline.label, value: newest.headline.value } : null,
    error: newest && newest.state === 'failed' ? (newest.error ?? newest.manifestError ?? 'failed without an error message') : null,
    runCount: runs.length,
    finishedRunDir: finished?.dir ?? null,
  };
}

/** The strip for one config. Pass the same catalog on every refresh: it reads each run's events incrementally. */
export function pipelineState(configPath: string, catalog: RunCatalog = new RunCatalog()): PipelineState {
  return { configPath, stages: PIPELINE_STAGES.map((stage) => stageView(configPath, stage, catalog)) };
}

function figure(v: number | null): string {
  if (v === null) return 'NaN';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** One line per stage for a terminal: label, state, then progress, headline figure or error. */
export function formatPipeline(state: PipelineState): string[] {
  const width = Math.max(...state.stages.map((s) => s.label.length));
  return state.stages.map((s) => {
    const parts: string[] = [s.status.replace('-', ' ')];
    if (s.progress) parts.push(`${s.progress.step}/${s.progress.total}`);
    if (s.headline) parts.push(`${s.headline.label} ${figure(s.headline.value)}`);
    if (s.runId) parts.push(s.runId + (s.runCount > 1 ? ` (+${s.runCount - 1} earlier)` : ''));
    const last = s.error?.trim().split('\n').filter(Boolean).pop(); // the trainer's message ends its text
    if (last) parts.push(`error: ${last}`);
    return `${s.label.padEnd(width)}  ${parts.join('  ')}`;
  });
}
