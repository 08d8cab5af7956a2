// PPO update statistics far from their healthy ranges, for `patience` consecutive steps:
// - probability ratio (`ppo/ratio`; TRL's `val/ratio`): TRL's PPO cookbook says it "should float
//   around 1.0, and it gets clipped by --cliprange 0.2 … if this ratio is too high like 2.0 or 1000.0 or
//   too small like 0.1, it means the updates between consecutive policies are too drastic"
//   (huggingface.co/docs/trl/ppo_trainer, Cookbook) → band [min_ratio 0.5, max_ratio 2.0];
// - clip fraction (`ppo/clipfrac`; TRL `policy/clipfrac_avg`, veRL `actor/pg_clipfrac`): with the usual
//   clip range 0.2 (TRL `cliprange`, veRL `actor.clip_ratio: 0.2`, verl docs/examples/config.rst) most
//   tokens should lie inside the trust region → max_clipfrac 0.3;
// - approximate KL between consecutive policies (`ppo/approx_kl`; TRL `policy/approxkl_avg`, veRL
//   `actor/ppo_kl`) → max_approx_kl 0.1, veRL's default KL target, as a ceiling per update.
// Default patience 3 steps: one noisy minibatch is not an alarm.
import type { RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { round } from '../stats';

const DEFAULTS = { min_ratio: 0.5, max_ratio: 2.0, max_clipfrac: 0.3, max_approx_kl: 0.1, patience: 3 };

export const ppoStabilityRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'ppo_stability',
  title: 'PPO ratio, clip fraction or approx-KL out of range',
  severity: 'warning',
  defaults: DEFAULTS,
  create(p) {
    const checks = [
      {
        key: KEYS.ratio,
        label: 'PPO probability ratio',
        bad: (x: number) => x < p.min_ratio || x > p.max_ratio,
        band: `[${p.min_ratio}, ${p.max_ratio}]`,
      },
      { key: KEYS.clipfrac, label: 'Clip fraction', bad: (x: number) => x > p.max_clipfrac, band: `≤ ${p.max_clipfrac}` },
      {
        key: KEYS.approxKl,
        label: 'Approximate KL between updates',
        bad: (x: number) => x > p.max_approx_kl,
        band: `≤ ${p.max_approx_kl}`,
      },
    ];
    const streaks = checks.map(() => ({ start: 0, count: 0, values: [] as number[] }));
    return {
      observe(row: StepRow) {
        for (let i = 0; i < checks.length; i++) {
          const c = checks[i];
          const v = row.values.get(c.key);
          if (v === undefined) continue;
          const s = streaks[i];
          if (!c.bad(v)) {
            s.count = 0;
            s.values = [];
            continue;
          }
          if (s.count === 0) s.start = row.step;
          s.count++;
          s.values.push(v);
          if (s.count >= Math.max(1, p.patience)) {
            return {
              step: s.start,
              message: `${c.label} stayed outside its healthy range ${c.band} for ${s.count} steps from step ${s.start} (latest ${round(v, 3)}): policy updates are too drastic — lower the learning rate or the PPO epochs, or check the advantages.`,
              evidence: {
                latest: round(v),
                steps: s.count,
                worst: round(
                  c.key === KEYS.ratio
                    ? s.values.reduce((a, b) => (Math.abs(Math.log(b)) > Math.abs(Math.log(a)) ? b : a))
                    : Math.max(...s.values),
                ),
              },
            };
          }
        }
        return undefined;
      },
    };
  },
};
