// Evaluates the health rules incrementally over a run's metric events: live (fed batches as they
// arrive) or finished (fed everything, then flush()). Values of one step may arrive in several events
// (TensorBoard writes one scalar per event), so a step's row is handed to the rules when a later step
// begins, or on flush() — unless `stepPerEvent` says each metric event is a whole step (our own
// trainer's events.jsonl), when a live run is judged as soon as the step's line is read.
import type { RunEvent } from '../../protocol';
import type { Alarm, RuleDefinition, RuleInstance, RuleParams, StepRow } from './types';
import { nonFiniteRule } from './rules/nonFinite';
import { rewardHackingRule } from './rules/rewardHacking';
import { collapseRule } from './rules/collapse';
import { klRule } from './rules/kl';
import { ppoStabilityRule } from './rules/ppoStability';
import { valueLossSpikeRule } from './rules/valueLossSpike';
import { rmIgnoresFactsRule } from './rules/rmIgnoresFacts';

export const RULES: readonly RuleDefinition[] = [
  nonFiniteRule,
  rewardHackingRule,
  collapseRule,
  klRule,
  ppoStabilityRule,
  valueLossSpikeRule,
  rmIgnoresFactsRule,
] as RuleDefinition[];

/** The experiment config's `monitor:` section: per rule, `enabled` and any of its thresholds. */
export type MonitorConfig = Record<string, Record<string, number | boolean> | undefined>;

export class MonitorConfigError extends Error {}

interface Active {
  def: RuleDefinition;
  instance: RuleInstance;
  fired: boolean;
}

export class HealthMonitor {
  private readonly active: Active[] = [];
  readonly alarms: Alarm[] = [];
  private pending: { step: number; values: Map<string, number>; nonFinite: Set<string> } | undefined;
  /** Steps handed to the rules so far. */
  steps = 0;

  /** Throws MonitorConfigError for an unknown rule or parameter, or a non-numeric threshold. */
  constructor(
    config: MonitorConfig = {},
    private readonly options: { stepPerEvent?: boolean; rules?: readonly RuleDefinition[] } = {},
  ) {
    const rules = options.rules ?? RULES;
    const known = new Set(rules.map((r) => r.id));
    for (const id of Object.keys(config)) {
      if (!known.has(id)) throw new MonitorConfigError(`monitor.${id}: no such health rule (known: ${[...known].join(', ')})`);
    }
    for (const def of rules) {
      const section = config[def.id] ?? {};
      if (section.enabled === false) continue;
      const params: RuleParams = { ...def.defaults };
      for (const [name, value] of Object.entries(section)) {
        if (name === 'enabled') continue;
        if (!(name in def.defaults))
          throw new MonitorConfigError(
            `monitor.${def.id}.${name}: no such parameter (known: enabled, ${Object.keys(def.defaults).join(', ')})`,
          );
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw new MonitorConfigError(`monitor.${def.id}.${name}: must be a number`);
        params[name] = value;
      }
      this.active.push({ def, instance: def.create(params), fired: false });
    }
  }

  get ruleIds(): string[] {
    return this.active.map((a) => a.def.id);
  }

  /** Feeds events; returns the alarms raised by this call (rows completed by a later step). */
  apply(events: readonly RunEvent[]): Alarm[] {
    const raised: Alarm[] = [];
    for (const e of events) {
      if (e.type !== 'metric') continue;
      this.observe(e.step, e.values as Record<string, number | null>, raised);
      if (this.options.stepPerEvent) this.evaluatePending(raised);
    }
    return raised;
  }

  /** One step's values (null: the trainer's spelling of NaN/±inf). */
  observe(step: number, values: Record<string, number | null>, raised: Alarm[] = []): Alarm[] {
    if (this.pending && this.pending.step !== step) this.evaluatePending(raised);
    this.pending ??= { step, values: new Map(), nonFinite: new Set() };
    for (const key in values) {
      const v = values[key];
      if (typeof v === 'number' && Number.isFinite(v)) {
        this.pending.values.set(key, v);
        this.pending.nonFinite.delete(key);
      } else {
        this.pending.nonFinite.add(key);
        this.pending.values.delete(key);
      }
    }
    return raised;
  }

  /** Evaluates the last step (end of a finished run, or a live run gone quiet). */
  flush(): Alarm[] {
    const raised: Alarm[] = [];
    this.evaluatePending(raised);
    return raised;
  }

  private evaluatePending(raised: Alarm[]): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.steps++;
    const row: StepRow = { step: p.step, values: p.values, nonFinite: [...p.nonFinite] };
    for (const a of this.active) {
      if (a.fired) continue;
      const f = a.instance.observe(row);
      if (!f) continue;
      a.fired = true;
      const alarm: Alarm = { rule: a.def.id, severity: a.def.severity, detectedAt: row.step, ...f };
      this.alarms.push(alarm);
      raised.push(alarm);
    }
  }
}

/** Runs every rule over a finished run's events. */
export function checkHealth(events: readonly RunEvent[], config?: MonitorConfig): { alarms: Alarm[]; steps: number; rules: string[] } {
  const m = new HealthMonitor(config); // rows by step: correct for every source
  m.apply(events);
  m.flush();
  return { alarms: m.alarms, steps: m.steps, rules: m.ruleIds };
}
