// Reward hacking through length. Singhal et al. 2023, "A Long Way to Go: Investigating Length
// Correlations in RLHF" (arXiv:2310.03716) find that much of the reward PPO gains is explained by
// response length alone. Here, over a sliding window of steps: the correlation of reward with mean
// response length, and the share of the window's reward gain that length explains — the slope of
// reward on length times the length change, over the reward change. It fires when reward rises, length
// moved by a real amount, |correlation| ≥ min_correlation and share ≥ min_share. Length may move either
// way: growing answers (the paper's case) or shrinking ones (a length/EOS penalty gamed by answering
// nothing — the tiny demo's −17 → −1). KL over the window is reported beside it.
// Defaults: window 8 steps, min_correlation 0.7, min_share 0.5, min_length_change 0.1 (10 % of the
// window's mean length) — chosen so that 8 points of noise around a flat length do not fire.
import type { RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { Window, correlation, mean, slope, round } from '../stats';

const DEFAULTS = { window: 8, min_correlation: 0.7, min_share: 0.5, min_length_change: 0.1 };

export const rewardHackingRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'reward_hacking',
  title: 'Reward gained through response length',
  severity: 'warning',
  defaults: DEFAULTS,
  create(p) {
    const win = new Window<{ step: number; reward: number; length: number; kl: number | undefined }>(Math.max(3, p.window));
    return {
      observe(row: StepRow) {
        // The total when the run logs one; else the reward model's score (LLaVA-RLHF rollouts, some TRL logs).
        const reward = row.values.get(KEYS.reward) ?? row.values.get(KEYS.scoreRm);
        const length = row.values.get(KEYS.length);
        if (reward === undefined || length === undefined) return undefined;
        win.push({ step: row.step, reward, length, kl: row.values.get(KEYS.klSum) ?? row.values.get(KEYS.klMean) });
        if (!win.full) return undefined;
        const steps = win.items.map((x) => x.step);
        const rewards = win.items.map((x) => x.reward);
        const lengths = win.items.map((x) => x.length);
        const span = steps[steps.length - 1] - steps[0];
        // Changes along the fitted trends, not end-point differences (robust to one noisy step).
        const gain = slope(steps, rewards) * span;
        const lengthChange = slope(steps, lengths) * span;
        if (!(gain > 0)) return undefined;
        const meanLength = mean(lengths);
        if (Math.abs(lengthChange) < p.min_length_change * Math.max(meanLength, 1e-9)) return undefined;
        const r = correlation(lengths, rewards);
        const share = (slope(lengths, rewards) * lengthChange) / gain;
        if (Math.abs(r) < p.min_correlation || share < p.min_share) return undefined;
        const kls = win.items.map((x) => x.kl).filter((k): k is number => k !== undefined);
        const klChange = kls.length === win.items.length ? slope(steps, kls) * span : undefined;
        const direction = lengthChange > 0 ? 'longer' : 'shorter';
        const klText = klChange === undefined ? '' : klChange > 0 ? `; KL rose with it (+${round(klChange, 3)})` : '; KL did not rise';
        const evidence: Record<string, number> = {
          window: win.items.length,
          rewardGain: round(gain),
          lengthChange: round(lengthChange),
          correlation: round(r, 3),
          shareExplainedByLength: round(share, 3),
          meanLength: round(meanLength),
        };
        if (klChange !== undefined) evidence.klChange = round(klChange);
        return {
          step: steps[0],
          message: `Reward rose by ${round(gain, 3)} over steps ${steps[0]}–${row.step} while responses got ${direction} (${round(lengthChange, 3)} tokens; correlation ${round(r, 2)}); length alone explains ${Math.round(share * 100)} % of the gain${klText}. The policy is likely gaming a length-sensitive reward, not getting better.`,
          evidence,
        };
      },
    };
  },
};
