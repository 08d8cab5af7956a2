// The experiment form's page: one collapsible section per schema section, one row per field with
// its control (the UI kit's, from shared/toolkit.ts), where its value comes from, a reset, its
// range, reference value and docs, the derived figures that follow from it and the language
// server's diagnostics at it. Everything shown comes from the host; nothing here judges a value.
import type {
  EditParams,
  EditResult,
  FieldState,
  FormDerivedMessage,
  FormDiagnostic,
  FormDiagnosticsMessage,
  FormField,
  FormGroup,
  FormInitMessage,
  FormSection,
  FormValuesMessage,
  FormViewToHost,
  HostToFormView,
} from '../../src/protocol/webviews/experimentForm';
import { TOOLKIT_TAGS } from '../shared/toolkit';
import { displayValue, formatValue, parseInput, rangeText } from './fieldInput';

export interface FormHost {
  post(message: FormViewToHost): void;
  edit(params: EditParams): Promise<EditResult>;
  applyFix(diagnostic: number, fix: number): Promise<EditResult>;
}

interface FieldRow {
  field: FormField;
  row: HTMLElement;
  control: HTMLElement & { value?: string; checked?: boolean };
  origin: HTMLElement;
  reset: HTMLElement;
  derived: HTMLElement;
  problems: HTMLElement;
  error: HTMLElement;
  /** The user is typing in it: incoming values do not overwrite the text. */
  editing: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function custom(tag: string, attrs: Record<string, string> = {}): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** Fields built before the first paint (about two screens); the rest follow a section at a time. */
const FIRST_SCREEN_FIELDS = 30;

const SEVERITY_LABEL: Record<FormDiagnostic['severity'], string> = {
  error: 'Error',
  warning: 'Warning',
  information: 'Info',
  hint: 'Hint',
};

export class FormApp {
  private readonly rows = new Map<string, FieldRow>();
  private readonly groups = new Map<string, HTMLElement>();
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private readonly topProblems: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly memory: HTMLElement;
  private readonly status: HTMLElement;
  private values: Record<string, FieldState> = {};
  private version = 0;
  /** Bumped by each init: a section still being built for an older one stops. */
  private generation = 0;
  /** Every section's fields are built. */
  private complete = false;
  private lastValues: FormValuesMessage | undefined;
  private lastDiagnostics: FormDiagnosticsMessage | undefined;
  private lastDerived: FormDerivedMessage | undefined;

  constructor(
    root: HTMLElement,
    private readonly host: FormHost,
  ) {
    root.className = 'form';
    this.header = el('header', 'form-header');
    this.body = el('div', 'form-body');
    this.topProblems = el('ul', 'problems top-problems');
    this.summary = el('span', 'problem-count');
    this.memory = el('div', 'memory');
    this.memory.setAttribute('aria-live', 'polite');
    this.status = el('div', 'status');
    this.status.setAttribute('role', 'status');
    root.append(this.header, this.status, this.topProblems, this.memory, this.pipelineSlot(), this.body);
  }

  handle(m: HostToFormView): void {
    switch (m.type) {
      case 'init':
        this.init(m);
        return;
      case 'values':
        this.applyValues(m);
        return;
      case 'diagnostics':
        this.applyDiagnostics(m);
        return;
      case 'derived':
        this.applyDerived(m);
        return;
    }
  }

  /** The pipeline strip and launch panel (issue #10) go here when their messages land. */
  private pipelineSlot(): HTMLElement {
    const slot = el('section', 'pipeline-slot');
    slot.dataset.slot = 'pipeline';
    slot.hidden = true;
    return slot;
  }

  private rendered(what: 'init' | 'values' | 'diagnostics' | 'derived', atFields = 0): void {
    this.host.post({ type: 'rendered', what, version: this.version, fields: this.rows.size, atFields, at: performance.now() });
  }

