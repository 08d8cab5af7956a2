// Typed contracts shared by every TypeScript part. No runtime dependencies, no `vscode` import.
export type { RunEvent, MetricEvent, SampleEvent, StatusEvent, CheckpointEvent, LogEvent, ProgressEvent } from './generated/run-event';
export { PHASE_LABELS } from './generated/run-event';
import { PHASE_LABELS } from './generated/run-event';

/** A run phase as people read it: its schema label, else the name the trainer wrote. */
export function phaseLabel(phase: string): string {
  return (PHASE_LABELS as Record<string, string | undefined>)[phase] ?? phase.replace(/_/g, ' ');
}
export type { SampleRecord } from './generated/sample-record';
export type { RunManifest } from './generated/run-manifest';
export type { ExperimentConfig } from './generated/experiment';
export * from './webviews/rewardTraces';
export * from './webviews/sampleInspector';
export * from './webviews/experimentFormLaunch';
// Types only: the LSP request objects (./lsp) carry a runtime dependency that the CLI and the
// webviews, which import this index, must not pull in.
export type { ValidateParams, ValidateResult, ValidationDiagnostic } from './lsp';

/** Version written as `v` on every event line and `protocol_version` in run.json. */
export const PROTOCOL_VERSION = 1;

export type RunStatus = 'starting' | 'running' | 'finished' | 'failed' | 'stopped';
export type Stage = 'sft' | 'rm' | 'rl_init' | 'ppo' | 'eval';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['finished', 'failed', 'stopped'];
