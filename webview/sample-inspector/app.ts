// The sample inspector: a virtualised list of one run's records (only the rows in or near the
// viewport are asked for and in the DOM), driven by a step scrubber, sort and filters; a panel that
// follows one prompt across steps; a second run side by side; human span labels and preference
// pairs; what-if scoring of an edited response. The host holds the records: this view asks for
// pages and keeps only those.
import type { MethodOf, ParamsOf, ResultOf } from '../../src/protocol/ipc';
import type {
  HostToSampleInspector,
  InspectorRecord,
  InspectorRenderedMessage,
  LabelsState,
  PickCompareRunMessage,
  SampleInspectorContract,
  SourceSummary,
  Span,
  TimelinePoint,
} from '../../src/protocol/webviews/sampleInspector';
import { MAX_PAGE } from '../../src/protocol/webviews/sampleInspector';
import { el } from '../shared/dom';
import { type Card, type CompareCell, type EditState, recordCard, showScore } from './recordCard';
import { RecordPages } from './recordPages';
import { setBarScale } from './rewardBar';
import { barExtent } from './rewardParts';
import { selectionOffsets } from './textSelection';
import { timelinePanel } from './timelinePanel';
import { type ListQuery, Toolbar } from './toolbar';
import { pagesFor, rowRange, scrollToShow } from './virtualWindow';

type C = SampleInspectorContract;

export interface InspectorHost {
  post(message: InspectorRenderedMessage | PickCompareRunMessage): void;
  request<M extends MethodOf<C>>(method: M, params: ParamsOf<C, M>, timeoutMs?: number): Promise<ResultOf<C, M>>;
  saveState(state: UiState): void;
}

/** What VS Code keeps for the view across hides and reloads. */
export interface UiState {
  query: ListQuery;
}

/** Every card has this height (px): the scroll height is rows × this, with no measuring. */
export const ROW_HEIGHT = 300;
/** Rows kept in the DOM beyond each edge of the viewport. */
const OVERSCAN = 2;
/** Records per `query` request. */
const PAGE_SIZE = 24;
const SCORE_DEBOUNCE_MS = 300;

const DEFAULT_QUERY: ListQuery = {
  step: null,
  sort: 'index',
  descending: false,
  filter: { captionType: null, hallucinatedOnly: false, text: '' },
};

interface ShownCard {
  index: number;
  key: string;
  card: Card;
}

interface Follow {
  promptId: string;
  anchor: number;
  points: TimelinePoint[];
}

export class InspectorApp {
  private summary: SourceSummary | null = null;
  private query: ListQuery;
  private readonly restored: boolean;
  private readonly pages: RecordPages;
  private queryGeneration = 0;
  private selected = 0;
  private readonly cards = new Map<number, ShownCard>();
  private labels: LabelsState = { spans: {}, pairs: [] };
  private labelsVersion = 0;
  private compareTitle: string | null = null;
  private compareGeneration = 0;
  private readonly compareCells = new Map<string, CompareCell>();
  private readonly compareAsked = new Set<string>();
  private readonly edits = new Map<number, EditState>();
  private readonly scoreTimers = new Map<number, ReturnType<typeof setTimeout>>();
  private follow: Follow | null = null;
  /** The last text selected inside a response: marking reads it (a click on the button may clear the live one). */
  private lastSelection: { container: HTMLElement; start: number; end: number } | null = null;
  private frame = 0;
  private renderPending = true;
  private scrollToSelected = false;
  /** The user asked for every step (not: there was no step yet to show). */
  private allStepsChosen = false;

  private readonly headEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly toolbar: Toolbar;
  private readonly listEl: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private readonly followEl: HTMLElement;