  private init(m: FormInitMessage): void {
    this.rows.clear();
    this.groups.clear();
    this.header.replaceChildren();
    const title = el('h1', 'title', m.fileName);
    const asText = custom(TOOLKIT_TAGS.button, { appearance: 'secondary', title: 'Open this file in the text editor' });
    asText.textContent = 'Open as Text';
    asText.addEventListener('click', () => this.host.post({ type: 'openAsText' }));
    // For now the existing Start command on this file; the launch panel (backends, command preview) comes later.
    const launch = custom(TOOLKIT_TAGS.button, { title: 'Save and start the PPO stage on this config (Fact-RLHF: Start PPO)' });
    launch.textContent = 'Launch PPO';
    launch.className = 'launch';
    launch.addEventListener('click', () => this.host.post({ type: 'launch', stage: 'ppo' }));
    this.header.append(title, this.summary, launch, asText);
    const nav = el('nav', 'toc');
    nav.setAttribute('aria-label', 'Sections');
    const sections = m.sections.map((s) => this.section(s, m.readOnly));
    for (const s of m.sections) {
      const link = el('a', 'toc-link', s.title);
      link.href = `#section-${s.id}`;
      nav.append(link);
    }
    this.body.replaceChildren(nav, ...sections.map((x) => x.element));
    // The first screen's fields now; the rest a section per task, so the first paint does not wait
    // for fields far below it. `rendered: init` goes out once every field is there.
    const generation = ++this.generation;
    this.complete = false;
    let built = 0;
    const pending = [...sections];
    while (pending.length > 0 && built < FIRST_SCREEN_FIELDS) built += pending.shift()!.build();
    const next = (): void => {
      if (generation !== this.generation) return;
      const item = pending.shift();
      if (item) {
        item.build();
        setTimeout(next, 0);
        return;
      }
      this.complete = true;
      // Fields built after a message arrived get what it said.
      if (this.lastValues) this.applyValues(this.lastValues, false);
      if (this.lastDiagnostics) this.applyDiagnostics(this.lastDiagnostics, false);
      if (this.lastDerived) this.applyDerived(this.lastDerived, false);
      this.rendered('init');
    };
    setTimeout(next, 0);
  }

  private section(s: FormSection, readOnly: boolean): { element: HTMLElement; build(): number } {
    const details = el('details', 'section');
    details.open = true;
    details.id = `section-${s.id}`;
    details.dataset.section = s.id;
    const summary = el('summary', 'section-title', s.title);
    details.append(summary);
    if (s.description) details.append(el('p', 'section-doc', s.description));
    return {
      element: details,
      build: () => {
        const fragment = document.createDocumentFragment();
        for (const g of s.groups) fragment.append(this.group(s, g, readOnly));
        details.append(fragment);
        return s.groups.reduce((n, g) => n + g.fields.length, 0);
      },
    };
  }

  private group(s: FormSection, g: FormGroup, readOnly: boolean): HTMLElement {
    const box = el('div', 'group');
    box.dataset.group = g.id;
    if (g.id !== s.id && g.path.length > 1) {
      box.append(el('h3', 'group-title', g.path.slice(1).join('.')));
      if (g.description) box.append(el('p', 'group-doc', g.description));
    }
    const problems = el('ul', 'problems');
    box.append(problems);
    if (g.path.length > 0) this.groups.set(g.id, problems);
    for (const f of g.fields) box.append(this.fieldRow(f, readOnly));
    return box;
  }

