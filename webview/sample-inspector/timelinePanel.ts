// "Follow this prompt": one prompt across the run's steps, as a small line chart of total and rm
// reward over steps and the list of its responses. A row opens that record; for the record the
// panel was opened from, each other row can be preferred over it, or it over them.
import type { LabelsState, TimelinePoint } from '../../src/protocol/webviews/sampleInspector';
import { button, el, svg } from '../shared/dom';
import { formatNumber } from './format';

export interface TimelineActions {
  go(point: TimelinePoint): void;
  prefer(a: number, b: number, preferred: 1 | 2 | null): void;
  close(): void;
}

const W = 300;
const H = 80;

export function timelinePanel(
  promptId: string,
  anchor: number,
  points: TimelinePoint[],
  labels: LabelsState,
  act: TimelineActions,
): HTMLElement {
  const panel = el('section', 'timeline');
  panel.setAttribute('aria-label', `Prompt ${promptId} across steps`);
  const head = el('div', 'timeline-head');
  head.append(el('span', 'timeline-title', `Prompt ${promptId}: ${points.length} response${points.length === 1 ? '' : 's'}`));
  const close = button('close', 'Close', 'Close the prompt panel (Escape)');
  close.addEventListener('click', () => act.close());
  head.append(close);
  panel.append(head, chart(points, act.go));

  const list = el('ol', 'timeline-list');
  for (const p of points) {
    const row = el('li', 'timeline-row');
    row.dataset.index = String(p.index);
    row.dataset.step = String(p.step);
    if (p.index === anchor) row.classList.add('anchor');
    const go = button('go', `step ${p.step}`, `Open record ${p.index} at step ${p.step}`);
    go.addEventListener('click', () => act.go(p));
    row.append(go);
    row.append(
      el(
        'span',
        'timeline-reward',
        `total ${formatNumber(p.reward.total)} · rm ${formatNumber(p.reward.rm)} · ${p.spans} span${p.spans === 1 ? '' : 's'}`,
      ),
    );
    row.append(el('span', 'timeline-response', p.response));
    if (p.index !== anchor) row.append(preference(anchor, p.index, labels, act));
    else row.append(el('span', 'anchor-note', 'this record'));
    list.append(row);
  }
  panel.append(list);
  return panel;
}

function preference(anchor: number, other: number, labels: LabelsState, act: TimelineActions): HTMLElement {
  const box = el('span', 'prefer');
  const pair = labels.pairs.find((p) => (p.a === anchor && p.b === other) || (p.a === other && p.b === anchor));
  if (pair) {
    const better = pair.preferred === 1 ? pair.a : pair.b;
    box.append(el('span', 'pair-state', better === other ? `preferred over #${anchor}` : `#${anchor} preferred`));
    const clear = button('clear-pref', 'Clear', `Clear the preference between #${anchor} and #${other}`);
    clear.addEventListener('click', () => act.prefer(pair.a, pair.b, null));
    box.append(clear);
    return box;
  }
  const thisOne = button('prefer-this', 'Prefer this one', `Prefer record ${other} over record ${anchor}`);
  thisOne.addEventListener('click', () => act.prefer(anchor, other, 2));
  const theOther = button('prefer-anchor', `Prefer #${anchor}`, `Prefer record ${anchor} over record ${other}`);
  theOther.addEventListener('click', () => act.prefer(anchor, other, 1));
  box.append(thisOne, theOther);
  return box;
}

/** total and rm over steps; a part a point lacks leaves a gap in its line. A dot opens its record (the list below is the keyboard way). */
function chart(points: TimelinePoint[], go: (p: TimelinePoint) => void): SVGSVGElement {
  const root = svg('svg', { class: 'timeline-chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  root.setAttribute('aria-label', 'Total (blue) and rm (orange) reward of this prompt over steps');
  const values = points.flatMap((p) => [p.reward.total, p.reward.rm]).filter((v): v is number => v !== undefined);
  if (points.length === 0 || values.length === 0) return root;
  const s0 = points[0].step;
  const s1 = points[points.length - 1].step;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const x = (step: number): number => (s1 === s0 ? W / 2 : ((step - s0) / (s1 - s0)) * (W - 8) + 4);
  const y = (v: number): number => H - 4 - ((v - lo) / (hi - lo)) * (H - 8);
  if (lo < 0 && hi > 0) root.append(svg('line', { class: 'zero', x1: 0, x2: W, y1: y(0), y2: y(0) }));
  for (const key of ['total', 'rm'] as const) {
    const pts = points.filter((p) => p.reward[key] !== undefined).map((p) => `${x(p.step)},${y(p.reward[key] as number)}`);
    if (pts.length === 0) continue;
    root.append(svg('polyline', { class: `line line-${key}`, points: pts.join(' ') }));
    for (const p of points) {
      const v = p.reward[key];
      if (v === undefined) continue;
      // A zero-length line with round caps: stays a round dot under the chart's stretched viewBox.
      const dot = svg('line', { class: `dot dot-${key}`, x1: x(p.step), x2: x(p.step), y1: y(v), y2: y(v) });
      const title = svg('title');
      title.textContent = `step ${p.step}: ${key} ${formatNumber(v)}`;
      dot.append(title);
      dot.addEventListener('click', () => go(p));
      root.append(dot);
    }
  }
  return root;
}
