// NaN or ±inf in any metric. The trainer writes a non-finite float as null in events.jsonl
// (JSON has no NaN); TensorBoard stores the IEEE value itself. Either way the run has diverged or a
// loss term has broken: TRL's logging guide says the value loss "will spike / NaN when not going well"
// (huggingface.co/docs/trl/logging, "Training stability parameters"). No threshold: one is enough.
import type { RuleDefinition } from '../types';

export const nonFiniteRule: RuleDefinition<Record<string, never>> = {
  id: 'nan',
  title: 'NaN or infinite metric',
  severity: 'error',
  defaults: {},
  create: () => ({
    observe(row) {
      if (!row.nonFinite.length) return undefined;
      const keys = [...row.nonFinite].sort();
      return {
        step: row.step,
        message: `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} NaN or infinite at step ${row.step}: the run has diverged or a loss term broke; later steps cannot be trusted.`,
        evidence: { nonFiniteKeys: keys.length },
      };
    },
  }),
};