  constructor(
    root: HTMLElement,
    saved: Partial<UiState> | undefined,
    private readonly host: InspectorHost,
  ) {
    this.query = sanitizeQuery(saved?.query);
    this.restored = saved?.query !== undefined;
    this.pages = new RecordPages(
      PAGE_SIZE,
      (params) => this.host.request('query', params),
      () => {
        this.renderPending = true;
        this.schedule();
      },
      (e) => this.status(`Could not read the samples: ${e.message}`, true),
    );

    root.replaceChildren();
    root.classList.add('inspector');
    this.headEl = el('header', 'source');
    this.toolbar = new Toolbar({
      step: (step) => this.setStep(step),
      query: (patch) => {
        this.query = { ...this.query, ...patch };
        this.newQuery(false);
      },
      pickCompare: () => this.host.post({ type: 'pickCompareRun' }),
      exportPreferences: () => void this.exportPreferences(),
    });
    this.statusEl = el('div', 'status');
    this.statusEl.setAttribute('role', 'status');
    this.statusEl.hidden = true;

    this.listEl = el('div', 'list');
    this.listEl.tabIndex = 0;
    this.listEl.setAttribute('role', 'feed');
    this.listEl.setAttribute('aria-label', 'Samples (j and k move the selection, Enter follows its prompt)');
    this.listEl.style.setProperty('--row-height', `${ROW_HEIGHT}px`);
    this.spacer = el('div', 'spacer');
    this.emptyEl = el('div', 'empty', 'Waiting for the samples…');
    this.listEl.append(this.spacer, this.emptyEl);
    this.listEl.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.followEl = el('div', 'follow');
    this.followEl.hidden = true;

    const body = el('div', 'body');
    body.append(this.listEl, this.followEl);
    root.append(this.headEl, this.toolbar.root, this.statusEl, body);

    document.addEventListener('keydown', (e) => this.onKey(e));
    document.addEventListener('selectionchange', () => this.rememberSelection());
    window.addEventListener('resize', () => this.schedule());
  }

  handle(message: HostToSampleInspector): void {
    switch (message.type) {
      case 'summary':
        this.applySummary(message.summary);
        break;
      case 'reveal':
        this.setStep(this.nearestStep(message.step));
        break;
      case 'compareRun':
        this.compareTitle = message.title;
        this.compareGeneration++;
        this.compareCells.clear();
        this.compareAsked.clear();
        this.toolbar.setCompare(message.title);
        this.schedule();
        break;
      case 'labels':
        this.applyLabels(message.labels);
        break;
    }
  }

  // --- source and query --------------------------------------------------------------------

  private applySummary(s: SourceSummary): void {
    const first = this.summary === null;
    const grew = !first && (s.total !== this.summary?.total || s.steps.length !== this.summary.steps.length);
    this.summary = s;
    this.showHead(s);
    if (first) {
      const savedStep = this.restored && this.query.step !== null && s.steps.includes(this.query.step) ? this.query.step : undefined;
      const allSteps = this.restored && this.query.step === null;
      const step = allSteps ? null : (savedStep ?? (s.initialStep !== null ? this.nearestStep(s.initialStep) : (s.steps[0] ?? null)));
      this.allStepsChosen = allSteps;
      this.query = { ...this.query, step };
      this.newQuery(false);
    } else if (this.query.step === null && !this.allStepsChosen && s.steps.length > 0) {
      // Opened before the run wrote any step: its first step now exists, show it as usual.
      this.query = { ...this.query, step: s.steps[0] };
      this.newQuery(false);
    } else if (grew) {
      // A live run wrote more: ask again where we are, keeping the position and the records shown.
      this.newQuery(true);
    } else {
      this.showQuery();
    }
  }

  private setStep(step: number | null): void {
    this.allStepsChosen = step === null;
    if (step === this.query.step) return;
    this.query = { ...this.query, step };
    this.newQuery(false);
  }

  private nearestStep(step: number): number | null {
    const steps = this.summary?.steps ?? [];
    let best: number | null = null;
    for (const s of steps) if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s;
    return best;
  }

  /** The query changed (or the source grew, `keep`): start a new generation of pages. */
  private newQuery(keep: boolean): void {
    this.queryGeneration++;
    this.pages.reset(keep);
    this.renderPending = true;
    if (!keep) {
      this.selected = 0;
      this.listEl.scrollTop = 0;
      this.removeCards();
    }
    this.host.saveState({ query: this.query });
    this.showQuery();
    // Asked now rather than at the next frame: the first screen waits on this round trip.
    if (!keep) this.askFirstScreen();
    this.schedule();
  }

