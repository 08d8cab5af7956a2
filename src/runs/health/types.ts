// The training-health rule contract: a rule sees a run one step at a time (all of that step's
// finite values, plus the names of the keys that were null/NaN/±inf) and raises at most one alarm.
// Rules know only our metric keys (`group/name`); other trainers' names are mapped before they arrive
// (schema/metric-aliases.json), so the same rules watch TRL, veRL and our own runs.

export type Severity = 'error' | 'warning';

export interface Alarm {
  /** Rule id, also the key of its `monitor:` config section. */
  rule: string;
  severity: Severity;
  /** The step where the trouble began (may be earlier than the step it was detected at). */
  step: number;
  /** The step at which the rule had seen enough to be sure. */
  detectedAt: number;
  /** What happened and why it matters, one or two sentences. */
  message: string;
  /** The figures the decision rests on. */
  evidence: Record<string, number>;
}

/** One step of a run: finite values by key, and keys whose value was null or not finite. */
export interface StepRow {
  step: number;
  values: ReadonlyMap<string, number>;
  nonFinite: readonly string[];
}

export type Finding = Omit<Alarm, 'rule' | 'severity' | 'detectedAt'>;

/** A live rule: fed rows in step order; returns a finding once, the first time it fires. */
export interface RuleInstance {
  observe(row: StepRow): Finding | undefined;
}

export type RuleParams = Record<string, number>;

export interface RuleDefinition<P extends RuleParams = RuleParams> {
  id: string;
  title: string;
  severity: Severity;
  /** Default thresholds; each is settable as `monitor.<id>.<param>` in the experiment config. */
  defaults: P;
  create(params: P): RuleInstance;
}

/** Our metric keys the rules read (the trainer writes them: trainer/fact_rlhf/ppo/report.py, rm/train.py). */
export const KEYS = {
  reward: 'ppo/reward_total',
  scoreRm: 'ppo/score_rm',
  length: 'ppo/response_length',
  klSum: 'ppo/kl_sum',
  klMean: 'ppo/kl_mean',
  entropy: 'ppo/entropy',
  approxKl: 'ppo/approx_kl',
  clipfrac: 'ppo/clipfrac',
  /** Not written by our trainer; TRL's `val/ratio` maps to it. */
  ratio: 'ppo/ratio',
  valueLoss: 'ppo/value_loss',
  rmAccuracy: 'rm/eval_accuracy',
  rmAccuracyOtherFacts: 'rm/eval_accuracy_other_facts',
} as const;
