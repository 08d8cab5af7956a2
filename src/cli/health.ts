// `fact-rlhf health RUN_DIR|LOG [--json]`: the training-health rules from a terminal or CI.
// Exit 0 healthy, 1 when an alarm fires, 2 on bad input (with a message saying what is wrong).
import { readManifest } from '../runs/runDirectory';
import { HealthMonitor, MonitorConfigError, type MonitorConfig } from '../runs/health';
import { SourceError, openMetricSource } from '../runs/readers';

export function parseSourceArgs(command: string, argv: string[]): { path: string; json: boolean } | string {
  let path: string | undefined;
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a.startsWith('-')) return `${command}: unknown option ${a}`;
    else if (path === undefined) path = a;
    else return `${command}: unexpected argument ${a}`;
  }
  return path === undefined ? `${command} needs a PATH (a run folder, a TensorBoard log folder or event file, a JSONL log)` : { path, json };
}

export function runHealth(argv: string[], out = process.stdout, err = process.stderr): number {
  const args = parseSourceArgs('health', argv);
  if (typeof args === 'string') {
    err.write(`error: ${args}\n`);
    return 2;
  }
  try {
    const reader = openMetricSource(args.path);
    // A run folder carries its config's monitor: section in run.json.
    const config = reader.format === 'run' ? ((readManifest(args.path)?.config as { monitor?: MonitorConfig } | undefined)?.monitor ?? {}) : {};
    const monitor = new HealthMonitor(config);
    const { events, corrupt } = reader.readNew();
    monitor.apply(events);
    monitor.flush();
    if (monitor.steps === 0) {
      err.write(`error: ${args.path}: no metrics found (${reader.format} source)\n`);
      return 2;
    }
    const alarms = monitor.alarms;
    if (args.json) {
      out.write(`${JSON.stringify({ path: args.path, format: reader.format, steps: monitor.steps, corrupt, rules: monitor.ruleIds, healthy: alarms.length === 0, alarms })}\n`);
    } else {
      out.write(`${args.path} (${reader.format}): ${monitor.steps} steps, ${monitor.ruleIds.length} rules${corrupt ? `, ${corrupt} corrupt records skipped` : ''}\n`);
      if (!alarms.length) out.write('healthy: no alarm\n');
      for (const a of alarms) {
        out.write(`${a.severity.toUpperCase()} ${a.rule} from step ${a.step} (seen at ${a.detectedAt}): ${a.message}\n`);
        out.write(`  evidence: ${Object.entries(a.evidence).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
      }
    }
    return alarms.length ? 1 : 0;
  } catch (e) {
    if (e instanceof SourceError || e instanceof MonitorConfigError) {
      err.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
