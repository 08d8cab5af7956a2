// Health alarms of every run the editor shows (live or opened), VS Code-free: one HealthMonitor per
// run, thresholds from the `monitor:` section of the run's resolved config (run.json), and the
// bookkeeping behind the UI — which alarms are new (one notification per run and rule, never
// repeated, even when a run is opened again), the panel badge and its tooltip.
import type { RunEvent, TraceAlarm } from '../protocol';
import { HealthMonitor, MonitorConfigError, type Alarm, type MonitorConfig } from '../runs/health';
import { readManifest } from '../runs/runDirectory';

interface TrackedAlarms {
  runDir: string;
  monitor: HealthMonitor | undefined;
  alarms: TraceAlarm[];
}

export interface AlarmBadge {
  value: number;
  tooltip: string;
}

export class AlarmTracker {
  private readonly runs = new Map<string, TrackedAlarms>();
  /** `runId \0 rule` of every alarm already announced: survives a run being tracked again. */
  private readonly announced = new Set<string>();

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Starts (or restarts, for a run opened again) watching a run; its events follow through apply(). */
  track(runId: string, runDir: string): void {
    const kept = this.runs.get(runId)?.alarms ?? [];
    this.runs.set(runId, { runDir, monitor: undefined, alarms: kept });
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /**
   * Feeds a run's events; returns the alarms not announced before (the caller notifies once for each).
   * The monitor is made on the first metric event, when the trainer has written run.json.
   */
  apply(runId: string, events: readonly RunEvent[]): TraceAlarm[] {
    const run = this.runs.get(runId);
    if (!run || !events.some((e) => e.type === 'metric')) return [];
    run.monitor ??= this.makeMonitor(runId, run.runDir);
    return this.record(runId, run, run.monitor.apply(events));
  }

  /** The run ended: judges its last step. */
  finish(runId: string): TraceAlarm[] {
    const run = this.runs.get(runId);
    if (!run?.monitor) return [];
    return this.record(runId, run, run.monitor.flush());
  }

  /** Every alarm of a run so far, in the order raised. */
  alarmsOf(runId: string): TraceAlarm[] {
    return [...(this.runs.get(runId)?.alarms ?? [])];
  }

  /** The panel badge: the number of alarms over every run, with one line per alarm; undefined when none. */
  badge(): AlarmBadge | undefined {
    const lines: string[] = [];
    for (const [runId, run] of this.runs) for (const a of run.alarms) lines.push(`${runId}: ${a.rule} at step ${a.step}`);
    return lines.length ? { value: lines.length, tooltip: `Training-health alarms\n${lines.join('\n')}` } : undefined;
  }

  private record(runId: string, run: TrackedAlarms, raised: readonly Alarm[]): TraceAlarm[] {
    const fresh: TraceAlarm[] = [];
    for (const a of raised) {
      if (run.alarms.some((b) => b.rule === a.rule)) continue; // a re-opened run raising it again
      const alarm: TraceAlarm = { rule: a.rule, severity: a.severity, step: a.step, detectedAt: a.detectedAt, message: a.message };
      run.alarms.push(alarm);
      const key = `${runId}\u0000${a.rule}`;
      if (this.announced.has(key)) continue;
      this.announced.add(key);
      fresh.push(alarm);
    }
    return fresh;
  }

  private makeMonitor(runId: string, runDir: string): HealthMonitor {
    // Our trainer writes a whole step per metric line: judge each step as soon as it is read.
    const options = { stepPerEvent: true };
    let monitor: MonitorConfig = {};
    try {
      const config = readManifest(runDir)?.config as { monitor?: unknown } | undefined;
      if (config?.monitor && typeof config.monitor === 'object' && !Array.isArray(config.monitor))
        monitor = config.monitor as MonitorConfig;
    } catch (err) {
      this.log(`[${runId}] health rules use their defaults: run.json unreadable (${(err as Error).message})`);
    }
    try {
      return new HealthMonitor(monitor, options);
    } catch (err) {
      if (!(err instanceof MonitorConfigError)) throw err;
      this.log(`[${runId}] health rules use their defaults: ${err.message}`);
      return new HealthMonitor({}, options);
    }
  }
}

/** The notification's text and its one action. */
export function alarmNotification(runId: string, alarm: TraceAlarm): { message: string; action: string } {
  return {
    message: `Fact-RLHF run ${runId}: ${alarm.rule} from step ${alarm.step}. ${alarm.message}`,
    action: `Show samples at step ${alarm.step}`,
  };
}

/**
 * A resolved config flattened to dotted keys (`ppo.kl_coef`), each leaf JSON-encoded; arrays stay
 * one leaf. The view compares two runs' flattenings to show what differs.
 */
export function flattenConfig(config: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (config && typeof config === 'object' && !Array.isArray(config)) {
    const entries = Object.entries(config as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = JSON.stringify(config) ?? 'null';
  }
  return out;
}
