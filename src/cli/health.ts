// `fact-rlhf health RUN_DIR|LOG [--json] [--config FILE]`: the training-health rules from a terminal or CI.
// Exit 0 healthy, 1 when an alarm fires, 2 on bad input (with a message saying what is wrong).
// Thresholds: the `monitor:` section of --config (an experiment config, `extends` resolved), else of the
// run's own config in run.json, else the rules' defaults.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyze, createNodeHost } from '../../language-server/src/engine';
import { readManifest } from '../runs/runDirectory';
import { HealthMonitor, MonitorConfigError, type MonitorConfig } from '../runs/health';
import { SourceError, openMetricSource } from '../runs/readers';

export interface SourceArgs {
  path: string;
  json: boolean;
  config?: string;
}

export function parseSourceArgs(command: string, argv: string[], withConfig = false): SourceArgs | string {
  let path: string | undefined;
  let json = false;
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (withConfig && a === '--config') {
      config = argv[++i];
      if (config === undefined) return `${command}: --config needs a FILE`;
    } else if (a.startsWith('-')) return `${command}: unknown option ${a}`;
    else if (path === undefined) path = a;
    else return `${command}: unexpected argument ${a}`;
  }
  return path === undefined
    ? `${command} needs a PATH (a run folder, a TensorBoard log folder or event file, a JSONL log)`
    : { path, json, config };
}

/** The resolved `monitor:` section of an experiment config file. */
function monitorOfConfig(file: string): MonitorConfig {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new MonitorConfigError(`config file not found: ${abs}`);
  const a = analyze(readFileSync(abs, 'utf8'), abs, createNodeHost({ env: process.env }));
  const monitor = a.resolved?.get(['monitor']);
  if (monitor === undefined) return {};
  if (!monitor || typeof monitor !== 'object' || Array.isArray(monitor)) throw new MonitorConfigError(`${abs}: monitor: must be a mapping`);
  return monitor as MonitorConfig;
}

export function runHealth(argv: string[], out = process.stdout, err = process.stderr): number {
  const args = parseSourceArgs('health', argv, true);
  if (typeof args === 'string') {
    err.write(`error: ${args}\n`);
    return 2;
  }
  try {
    const reader = openMetricSource(args.path);
    // A run folder carries its config's monitor: section in run.json.
    const config = args.config
      ? monitorOfConfig(args.config)
      : reader.format === 'run' && existsSync(resolve(args.path, 'run.json'))
        ? ((readManifest(args.path)?.config as { monitor?: MonitorConfig } | undefined)?.monitor ?? {})
        : {};
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
      out.write(
        `${JSON.stringify({ path: args.path, format: reader.format, steps: monitor.steps, corrupt, rules: monitor.ruleIds, healthy: alarms.length === 0, alarms })}\n`,
      );
    } else {
      out.write(
        `${args.path} (${reader.format}): ${monitor.steps} steps, ${monitor.ruleIds.length} rules${corrupt ? `, ${corrupt} corrupt records skipped` : ''}\n`,
      );
      if (!alarms.length) out.write('healthy: no alarm\n');
      for (const a of alarms) {
        out.write(`${a.severity.toUpperCase()} ${a.rule} from step ${a.step} (seen at ${a.detectedAt}): ${a.message}\n`);
        out.write(
          `  evidence: ${Object.entries(a.evidence)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}\n`,
        );
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