  /** Before the host said how many rows match: the pages of the first screen. */
  private askFirstScreen(): void {
    const rows = Math.ceil(this.listEl.clientHeight / ROW_HEIGHT) + OVERSCAN;
    this.pages.ensure(pagesFor(0, Math.max(1, rows), PAGE_SIZE), this.query);
  }

  private showQuery(): void {
    const s = this.summary;
    if (s) this.toolbar.show(s.steps, s.captionTypes, this.query);
  }

  private showHead(s: SourceSummary): void {
    const parts = [`${s.total.toLocaleString('en-US')} records`, `${s.steps.length} steps`, s.format];
    if (s.live) parts.push('live');
    if (s.corrupt > 0) parts.push(`${s.corrupt} corrupt line${s.corrupt === 1 ? '' : 's'} skipped`);
    this.headEl.replaceChildren(el('span', 'title', s.title), el('span', 'facts-line', parts.join(' · ')));
    this.headEl.title = s.path;
  }

  // --- drawing ------------------------------------------------------------------------------

  private schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    if (!this.summary) return;
    const matching = this.pages.matching;
    const viewport = this.listEl.clientHeight;
    if (matching === null) {
      this.askFirstScreen();
      return;
    }
    this.spacer.style.height = `${matching * ROW_HEIGHT}px`;
    this.emptyEl.hidden = matching > 0;
    this.emptyEl.textContent = this.summary.total === 0 ? 'No samples yet.' : 'No record matches the step and filters.';
    if (this.selected >= matching) this.selected = Math.max(0, matching - 1);
    if (this.scrollToSelected) {
      this.scrollToSelected = false;
      this.listEl.scrollTop = scrollToShow(this.selected, this.listEl.scrollTop, viewport, ROW_HEIGHT);
    }
    const range = rowRange(this.listEl.scrollTop, viewport, ROW_HEIGHT, matching, OVERSCAN);
    this.pages.ensure(pagesFor(range.first, range.end, PAGE_SIZE), this.query);

    let changed = false;
    let complete = true;
    let scale = 0;
    for (let row = range.first; row < range.end; row++) {
      const record = this.pages.get(row);
      if (!record) {
        complete = false;
        continue;
      }
      if (!this.pages.isFresh(row)) complete = false;
      const key = this.cardKey(record);
      let shown = this.cards.get(row);
      if (!shown || shown.key !== key) {
        const card = this.buildCard(record, row, matching);
        card.root.style.top = `${row * ROW_HEIGHT}px`;
        if (shown) shown.card.root.replaceWith(card.root);
        else this.listEl.insertBefore(card.root, this.nextCard(row, range.end));
        shown = { index: record.index, key, card };
        this.cards.set(row, shown);
        changed = true;
      }
      shown.card.root.classList.toggle('selected', row === this.selected);
      shown.card.root.setAttribute('aria-current', String(row === this.selected));
      scale = Math.max(scale, barExtent(record.reward));
      const other = this.compareCell(record);
      if (other && other.record) scale = Math.max(scale, barExtent(other.record.reward));
    }
    for (const [row, shown] of this.cards) {
      if (row >= range.first && row < range.end) continue;
      shown.card.root.remove();
      this.cards.delete(row);
      changed = true;
    }
    for (const shown of this.cards.values()) for (const bar of shown.card.bars) setBarScale(bar, scale);
    this.askCompare(range.first, range.end);