  private fieldRow(f: FormField, readOnly: boolean): HTMLElement {
    const row = el('div', 'field');
    row.dataset.field = f.id;
    const id = `field-${f.id}`;
    const label = el('label', 'field-name', f.path[f.path.length - 1]);
    label.htmlFor = id;
    const control = this.control(f, id);
    if (readOnly) control.setAttribute('disabled', '');
    const origin = el('span', 'origin');
    const reset = custom(TOOLKIT_TAGS.button, {
      appearance: 'icon',
      title: `Reset ${f.id}: remove it from this file`,
      'aria-label': `Reset ${f.id}`,
    });
    reset.textContent = '↺';
    reset.className = 'reset';
    reset.addEventListener('click', () => void this.send(f.id, { field: f.id, op: 'reset' }));
    const meta = el('div', 'meta');
    const bits: string[] = [];
    const range = rangeText(f);
    if (range) bits.push(range);
    if (f.default !== undefined) bits.push(`default ${formatValue(f.default)}`);
    if (f.reference !== undefined) bits.push(`LLaVA-RLHF ${formatValue(f.reference)}`);
    if (f.aliases) bits.push(`alias ${f.aliases.join(', ')}`);
    if (bits.length) meta.append(el('span', 'facts', bits.join(' · ')));
    if (f.description) meta.append(el('span', 'doc', f.description));
    const derived = el('div', 'derived');
    const error = el('div', 'edit-error');
    error.setAttribute('role', 'alert');
    const problems = el('ul', 'problems');
    const line = el('div', 'field-line');
    line.append(label, control, origin, reset);
    row.append(line, meta, derived, error, problems);
    this.rows.set(f.id, { field: f, row, control, origin, reset, derived, problems, error, editing: false });
    return row;
  }

  private control(f: FormField, id: string): FieldRow['control'] {
    if (f.kind === 'boolean') {
      const box = custom(TOOLKIT_TAGS.checkbox, { id });
      box.addEventListener('change', () => {
        const checked = (box as HTMLElement & { checked: boolean }).checked;
        const current = this.values[f.id]?.value;
        if (current !== checked) void this.send(f.id, { field: f.id, op: 'set', value: checked });
      });
      return box;
    }
    if (f.kind === 'enum' && f.choices) {
      const dd = custom(TOOLKIT_TAGS.dropdown, { id });
      for (const c of f.choices) {
        const opt = custom(TOOLKIT_TAGS.option, { value: String(c) });
        opt.textContent = String(c);
        dd.append(opt);
      }
      dd.addEventListener('change', () => {
        const text = (dd as HTMLElement & { value: string }).value;
        if (text !== displayValue(f, this.values[f.id])) void this.send(f.id, { field: f.id, op: 'set', value: parseInput(f, text) });
      });
      return dd;
    }
    const input = custom(TOOLKIT_TAGS.textField, { id, 'aria-label': f.id });
    if (f.kind === 'list') input.setAttribute('placeholder', 'comma-separated');
    input.addEventListener('input', () => {
      const row = this.rows.get(f.id);
      if (row) row.editing = true;
    });
    // `change`: Enter or leaving the field; each keystroke would be one undo step in the text.
    input.addEventListener('change', () => {
      const row = this.rows.get(f.id);
      if (row) row.editing = false;
      const text = (input as HTMLElement & { value: string }).value;
      if (text === displayValue(f, this.values[f.id])) return;
      void this.send(f.id, { field: f.id, op: 'set', value: parseInput(f, text) });
    });
    return input;
  }

  private async send(field: string, params: EditParams): Promise<void> {
    const row = this.rows.get(field);
    if (row) row.error.textContent = '';
    try {
      const r = await this.host.edit(params);
      if (!r.applied && row) row.error.textContent = r.error ?? 'the edit was not applied';
    } catch (err) {
      if (row) row.error.textContent = (err as Error).message;
    }
  }

  private applyValues(m: FormValuesMessage, report = true): void {
    this.lastValues = m;
    this.version = m.version;
    if (m.parseError) {
      this.status.textContent = `The text cannot be read as YAML (${m.parseError}): the form shows the last readable state. Fix it in the text.`;
      this.status.className = 'status status-error';
      if (report) this.rendered('values');
      return;
    }
    this.status.textContent = '';
    this.status.className = 'status';
    this.values = m.values;
    for (const [id, row] of this.rows) {
      const state = m.values[id];
      this.showValue(row, state);
    }
    if (report) this.rendered('values');
  }

