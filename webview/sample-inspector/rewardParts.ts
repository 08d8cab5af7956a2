// The reward's parts as the inspector takes it apart (schema/sample-record.schema.json `reward`),
// and how far their stacks reach from zero. No DOM: the bar (rewardBar.ts) and unit tests share it.
import type { RewardParts } from '../../src/protocol/webviews/sampleInspector';

/** The additive parts, in stacking order (total is their sum, drawn as a tick). */
export const REWARD_PARTS = ['rm', 'eos_penalty', 'length', 'symbolic', 'kl'] as const satisfies readonly (keyof RewardParts)[];

export const PART_TITLES: Record<keyof RewardParts, string> = {
  rm: 'rm',
  eos_penalty: 'eos penalty',
  length: 'length',
  symbolic: 'symbolic',
  kl: 'kl',
  total: 'total',
};

/** How far the bar reaches from zero either way: what the shared scale must cover. */
export function barExtent(reward: RewardParts): number {
  let pos = 0;
  let neg = 0;
  for (const k of REWARD_PARTS) {
    const v = reward[k];
    if (v === undefined) continue;
    if (v > 0) pos += v;
    else neg -= v;
  }
  return Math.max(pos, neg, Math.abs(reward.total ?? 0));
}
