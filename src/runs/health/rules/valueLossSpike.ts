// Value-loss spikes. TRL's logging guide: "ppo/loss/value: The value function loss — will spike / NaN
// when not going well" (huggingface.co/docs/trl/logging). A spike is a value above factor 10 × the
// median of the previous `window` 8 values (at least min_points 4 of them); a critic that suddenly
// mispredicts returns feeds noise into every advantage.
import type { RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { Window, median, round } from '../stats';

const DEFAULTS = { factor: 10, window: 8, min_points: 4 };

export const valueLossSpikeRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'value_loss_spike',
  title: 'Value-loss spike',
  severity: 'warning',
  defaults: DEFAULTS,
  create(p) {
    const w = new Window<number>(Math.max(1, Math.round(p.window)));
    return {
      observe(row: StepRow) {
        const v = row.values.get(KEYS.valueLoss);
        if (v === undefined) return undefined;
        const before = median(w.items);
        const enough = w.items.length >= p.min_points;
        w.push(v);
        if (enough && Math.abs(v) > p.factor * Math.abs(before) && Math.abs(before) > 0) {
          return {
            step: row.step,
            message: `Value loss spiked to ${round(v, 3)} at step ${row.step}, ${round(Math.abs(v / before), 3)}× the median ${round(before, 3)} of the previous steps: the critic lost track of the returns, so advantages are noise.`,
            evidence: { valueLoss: round(v), previousMedian: round(before), factor: round(Math.abs(v / before), 3) },
          };
        }
        return undefined;
      },
    };
  },
};