  private showValue(row: FieldRow, state: FieldState | undefined): void {
    const f = row.field;
    if (f.kind === 'boolean') row.control.checked = state?.value === true;
    else if (!row.editing) row.control.value = displayValue(f, state);
    const origin = state?.origin ?? { kind: 'unset' };
    row.row.dataset.origin = origin.kind;
    row.origin.textContent =
      origin.kind === 'file'
        ? `this file, line ${origin.line}`
        : origin.kind === 'parent'
          ? `from ${origin.name}`
          : origin.kind === 'default'
            ? 'default'
            : 'not set';
    row.origin.title = origin.kind === 'parent' ? origin.file : '';
    row.reset.hidden = origin.kind !== 'file';
  }

  private applyDiagnostics(m: FormDiagnosticsMessage, report = true): void {
    this.lastDiagnostics = m;
    for (const row of this.rows.values()) {
      row.problems.replaceChildren();
      delete row.row.dataset.severity;
    }
    for (const list of this.groups.values()) list.replaceChildren();
    this.topProblems.replaceChildren();
    let atFields = 0;
    const counts = { error: 0, warning: 0 };
    for (const d of m.items) {
      if (d.severity === 'error' || d.severity === 'warning') counts[d.severity]++;
      const row = d.field ? this.rows.get(d.field) : undefined;
      const group = d.field ? this.groups.get(d.field) : undefined;
      // A field not built yet gets it when its section is (the diagnostics are applied again then).
      if (d.field && !row && !group && !this.complete) continue;
      const list = row?.problems ?? group ?? this.topProblems;
      list.append(this.problem(d));
      if (row) {
        atFields++;
        const worst = row.row.dataset.severity;
        if (worst !== 'error') row.row.dataset.severity = d.severity;
      }
    }
    this.summary.textContent =
      counts.error + counts.warning === 0
        ? 'No problems'
        : `${counts.error} error${counts.error === 1 ? '' : 's'}, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}`;
    this.summary.dataset.state = counts.error > 0 ? 'error' : counts.warning > 0 ? 'warning' : 'ok';
    if (report) this.rendered('diagnostics', atFields);
  }

  private problem(d: FormDiagnostic): HTMLElement {
    const li = el('li', `problem problem-${d.severity}`);
    li.dataset.code = d.code;
    const where = d.inherited ? `${d.file.slice(d.file.lastIndexOf('/') + 1)}:${d.line}` : `line ${d.line}`;
    // A button: reachable with Tab, and Enter shows the line in the text editor.
    const jump = el('button', 'problem-jump');
    jump.type = 'button';
    jump.title = `Show ${where} in the text editor`;
    jump.append(el('span', 'severity', SEVERITY_LABEL[d.severity]), el('span', 'message', d.message), el('span', 'where', where));
    jump.addEventListener('click', () => this.host.post({ type: 'reveal', file: d.file, line: d.line, column: d.column }));
    li.append(jump);
    d.fixes.forEach((fix, i) => {
      const b = custom(TOOLKIT_TAGS.button, { appearance: 'secondary' });
      b.className = 'fix';
      b.textContent = fix.title;
      b.addEventListener('click', () => void this.host.applyFix(d.id, i));
      li.append(b);
    });
    return li;
  }

  private applyDerived(m: FormDerivedMessage, report = true): void {
    this.lastDerived = m;
    for (const row of this.rows.values()) row.derived.replaceChildren();
    for (const fig of m.figures) {
      const row = this.rows.get(fig.field);
      if (!row) continue;
      const span = el('span', 'figure', `→ ${fig.label.replace(/^→\s*/, '')}`);
      if (fig.detail) span.title = fig.detail;
      row.derived.append(span);
    }
    this.memory.replaceChildren();
    this.memory.dataset.verdict = m.verdict;
    const head = el('div', 'memory-head');
    head.append(el('strong', 'verdict', m.summary));
    this.memory.append(head);
    if (m.memory) {
      const details = el('details', 'memory-terms');
      details.append(el('summary', undefined, `Estimated PPO peak memory per GPU: ${m.memory.totalGiB.toFixed(1)} GiB`));
      const ul = el('ul');
      for (const t of m.memory.terms) ul.append(el('li', undefined, `${t.gib.toFixed(1)} GiB — ${t.label}`));
      details.append(ul);
      this.memory.append(details);
    }
    if (report) this.rendered('derived');
  }
}
