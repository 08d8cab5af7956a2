// A fact-augmented reward model that does not read its facts. The trainer re-scores the held-out pairs
// with another image's facts (trainer/fact_rlhf/rm/facts_probe.py) and logs that accuracy as
// `rm/eval_accuracy_other_facts` beside `rm/eval_accuracy`: an RM that uses the facts loses accuracy,
// one that ignores them does not — and then Fact-RLHF's protection against hallucination is absent.
// Fires when the RM has learnt something (accuracy ≥ min_accuracy 0.6) but swapping the facts costs
// less than min_drop 0.05 of accuracy.
import type { RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { round } from '../stats';

const DEFAULTS = { min_accuracy: 0.6, min_drop: 0.05 };

export const rmIgnoresFactsRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'rm_ignores_facts',
  title: 'Reward model ignores its facts',
  severity: 'warning',
  defaults: DEFAULTS,
  create(p) {
    return {
      observe(row: StepRow) {
        const acc = row.values.get(KEYS.rmAccuracy);
        const other = row.values.get(KEYS.rmAccuracyOtherFacts);
        if (acc === undefined || other === undefined || acc < p.min_accuracy) return undefined;
        const drop = acc - other;
        if (drop >= p.min_drop) return undefined;
        return {
          step: row.step,
          message: `With another image's facts the reward model is still ${round(other * 100, 3)} % accurate (vs ${round(acc * 100, 3)} % with the right ones, a drop of ${round(drop * 100, 2)} points): it does not read the facts, so it cannot penalise hallucinations they contradict.`,
          evidence: { accuracy: round(acc), accuracyOtherFacts: round(other), drop: round(drop), minDrop: p.min_drop },
        };
      },
    };
  },
};
