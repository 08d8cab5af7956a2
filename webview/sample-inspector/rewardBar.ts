// The reward taken apart as one diverging stacked bar (SVG): positive parts stack right of zero,
// negative parts left, each part its own colour; the total is a tick. Drawn in reward units, so
// one shared scale for every bar on screen is just each bar's viewBox (setBarScale).
import type { RewardParts } from '../../src/protocol/webviews/sampleInspector';
import { svg } from '../shared/dom';
import { formatNumber } from './format';
import { PART_TITLES, REWARD_PARTS } from './rewardParts';

const HEIGHT = 10;

export function rewardBar(reward: RewardParts, label: string): SVGSVGElement {
  const root = svg('svg', { class: 'reward-bar', preserveAspectRatio: 'none', role: 'img' });
  root.setAttribute('aria-label', `${label}: ${barDescription(reward)}`);
  let right = 0;
  let left = 0;
  for (const k of REWARD_PARTS) {
    const v = reward[k];
    if (v === undefined || v === 0) continue;
    const x = v > 0 ? right : left + v;
    if (v > 0) right += v;
    else left += v;
    const rect = svg('rect', { class: `part part-${k}`, x, y: 0, width: Math.abs(v), height: HEIGHT });
    const title = svg('title');
    title.textContent = `${PART_TITLES[k]} ${formatNumber(v)}`;
    rect.append(title);
    root.append(rect);
  }
  root.append(svg('line', { class: 'zero', x1: 0, x2: 0, y1: -2, y2: HEIGHT + 2 }));
  if (reward.total !== undefined) root.append(svg('line', { class: 'total', x1: reward.total, x2: reward.total, y1: -2, y2: HEIGHT + 2 }));
  setBarScale(root, 1);
  return root;
}

/** Maps ±scale reward units onto the bar's width. */
export function setBarScale(bar: SVGSVGElement, scale: number): void {
  const s = scale > 0 && Number.isFinite(scale) ? scale * 1.05 : 1;
  bar.setAttribute('viewBox', `${-s} -2 ${2 * s} ${HEIGHT + 4}`);
}

function barDescription(reward: RewardParts): string {
  return [...REWARD_PARTS, 'total' as const].map((k) => `${PART_TITLES[k]} ${formatNumber(reward[k])}`).join(', ');
}
