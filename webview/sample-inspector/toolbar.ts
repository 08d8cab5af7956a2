// The inspector's controls: step scrubber (with "all steps"), sort key and direction, caption type,
// "hallucinated only", text search (debounced), label for new marks, compare and export buttons.
// It owns no query state: it reports changes and is told what to show.
import type { SampleFilter, SortKey } from '../../src/protocol/webviews/sampleInspector';
import { button, el } from '../shared/dom';

export interface ListQuery {
  /** The step shown; null: every step. */
  step: number | null;
  sort: SortKey;
  descending: boolean;
  filter: SampleFilter;
}

export interface ToolbarEvents {
  step(step: number | null): void;
  query(patch: Partial<Omit<ListQuery, 'step'>>): void;
  pickCompare(): void;
  exportPreferences(): void;
}

const SORTS: [SortKey, string][] = [
  ['index', 'file order'],
  ['total', 'total reward'],
  ['rm', 'rm score'],
  ['halluc', 'hallucinated spans'],
  ['length', 'response length'],
];

const SEARCH_DEBOUNCE_MS = 250;

export class Toolbar {
  readonly root: HTMLElement;
  readonly scrubber: HTMLInputElement;
  readonly labelInput: HTMLInputElement;
  private readonly stepOut: HTMLOutputElement;
  private readonly allSteps: HTMLInputElement;
  private readonly sort: HTMLSelectElement;
  private readonly direction: HTMLSelectElement;
  private readonly caption: HTMLSelectElement;
  private readonly hallucinated: HTMLInputElement;
  private readonly search: HTMLInputElement;
  private readonly compareBtn: HTMLButtonElement;
  private steps: number[] = [];
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly on: ToolbarEvents) {
    this.root = el('div', 'toolbar');
    this.root.setAttribute('role', 'toolbar');
    this.root.setAttribute('aria-label', 'Sample controls');

    const stepBox = el('div', 'step-box');
    this.scrubber = el('input', 'scrubber');
    this.scrubber.type = 'range';
    this.scrubber.min = '0';
    this.scrubber.step = '1';
    this.scrubber.setAttribute('aria-label', 'Step (← and → also move it)');
    this.scrubber.addEventListener('input', () => this.on.step(this.steps[Number(this.scrubber.value)] ?? null));
    this.stepOut = el('output', 'step-value');
    this.allSteps = el('input', 'all-steps');
    this.allSteps.type = 'checkbox';
    this.allSteps.addEventListener('change', () =>
      this.on.step(this.allSteps.checked ? null : (this.steps[Number(this.scrubber.value)] ?? null)),
    );
    stepBox.append(this.scrubber, this.stepOut, labelWrap(this.allSteps, 'all steps'));

    this.sort = select('sort', 'Sort by', SORTS);
    this.sort.addEventListener('change', () => this.on.query({ sort: this.sort.value as SortKey }));
    this.direction = select('direction', 'Sort direction', [
      ['asc', 'ascending'],
      ['desc', 'descending'],
    ]);
    this.direction.addEventListener('change', () => this.on.query({ descending: this.direction.value === 'desc' }));

    this.caption = select('caption', 'Caption type', [['', 'all caption types']]);
    this.caption.addEventListener('change', () => this.on.query({ filter: this.filter() }));
    this.hallucinated = el('input', 'hallucinated-only');
    this.hallucinated.type = 'checkbox';
    this.hallucinated.addEventListener('change', () => this.on.query({ filter: this.filter() }));
    this.search = el('input', 'search');
    this.search.type = 'search';
    this.search.placeholder = 'Search prompt, response, facts';
    this.search.setAttribute('aria-label', 'Search prompt, response and facts');
    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.on.query({ filter: this.filter() }), SEARCH_DEBOUNCE_MS);
    });

    this.labelInput = el('input', 'mark-label');
    this.labelInput.type = 'text';
    this.labelInput.value = 'object';
    this.labelInput.size = 10;
    this.labelInput.setAttribute('aria-label', 'Label for text you mark as hallucinated');

    this.compareBtn = button('compare', 'Compare with…', 'Compare with another run, side by side');
    this.compareBtn.addEventListener('click', () => this.on.pickCompare());
    const exportBtn = button('export', 'Export preferences', 'Export the preference pairs labelled so far');
    exportBtn.addEventListener('click', () => this.on.exportPreferences());

    const sortBox = el('div', 'group');
    sortBox.append(this.sort, this.direction);
    const filterBox = el('div', 'group');
    filterBox.append(this.caption, labelWrap(this.hallucinated, 'hallucinated only'), this.search);
    const labelBox = el('div', 'group');
    const markAs = el('label', 'mark-as');
    markAs.append(el('span', '', 'mark as'), this.labelInput);
    labelBox.append(markAs, this.compareBtn, exportBtn);
    this.root.append(stepBox, sortBox, filterBox, labelBox);
  }

  /** Shows the source's steps and caption types, and the query in force. */
  show(steps: number[], captionTypes: number[], q: ListQuery): void {
    this.steps = steps;
    this.scrubber.max = String(Math.max(0, steps.length - 1));
    this.scrubber.disabled = steps.length <= 1 || q.step === null;
    const at = q.step === null ? -1 : steps.indexOf(q.step);
    if (at >= 0) this.scrubber.value = String(at);
    this.allSteps.checked = q.step === null;
    this.allSteps.disabled = steps.length === 0;
    const text = q.step === null ? `all ${steps.length} steps` : `step ${q.step}`;
    this.stepOut.textContent = steps.length === 0 ? 'no steps' : text;
    this.scrubber.setAttribute('aria-valuetext', text);
    this.sort.value = q.sort;
    this.direction.value = q.descending ? 'desc' : 'asc';
    const wanted = ['', ...captionTypes.map(String)];
    const have = [...this.caption.options].map((o) => o.value);
    if (wanted.join() !== have.join()) {
      this.caption.replaceChildren(option('', 'all caption types'), ...captionTypes.map((t) => option(String(t), `caption type ${t}`)));
    }
    this.caption.value = q.filter.captionType === null ? '' : String(q.filter.captionType);
    this.hallucinated.checked = q.filter.hallucinatedOnly;
    if (document.activeElement !== this.search) this.search.value = q.filter.text;
  }

  setCompare(title: string | null): void {
    this.compareBtn.textContent = title === null ? 'Compare with…' : `Comparing: ${title}`;
    this.compareBtn.setAttribute('aria-pressed', String(title !== null));
  }

  private filter(): SampleFilter {
    const c = this.caption.value;
    return { captionType: c === '' ? null : Number(c), hallucinatedOnly: this.hallucinated.checked, text: this.search.value.trim() };
  }
}

function select(className: string, label: string, options: [string, string][]): HTMLSelectElement {
  const s = el('select', className);
  s.setAttribute('aria-label', label);
  for (const [value, text] of options) s.append(option(value, text));
  return s;
}

function option(value: string, text: string): HTMLOptionElement {
  const o = el('option', '', text);
  o.value = value;
  return o;
}

function labelWrap(input: HTMLInputElement, text: string): HTMLLabelElement {
  const l = el('label', 'check');
  l.append(input, el('span', '', text));
  return l;
}
