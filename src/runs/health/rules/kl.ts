// KL to the reference policy out of band, or accelerating. The KL penalty is what keeps PPO near the
// SFT model; a KL that runs away means the policy has left the region where the reward model can be
// trusted. Bands, in the units the run logs:
// - per-token mean KL (`ppo/kl_mean`; veRL's `actor/reward_kl_penalty`) above max_kl_mean 1.0 — ten
//   times veRL's default adaptive-controller target `algorithm.kl_ctrl.target_kl: 0.1`
//   (verl docs/examples/config.rst);
// - sequence KL (`ppo/kl_sum`; TRL's `objective/kl`, "the mean KL between the current policy and
//   reference policy", huggingface.co/docs/trl/ppo_trainer) above max_kl_sum 20 nats — about three
//   times the old TRL adaptive-KL target of 6 (`PPOConfig.target`, trl v0.4 docs);
// - below min_kl_sum −1: a clearly negative estimate means the sampler and the scorer disagree on
//   log-probs (generation settings or a bug), not a real divergence.
// Accelerating: over `window` steps, the slope of the second half exceeds accel_factor 3 × the first
// half's and the KL rose by at least a quarter of its band over the window.
import type { Finding, RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { Window, round, slope } from '../stats';

const DEFAULTS = { max_kl_mean: 1.0, max_kl_sum: 20, min_kl_sum: -1, window: 8, accel_factor: 3 };

export const klRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'kl',
  title: 'KL out of band or accelerating',
  severity: 'warning',
  defaults: DEFAULTS,
  create(p) {
    const windows = new Map<string, Window<{ step: number; kl: number }>>();
    const check = (key: string, label: string, max: number, step: number, kl: number): Finding | undefined => {
      if (kl > max) {
        return {
          step,
          message: `${label} is ${round(kl, 3)} at step ${step}, above the band's ${max}: the policy has drifted far from the reference model, where the reward model's scores stop meaning much.`,
          evidence: { kl: round(kl), max },
        };
      }
      let w = windows.get(key);
      if (!w) windows.set(key, (w = new Window(Math.max(4, Math.round(p.window)))));
      w.push({ step, kl });
      if (!w.full) return undefined;
      const half = w.items.length >> 1;
      const a = w.items.slice(0, half);
      const b = w.items.slice(half);
      const s1 = slope(
        a.map((x) => x.step),
        a.map((x) => x.kl),
      );
      const s2 = slope(
        b.map((x) => x.step),
        b.map((x) => x.kl),
      );
      const rise = kl - w.items[0].kl;
      if (s2 > 0 && s2 > p.accel_factor * Math.max(s1, 0) && rise >= max / 4) {
        return {
          step: b[0].step,
          message: `${label} is accelerating: its slope went from ${round(s1, 3)} to ${round(s2, 3)} per step around step ${b[0].step} (now ${round(kl, 3)}); at this pace it leaves the band (${max}) soon.`,
          evidence: { slopeBefore: round(s1), slopeAfter: round(s2), kl: round(kl), rise: round(rise), max },
        };
      }
      return undefined;
    };
    return {
      observe(row: StepRow) {
        const sum = row.values.get(KEYS.klSum);
        if (sum !== undefined && sum < p.min_kl_sum) {
          return {
            step: row.step,
            message: `Sequence KL is negative (${round(sum, 3)}) at step ${row.step}: the sampler's and the scorer's log-probs disagree (generation settings such as temperature/top-k, or a bug), so the KL penalty is rewarding drift.`,
            evidence: { kl: round(sum), min: p.min_kl_sum },
          };
        }
        const mean = row.values.get(KEYS.klMean);
        const fromMean = mean === undefined ? undefined : check(KEYS.klMean, 'Per-token KL', p.max_kl_mean, row.step, mean);
        if (fromMean) return fromMean;
        return sum === undefined ? undefined : check(KEYS.klSum, 'Sequence KL', p.max_kl_sum, row.step, sum);
      },
    };
  },
};
