// One record as a card: image, prompt, facts, the response with its spans marked (or an editor for
// what-if scoring), the judge's verdict, the reward taken apart (bar + numbers), extra numbers, and,
// when a second run is chosen, that run's record for the same prompt beside it.
import type { InspectorRecord, RewardParts, ScoreResult, Span } from '../../src/protocol/webviews/sampleInspector';
import { button, el } from '../shared/dom';
import { formatNumber, MISSING, signed } from './format';
import { markedResponse } from './responseText';
import { rewardBar } from './rewardBar';
import { PART_TITLES, REWARD_PARTS } from './rewardParts';

/** The other run's record for this one's prompt: undefined while asked for. */
export interface CompareCell {
  title: string;
  step: number | null;
  record: InspectorRecord | null;
}

export interface EditState {
  text: string;
  result?: ScoreResult;
  error?: string;
  pending: boolean;
}

export interface CardModel {
  record: InspectorRecord;
  /** Row in the list, 0-based. */
  row: number;
  setSize: number;
  /** The human's spans for this record, replacing the judge's; undefined when it has none. */
  humanSpans: Span[] | undefined;
  /** Preference pairs this record is in: the other record, and whether this one is preferred. */
  pairs: { other: number; preferred: boolean }[];
  canScore: boolean;
  edit: EditState | undefined;
  /** Side by side: off (no second run), loading, or the other record. */
  compare: 'off' | 'loading' | CompareCell;
}

export interface CardActions {
  select(): void;
  follow(): void;
  /** Mark the text selected in this response. */
  markSelection(response: HTMLElement): void;
  clearSpans(start: number, end: number): void;
  /** Drop the human's spans of this record: the judge's show again. */
  restoreJudge(): void;
  toggleEdit(): void;
  editInput(text: string): void;
}

export interface Card {
  root: HTMLElement;
  bars: SVGSVGElement[];
  /** Where the what-if score is shown (present while editing). */
  scoreOut: HTMLElement | null;
}

export function recordCard(m: CardModel, act: CardActions): Card {
  const r = m.record;
  const root = el('article', 'card');
  root.dataset.index = String(r.index);
  root.dataset.row = String(m.row);
  root.setAttribute('aria-posinset', String(m.row + 1));
  root.setAttribute('aria-setsize', String(m.setSize));
  root.setAttribute('aria-label', `Record ${r.index}${r.step === null ? '' : `, step ${r.step}`}`);
  root.addEventListener('mousedown', () => act.select());
  const bars: SVGSVGElement[] = [];

  root.append(thumb(r));
  const main = el('div', 'card-main');
  root.append(main);

  const head = el('div', 'card-head');
  head.append(el('span', 'record-id', `#${r.index}`));
  head.append(el('span', 'meta', metaLine(r)));
  for (const p of m.pairs) {
    head.append(
      el('span', `badge pref ${p.preferred ? 'better' : 'worse'}`, p.preferred ? `preferred over #${p.other}` : `#${p.other} preferred`),
    );
  }
  const tools = el('span', 'card-tools');
  if (r.promptId !== null) {
    const follow = button('follow', 'Follow prompt', `Follow prompt ${r.promptId} across steps`);
    follow.addEventListener('click', () => act.follow());
    tools.append(follow);
  }
  const markBtn = button('mark', 'Mark selection', 'Mark the selected text of this response as hallucinated');
  tools.append(markBtn);
  if (m.canScore) {
    const edit = button('edit-score', m.edit ? 'Stop editing' : 'Edit & score', 'Edit this response and score it');
    edit.setAttribute('aria-pressed', String(m.edit !== undefined));
    edit.addEventListener('click', () => act.toggleEdit());
    tools.append(edit);
  }
  head.append(tools);
  main.append(head);

  main.append(labelled('prompt', 'Prompt', r.prompt ?? MISSING));

  const spans = m.humanSpans ?? r.hallucination?.spans ?? [];
  const source = m.humanSpans ? 'human' : 'judge';
  const body = el('div', 'response-block');
  body.append(el('div', 'field-label', 'Response'));
  let scoreOut: HTMLElement | null = null;
  let ignored = 0;
  if (m.edit) {
    const area = el('textarea', 'response-edit');
    area.value = m.edit.text;
    area.setAttribute('aria-label', `Edited response of record ${r.index} (scored as you type)`);
    area.addEventListener('input', () => act.editInput(area.value));
    body.append(area);
    scoreOut = el('div', 'score-out');
    scoreOut.setAttribute('aria-live', 'polite');
    showScore(scoreOut, m.edit);
    body.append(scoreOut);
  } else {
    const marked = markedResponse(r.response, spans, source, (a, b) => act.clearSpans(a, b));
    ignored = marked.ignored;
    markBtn.addEventListener('click', () => act.markSelection(marked.root));
    body.append(marked.root);
  }
  markBtn.disabled = m.edit !== undefined;
  main.append(body);
  const judged = verdict(r, m.humanSpans, ignored);
  if (m.humanSpans) {
    const restore = button('restore-judge', 'Use the judge’s spans', `Drop your spans of record ${r.index}; the judge's show again`);
    restore.addEventListener('click', () => act.restoreJudge());
    judged.append(' ', restore);
  }
  main.append(judged);

  const reward = rewardBlock(r.reward, r.advantage, `Reward of record ${r.index}`);
  bars.push(reward.bar);
  main.append(reward.root);
  const extra = Object.entries(r.extra);
  if (extra.length > 0) {
    const list = el('dl', 'extra');
    for (const [k, v] of extra) {
      const term = el('div', 'term');
      term.append(el('dt', '', k), el('dd', '', formatNumber(v)));
      list.append(term);
    }
    main.append(list);
  }
  // Facts last: the response and its reward are what a row is read for; long fact lists scroll.
  main.append(factsList(r.facts));

  if (m.compare !== 'off') {
    root.classList.add('with-compare');
    const side = compareSide(m.compare);
    if (side.bar) bars.push(side.bar);
    root.append(side.root);
  }
  return { root, bars, scoreOut };
}

