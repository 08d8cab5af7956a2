// Collapse: mean response length falling towards zero (the policy stops answering), or the policy's
// entropy collapsing (it stops exploring and repeats itself). TRL's logging guide lists entropy among
// the "key metrics to monitor … maximize entropy" and warns to act "when these diverge or collapse to 0"
// (huggingface.co/docs/trl/logging). Baselines are the mean of the first `baseline` points; the current
// level is the mean of the last `baseline` points.
// Defaults: baseline 3 points; length collapse when the current length ≤ length_ratio 0.25 × baseline
// or ≤ min_length 1 token (and below half the baseline: always-short answers are not a collapse); entropy collapse when ≤ entropy_ratio 0.2 × baseline.
import type { Finding, RuleDefinition, StepRow } from '../types';
import { KEYS } from '../types';
import { mean, round } from '../stats';

const DEFAULTS = { baseline: 3, length_ratio: 0.25, min_length: 1, entropy_ratio: 0.2 };

interface Track {
  first: number[];
  count: number;
  recent: { step: number; value: number }[];
  /** First step of the current stretch below half the baseline: where the fall began. */
  fallStart: number | undefined;
}

export const collapseRule: RuleDefinition<typeof DEFAULTS> = {
  id: 'collapse',
  title: 'Response length or entropy collapsing',
  severity: 'error',
  defaults: DEFAULTS,
  create(p) {
    const n = Math.max(1, Math.round(p.baseline));
    const tracks = new Map<string, Track>();
    const track = (key: string, step: number, value: number): { base: number; now: number; t: Track } | undefined => {
      let t = tracks.get(key);
      if (!t) tracks.set(key, (t = { first: [], count: 0, recent: [], fallStart: undefined }));
      t.count++;
      if (t.first.length < n) t.first.push(value);
      t.recent.push({ step, value });
      if (t.recent.length > n) t.recent.shift();
      const base = mean(t.first);
      if (value < base / 2) t.fallStart ??= step;
      else t.fallStart = undefined;
      // Judge only past the baseline points, so a run is never compared with itself alone.
      if (t.count <= n) return undefined;
      return { base, now: mean(t.recent.map((x) => x.value)), t };
    };
    return {
      observe(row: StepRow): Finding | undefined {
        const length = row.values.get(KEYS.length);
        if (length !== undefined) {
          const s = track(KEYS.length, row.step, length);
          if (s && (s.now <= p.length_ratio * s.base || (s.now <= p.min_length && s.now < s.base / 2))) {
            return {
              step: s.t.fallStart ?? row.step,
              message: `Mean response length fell from ${round(s.base, 3)} to ${round(s.now, 3)} tokens: the policy is collapsing towards empty answers (any reward it gains this way is not better answers).`,
              evidence: { baselineLength: round(s.base), currentLength: round(s.now), ratio: round(s.now / s.base, 3) },
            };
          }
        }
        const entropy = row.values.get(KEYS.entropy);
        if (entropy !== undefined) {
          const s = track(KEYS.entropy, row.step, entropy);
          if (s && s.base > 0 && s.now <= p.entropy_ratio * s.base) {
            return {
              step: s.t.fallStart ?? row.step,
              message: `Policy entropy fell from ${round(s.base, 3)} to ${round(s.now, 3)}: the policy has collapsed onto a few outputs and stopped exploring.`,
              evidence: { baselineEntropy: round(s.base), currentEntropy: round(s.now), ratio: round(s.now / s.base, 3) },
            };
          }
        }
        return undefined;
      },
    };
  },
};