    if (complete && (changed || this.renderPending)) {
      this.renderPending = false;
      this.host.post({ type: 'rendered', step: this.query.step, first: range.first, shown: range.end - range.first, matching });
    }
  }

  /** The card of the first row after `row` in the DOM: rows stay in DOM order, so Tab follows the list. */
  private nextCard(row: number, end: number): HTMLElement | null {
    for (let r = row + 1; r < end; r++) {
      const shown = this.cards.get(r);
      if (shown) return shown.card.root;
    }
    return null;
  }

  private removeCards(): void {
    for (const shown of this.cards.values()) shown.card.root.remove();
    this.cards.clear();
  }

  /** Changes whenever what the card shows changes (selection is a class, not a rebuild). */
  private cardKey(r: InspectorRecord): string {
    const cell = this.compareCell(r);
    const compare = this.compareTitle === null ? 'off' : cell ? `${cell.step}:${cell.record?.index ?? '-'}` : 'loading';
    return `${r.index}|${this.labelsVersion}|${compare}|${this.edits.has(r.index) ? 'edit' : ''}|${this.summary?.canScore ? 1 : 0}`;
  }

  private buildCard(record: InspectorRecord, row: number, matching: number): Card {
    const index = record.index;
    return recordCard(
      {
        record,
        row,
        setSize: matching,
        humanSpans: this.labels.spans[String(index)],
        pairs: this.labels.pairs
          .filter((p) => p.a === index || p.b === index)
          .map((p) => {
            const other = p.a === index ? p.b : p.a;
            return { other, preferred: (p.preferred === 1 ? p.a : p.b) === index };
          }),
        canScore: this.summary?.canScore ?? false,
        edit: this.edits.get(index),
        compare: this.compareTitle === null ? 'off' : (this.compareCell(record) ?? 'loading'),
      },
      {
        select: () => this.select(row, false),
        follow: () => void this.openFollow(record),
        markSelection: (response) => void this.markSelection(record, response),
        restoreJudge: () => void this.saveSpans(record, null),
        clearSpans: (start, end) => void this.clearSpans(record, start, end),
        toggleEdit: () => this.toggleEdit(record),
        editInput: (text) => this.editInput(record, text),
      },
    );
  }

  // --- selection and keys -------------------------------------------------------------------

  /** `scroll`: bring the row into view (at the next draw, once the list's height is known). */
  private select(row: number, scroll: boolean): void {
    const matching = this.pages.matching;
    this.selected = Math.max(0, matching === null ? row : Math.min(matching - 1, row));
    this.scrollToSelected ||= scroll;
    this.renderPending = true;
    this.schedule();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target instanceof HTMLElement ? e.target : null;
    const typing = target !== null && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (e.key === 'Escape' && this.follow) {
      this.closeFollow();
      return;
    }
    // The scrubber moves itself on arrows; text fields keep their keys.
    if (typing) return;
    const onControl = target !== null && /^(BUTTON|MARK|A)$/.test(target.tagName);
    switch (e.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
        this.stepBy(e.key === 'ArrowLeft' ? -1 : 1);
        break;
      case 'j':
        this.select(this.selected + 1, true);
        break;
      case 'k':
        this.select(this.selected - 1, true);
        break;
      case 'Enter':
      case 'o': {
        if (onControl && e.key === 'Enter') return;
        const record = this.pages.get(this.selected);
        if (record) void this.openFollow(record);
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  }

  private stepBy(delta: number): void {
    const steps = this.summary?.steps ?? [];
    if (this.query.step === null || steps.length === 0) return;
    const at = steps.indexOf(this.query.step);
    const next = steps[Math.max(0, Math.min(steps.length - 1, at + delta))];
    this.setStep(next);
  }

  // --- follow one prompt --------------------------------------------------------------------

  private async openFollow(record: InspectorRecord): Promise<void> {
    if (record.promptId === null) {
      this.status(`Record #${record.index} has no prompt id: it cannot be followed.`, true);
      return;
    }
    try {
      const { points } = await this.host.request('timeline', { promptId: record.promptId });
      this.follow = { promptId: record.promptId, anchor: record.index, points };
      this.showFollow();
      this.followEl.querySelector<HTMLElement>('.timeline-row.anchor .go, .go')?.focus();
    } catch (e) {
      this.status(`Could not follow prompt ${record.promptId}: ${(e as Error).message}`, true);
    }
  }

  private showFollow(): void {
    const f = this.follow;
    this.followEl.hidden = f === null;
    if (!f) {
      this.followEl.replaceChildren();
      return;
    }
    this.followEl.replaceChildren(
      timelinePanel(f.promptId, f.anchor, f.points, this.labels, {
        go: (p) => void this.goTo(p),
        prefer: (a, b, preferred) => void this.prefer(a, b, preferred),
        close: () => this.closeFollow(),
      }),
    );
    this.schedule();
  }

  private closeFollow(): void {
    this.follow = null;
    this.showFollow();
    this.listEl.focus();
  }

  /** Shows one record of the timeline: its step, then its row in the list (paged through). */
  private async goTo(p: TimelinePoint): Promise<void> {
    if (this.query.step !== null) this.setStep(p.step);
    const generation = this.queryGeneration;
    try {
      for (let offset = 0; ; offset += MAX_PAGE) {
        const r = await this.host.request('query', { ...this.query, offset, limit: MAX_PAGE });
        if (generation !== this.queryGeneration) return;
        const at = r.records.findIndex((x) => x.index === p.index);
        if (at >= 0) {
          this.select(offset + at, true);
          return;
        }
        if (r.records.length === 0 || offset + r.records.length >= r.matching) {
          this.status(`Record #${p.index} (step ${p.step}) is hidden by the filters.`, false);
          return;
        }
      }
    } catch (e) {
      this.status(`Could not open record #${p.index}: ${(e as Error).message}`, true);
    }
  }

  // --- compare ------------------------------------------------------------------------------

  private compareCell(r: InspectorRecord): CompareCell | undefined {
    if (this.compareTitle === null) return undefined;
    if (r.promptId === null || r.step === null) return { title: this.compareTitle, step: null, record: null };
    return this.compareCells.get(compareKey(r.step, r.promptId));
  }

  /** Asks the host for the other run's records of the prompts on screen not yet asked for, by step. */
  private askCompare(first: number, end: number): void {
    if (this.compareTitle === null) return;
    const byStep = new Map<number, string[]>();
    for (let row = first; row < end; row++) {
      const r = this.pages.get(row);
      if (!r || r.promptId === null || r.step === null) continue;
      const key = compareKey(r.step, r.promptId);
      if (this.compareAsked.has(key)) continue;
      this.compareAsked.add(key);
      const ids = byStep.get(r.step) ?? [];
      ids.push(r.promptId);
      byStep.set(r.step, ids);
    }
    const generation = this.compareGeneration;
    for (const [step, promptIds] of byStep) {
      this.host.request('compare', { step, promptIds }).then(
        (result) => {
          if (generation !== this.compareGeneration) return;
          const title = result.title ?? this.compareTitle ?? '';
          promptIds.forEach((id, i) =>
            this.compareCells.set(compareKey(step, id), { title, step: result.step, record: result.records[i] ?? null }),
          );
          this.schedule();
        },
        (e: unknown) => this.status(`Could not read the other run: ${(e as Error).message}`, true),
      );
    }
  }

  // --- labels -------------------------------------------------------------------------------

  private applyLabels(labels: LabelsState): void {
    this.labels = labels;
    this.labelsVersion++;
    if (this.follow) this.showFollow();
    this.renderPending = true;
    this.schedule();
  }

  private rememberSelection(): void {
    const sel = window.getSelection();
    const anchor = sel?.anchorNode;
    const node = anchor instanceof Element ? anchor : anchor?.parentElement;
    const container = node?.closest<HTMLElement>('.card-main .response');
    if (!container || !sel) return;
    const at = selectionOffsets(container, sel);
    if (at) this.lastSelection = { container, start: at[0], end: at[1] };
  }

  /** The spans a human label starts from: the human's, else the judge's that can be placed (drawn ones). */
  private spansOf(r: InspectorRecord): Span[] {
    const human = this.labels.spans[String(r.index)];
    if (human) return human;
    const n = r.response.length;
    return (r.hallucination?.spans ?? []).filter(([start, end, label]) => start >= 0 && start < end && end <= n && label !== '');
  }

  private async markSelection(r: InspectorRecord, response: HTMLElement): Promise<void> {
    const live = selectionOffsets(response, window.getSelection());
    const at = live ?? (this.lastSelection?.container === response ? [this.lastSelection.start, this.lastSelection.end] : null);
    if (!at) {
      this.status(`Select some text of record #${r.index}'s response first, then mark it.`, false);
      return;
    }
    const label = this.toolbar.labelInput.value.trim() || 'object';
    const spans: Span[] = [...this.spansOf(r), [at[0], at[1], label] as Span].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.lastSelection = null;
    window.getSelection()?.removeAllRanges();
    await this.saveSpans(r, spans);
  }

  private async clearSpans(r: InspectorRecord, start: number, end: number): Promise<void> {
    await this.saveSpans(
      r,
      this.spansOf(r).filter((s) => !(s[0] < end && s[1] > start)),
    );
  }

  private async saveSpans(r: InspectorRecord, spans: Span[] | null): Promise<void> {
    try {
      const { labels } = await this.host.request('labelSpans', { index: r.index, spans });
      this.applyLabels(labels);
    } catch (e) {
      this.status(`Could not save the labels of record #${r.index}: ${(e as Error).message}`, true);
    }
  }

  private async prefer(a: number, b: number, preferred: 1 | 2 | null): Promise<void> {
    try {
      const { labels } = await this.host.request('labelPreference', { a, b, preferred });
      this.applyLabels(labels);
    } catch (e) {
      this.status(`Could not save the preference: ${(e as Error).message}`, true);
    }
  }

  private async exportPreferences(): Promise<void> {
    try {
      // The host shows a save dialog: it waits on the user.
      const r = await this.host.request('exportPreferences', {}, 10 * 60_000);
      this.status(
        r.path === null ? 'Export cancelled.' : `Exported ${r.pairs} preference pair${r.pairs === 1 ? '' : 's'} to ${r.path}.`,
        false,
      );
    } catch (e) {
      this.status(`Could not export the preferences: ${(e as Error).message}`, true);
    }
  }

  // --- what-if scoring ----------------------------------------------------------------------

  private toggleEdit(r: InspectorRecord): void {
    if (this.edits.has(r.index)) {
      this.edits.delete(r.index);
      clearTimeout(this.scoreTimers.get(r.index));
      this.scoreTimers.delete(r.index);
    } else this.edits.set(r.index, { text: r.response, pending: false });
    this.schedule();
  }

  private editInput(r: InspectorRecord, text: string): void {
    const edit = this.edits.get(r.index);
    if (!edit) return;
    edit.text = text;
    clearTimeout(this.scoreTimers.get(r.index));
    this.scoreTimers.set(
      r.index,
      setTimeout(() => void this.score(r.index, edit, text), SCORE_DEBOUNCE_MS),
    );
  }

  private async score(index: number, edit: EditState, text: string): Promise<void> {
    edit.pending = true;
    this.showScoreOf(index, edit);
    try {
      const result = await this.host.request('score', { index, response: text }, 60_000);
      if (edit.text !== text) return; // typed on since: a newer score is on its way
      edit.result = result;
      edit.error = undefined;
    } catch (e) {
      if (edit.text !== text) return;
      edit.error = (e as Error).message;
    }
    edit.pending = false;
    this.showScoreOf(index, edit);
  }

  private showScoreOf(index: number, edit: EditState): void {
    for (const shown of this.cards.values()) if (shown.index === index && shown.card.scoreOut) showScore(shown.card.scoreOut, edit);
  }

  private status(text: string, error: boolean): void {
    this.statusEl.hidden = false;
    this.statusEl.textContent = text;
    this.statusEl.classList.toggle('error', error);
  }
}

const compareKey = (step: number, promptId: string): string => `${step}\u0000${promptId}`;

/** A saved query from an older version or a damaged state: anything unknown falls back to the default. */
function sanitizeQuery(q: Partial<ListQuery> | undefined): ListQuery {
  if (!q || typeof q !== 'object') return DEFAULT_QUERY;
  const sorts = ['index', 'total', 'rm', 'halluc', 'length'];
  const f: Partial<ListQuery['filter']> = typeof q.filter === 'object' && q.filter !== null ? q.filter : {};
  return {
    step: Number.isInteger(q.step) ? (q.step as number) : null,
    sort: sorts.includes(q.sort as string) ? (q.sort as ListQuery['sort']) : 'index',
    descending: q.descending === true,
    filter: {
      captionType: Number.isInteger(f.captionType) ? (f.captionType as number) : null,
      hallucinatedOnly: f.hallucinatedOnly === true,
      text: typeof f.text === 'string' ? f.text : '',
    },
  };
}