export function showScore(out: HTMLElement, edit: EditState): void {
  out.classList.toggle('error', edit.error !== undefined);
  if (edit.error !== undefined) out.textContent = `Could not score: ${edit.error}`;
  else if (edit.result) {
    const { withFacts, withoutFacts } = edit.result;
    out.textContent = `with facts ${formatNumber(withFacts)} · without facts ${formatNumber(withoutFacts)} · difference ${signed(withFacts - withoutFacts)}`;
  } else out.textContent = edit.pending ? 'scoring…' : 'Type to score the edited response.';
}

function metaLine(r: InspectorRecord): string {
  const parts: string[] = [];
  parts.push(r.step === null ? 'step —' : `step ${r.step}`);
  if (r.captionType !== null) parts.push(`caption type ${r.captionType}`);
  if (r.promptId !== null) parts.push(r.promptId);
  return parts.join(' · ');
}

function thumb(r: InspectorRecord): HTMLElement {
  const box = el('div', 'thumb');
  if (r.image === null) {
    box.append(el('span', 'no-image', 'no image'));
    return box;
  }
  const img = el('img', 'record-image');
  img.alt = `Image of record ${r.index}`;
  img.decoding = 'async';
  img.src = r.image;
  img.addEventListener('error', () => box.replaceChildren(el('span', 'no-image', 'image not found')), { once: true });
  box.append(img);
  return box;
}

function labelled(className: string, label: string, text: string): HTMLElement {
  const block = el('div', className);
  block.append(el('span', 'field-label', label), el('span', 'field-text', text));
  return block;
}

function factsList(facts: string[] | null): HTMLElement {
  if (facts === null) return el('div', 'facts missing', 'facts: not in this file');
  const block = el('div', 'facts');
  block.append(el('span', 'field-label', `Facts (${facts.length})`));
  const list = el('ul', 'fact-list');
  for (const f of facts) list.append(el('li', '', f));
  block.append(list);
  return block;
}

function verdict(r: InspectorRecord, human: Span[] | undefined, ignored: number): HTMLElement {
  const v = el('div', 'verdict');
  const judge = r.hallucination;
  const parts: string[] = [];
  if (human) {
    v.classList.add('human');
    parts.push(`human: ${count(human.length)}`);
    if (judge) parts.push(`(judge ${judge.source}: ${count(judge.spans.length)})`);
  } else if (judge) parts.push(`${judge.source}: ${count(judge.spans.length)}`);
  else parts.push('no judgement');
  if (ignored > 0) parts.push(`· ${ignored} out of range, not shown`);
  v.textContent = parts.join(' ');
  return v;
}

const count = (n: number): string => `${n} span${n === 1 ? '' : 's'}`;

function rewardBlock(reward: RewardParts, advantage: number | null, label: string): { root: HTMLElement; bar: SVGSVGElement } {
  const root = el('div', 'reward');
  const bar = rewardBar(reward, label);
  root.append(bar);
  const nums = el('dl', 'reward-parts');
  const pair = (key: string, title: string, value: number | null | undefined): void => {
    // A <div> per term keeps each name with its number when the line wraps.
    const term = el('div', 'term');
    term.append(el('dt', `part-key part-${key}`, title), el('dd', `part-value value-${key}`, formatNumber(value)));
    nums.append(term);
  };
  for (const k of [...REWARD_PARTS, 'total' as const]) pair(k, PART_TITLES[k], reward[k]);
  pair('advantage', 'advantage', advantage);
  root.append(nums);
  return { root, bar };
}

function compareSide(c: 'loading' | CompareCell): { root: HTMLElement; bar: SVGSVGElement | null } {
  const side = el('div', 'compare-side');
  if (c === 'loading') {
    side.append(el('div', 'compare-head', 'other run…'));
    return { root: side, bar: null };
  }
  const where = c.step === null ? c.title : `${c.title} · step ${c.step}`;
  side.append(el('div', 'compare-head', where));
  if (!c.record) {
    side.append(el('div', 'compare-none', `no record of this prompt${c.step === null ? '' : ` at step ${c.step}`}`));
    return { root: side, bar: null };
  }
  const o = c.record;
  side.dataset.index = String(o.index);
  side.append(markedResponse(o.response, o.hallucination?.spans ?? [], 'judge').root);
  const reward = rewardBlock(o.reward, o.advantage, `Reward of the other run's record ${o.index}`);
  side.append(reward.root);
  return { root: side, bar: reward.bar };
}
