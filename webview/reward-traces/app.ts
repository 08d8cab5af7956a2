// The reward-trace view: a toolbar (smoothing, metric picker, x axis by step or wall time, zoom
// reset, CSV export), a legend with one status line per run (toggle, health alarms, what its config
// changes against the other shown runs), and one chart panel per metric (PNG export, alarm markers),
// all redrawn together once per animation frame.
import type {
  HostToTraceWebview,
  RunSummary,
  SaveExportParams,
  SaveExportResult,
  TraceAlarm,
  TraceWebviewToHost,
} from '../../src/protocol/webviews/rewardTraces';
import { PRIMARY_TRACE_KEYS } from '../../src/protocol/webviews/rewardTraces';
import { metricInfo, metricTitle, primaryMetricKeys } from '../../src/protocol/metrics';
import { phaseLabel } from '../../src/protocol';
import { ChartSync } from '../shared/charts/chartSync';
import type { ChartLine, ChartMarker, XAxisFormat } from '../shared/charts/lineChart';
import { LineChart } from '../shared/charts/lineChart';
import type { Theme } from '../shared/charts/theme';
import { readTheme, watchTheme } from '../shared/charts/theme';
import { formatDuration, formatValue } from '../shared/charts/ticks';
import { TraceStore, type RunState, type Track } from './store';
import { configDifferences, tracesCsv } from './exports';
import { el } from '../shared/dom';

/** UI state kept by VS Code across hides of the view. */
export interface UiState {
  smoothing: number;
  /** The panels the user chose; null: each shown stage's primary metrics (schema/metrics.json). */
  metrics: string[] | null;
  hiddenRuns: string[];
  /** x axis: training step, or wall time since each run's first point. */
  xAxis: XAxis;
}

export type XAxis = 'step' | 'wall';

export interface AppHost {
  post(message: TraceWebviewToHost): void;
  saveState(state: UiState): void;
  /** The host's save dialog and file write (webviews cannot write files). */
  saveExport(params: SaveExportParams): Promise<SaveExportResult>;
}

const DEFAULT_STATE: UiState = { smoothing: 0.6, metrics: null, hiddenRuns: [], xAxis: 'step' };

const WALL_FORMAT: XAxisFormat = {
  tick: (x) => formatDuration(x),
  point: (x) => `${formatDuration(x)} since start`,
};

const EMPTY_TEXT = 'No runs yet — run “Fact-RLHF: Start PPO” on a *.rlhf.yaml config.';

interface Panel {
  key: string;
  root: HTMLElement;
  chart: LineChart;
  latest: HTMLElement;
}

export class TraceApp {
  private readonly store = new TraceStore();
  private readonly sync: ChartSync;
  private state: UiState;
  private theme: Theme;
  /** Theme colour of warning alarms (the chart theme has error, not warning). */
  private warningColor = readWarningColor();
  private readonly panels = new Map<string, Panel>();
  private readonly colorIndex = new Map<string, number>();
  private frame = 0;
  private dataChanged = false;

  private readonly runsEl: HTMLElement;
  private readonly panelsEl: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private readonly picker: HTMLSelectElement;
  private readonly slider: HTMLInputElement;
  private readonly sliderOut: HTMLOutputElement;
  private readonly resetBtn: HTMLButtonElement;
  private readonly axisSelect: HTMLSelectElement;
  private readonly csvBtn: HTMLButtonElement;
  private readonly exportStatus: HTMLElement;

  constructor(
    root: HTMLElement,
    saved: Partial<UiState> | undefined,
    private readonly host: AppHost,
  ) {
    this.state = sanitizeState(saved);
    this.sync = new ChartSync(() => this.schedule());
    this.theme = readTheme();

    root.replaceChildren();
    root.classList.add('traces');
    const toolbar = el('div', 'toolbar');
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'Chart controls');

    const smoothing = el('label', 'smoothing');
    smoothing.append(el('span', 'label', 'Smoothing'));
    this.slider = document.createElement('input');
    this.slider.type = 'range';
    this.slider.min = '0';
    this.slider.max = '0.99';
    this.slider.step = '0.01';
    this.slider.value = String(this.state.smoothing);
    this.slider.setAttribute('aria-label', 'Smoothing (exponential moving average weight)');
    this.sliderOut = document.createElement('output');
    this.sliderOut.className = 'smoothing-value';
    this.sliderOut.textContent = this.state.smoothing.toFixed(2);
    smoothing.append(this.slider, this.sliderOut);
    this.slider.addEventListener('input', () => {
      this.state.smoothing = Number(this.slider.value);
      this.sliderOut.textContent = this.state.smoothing.toFixed(2);
      this.saveState();
      this.schedule();
    });

    this.picker = document.createElement('select');
    this.picker.className = 'picker';
    this.picker.setAttribute('aria-label', 'Add a chart for another metric');
    this.picker.addEventListener('change', () => {
      const key = this.picker.value;
      if (key && !this.shownMetrics().includes(key)) {
        this.state.metrics = [...this.shownMetrics(), key];
        this.saveState();
        this.syncPanels();
        this.schedule();
      }
      this.picker.value = '';
    });

    this.resetBtn = el('button', 'reset', 'Reset zoom') as HTMLButtonElement;
    this.resetBtn.type = 'button';
    this.resetBtn.title = 'Show all steps (or double-click a chart)';
    this.resetBtn.addEventListener('click', () => this.sync.reset());

    this.axisSelect = document.createElement('select');
    this.axisSelect.className = 'x-axis';
    this.axisSelect.setAttribute('aria-label', 'X axis');
    for (const [value, text] of [
      ['step', 'x: step'],
      ['wall', 'x: wall time'],
    ] as const) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      this.axisSelect.append(o);
    }
    this.axisSelect.value = this.state.xAxis;
    this.axisSelect.addEventListener('change', () => {
      this.state.xAxis = this.axisSelect.value === 'wall' ? 'wall' : 'step';
      // Zoom is in the old axis's units: start the new axis from everything.
      this.sync.view = null;
      this.sync.selected = null;
      this.saveState();
      this.schedule();
    });

    this.csvBtn = el('button', 'export-csv', 'Export CSV') as HTMLButtonElement;
    this.csvBtn.type = 'button';
    this.csvBtn.title = 'Save the shown runs and metrics, in the visible range, as CSV';
    this.csvBtn.addEventListener('click', () => void this.exportCsv());
    this.exportStatus = el('span', 'export-status');
    this.exportStatus.setAttribute('role', 'status');
    toolbar.append(smoothing, this.picker, this.axisSelect, this.resetBtn, this.csvBtn, this.exportStatus);

    this.runsEl = el('section', 'runs');
    this.runsEl.setAttribute('aria-label', 'Runs');
    this.emptyEl = el('p', 'empty', EMPTY_TEXT);
    this.panelsEl = el('div', 'panels');
    const hint = el('p', 'hint', 'Scroll to zoom · drag to pan · double-click to reset · click a point to open that step’s samples');
    root.append(toolbar, this.runsEl, this.emptyEl, this.panelsEl, hint);

    watchTheme((t) => {
      this.theme = t;
      this.warningColor = readWarningColor();
      this.renderRuns();
      this.schedule();
    });
    this.syncPanels();
    this.renderRuns();
    this.schedule();
  }

  handle(msg: HostToTraceWebview): void {
    switch (msg.type) {
      case 'snapshot':
        this.store.applySnapshot(msg.runs);
        this.sync.view = null;
        this.colorIndex.clear(); // colours follow the snapshot's order
        break;
      case 'delta':
        this.store.applyDelta(msg);
        break;
      case 'status':
        this.store.applyStatus(msg.run);
        break;
      case 'alarms':
        this.store.applyAlarms(msg.runId, msg.alarms);
        break;
      default:
        return;
    }
    for (const id of this.store.runs.keys()) if (!this.colorIndex.has(id)) this.colorIndex.set(id, this.colorIndex.size);
    this.dataChanged = true;
    this.renderRuns();
    this.syncPanels();
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The track a chart draws for the current x axis (undefined: nothing to draw on that axis). */
  private drawnTrack(track: Track | undefined): Track | undefined {
    return this.state.xAxis === 'wall' && track ? this.store.wallTrack(track) : track;
  }

  private draw(): void {
    this.updateDataRange();
    const weight = this.state.smoothing;
    const hidden = new Set(this.state.hiddenRuns);
    const wall = this.state.xAxis === 'wall';
    for (const panel of this.panels.values()) {
      const lines: ChartLine[] = [];
      const markers: ChartMarker[] = [];
      for (const [runId, run] of this.store.runs) {
        if (hidden.has(runId)) continue;
        const raw = run.tracks.get(panel.key);
        const track = this.drawnTrack(raw);
        if (!raw || !track) continue;
        lines.push({ id: runId, label: runLabel(run.summary), color: this.colorOf(runId), ...this.store.prepare(track, weight) });
        for (const a of run.alarms) {
          const x = wall ? wallTimeAtStep(raw, a.step) : a.step;
          if (x !== undefined)
            markers.push({ x, label: `⚠ ${a.rule} @ ${a.step}`, color: a.severity === 'error' ? this.theme.error : this.warningColor });
        }
      }
      panel.chart.setLines(lines);
      panel.chart.setMarkers(markers);
      panel.chart.setXFormat(wall ? WALL_FORMAT : null);
      panel.chart.draw(this.theme);
      this.renderLatest(panel, lines);
    }
    this.resetBtn.disabled = this.sync.view === null;
    if (this.dataChanged) {
      this.dataChanged = false;
      this.host.post({ type: 'rendered', runs: this.store.runs.size, points: this.store.totalPoints() });
    }
  }

  private updateDataRange(): void {
    let min = Infinity;
    let max = -Infinity;
    const hidden = new Set(this.state.hiddenRuns);
    for (const [runId, run] of this.store.runs) {
      if (hidden.has(runId)) continue;
      for (const key of this.shownMetrics()) {
        const s = this.drawnTrack(run.tracks.get(key))?.series;
        if (!s || s.length === 0) continue;
        min = Math.min(min, s.steps[0]);
        max = Math.max(max, s.lastStep());
      }
    }
    this.sync.dataRange = min <= max ? { min, max } : null;
  }

  private colorOf(runId: string): string {
    const p = this.theme.palette;
    return p[(this.colorIndex.get(runId) ?? 0) % p.length];
  }

  private saveState(): void {
    this.host.saveState({ ...this.state, metrics: this.state.metrics && [...this.state.metrics], hiddenRuns: [...this.state.hiddenRuns] });
  }

  /** The panels shown: the user's choice, else the primary metrics of every stage in view
   * (an SFT run opens on its loss, not on PPO's reward), PPO's before any run arrives. */
  private shownMetrics(): string[] {
    if (this.state.metrics) return this.state.metrics;
    const keys: string[] = [];
    for (const run of this.store.runs.values()) {
      for (const k of primaryMetricKeys(run.summary.stage as Parameters<typeof primaryMetricKeys>[0])) if (!keys.includes(k)) keys.push(k);
    }
    return keys.length ? keys : [...PRIMARY_TRACE_KEYS];
  }

  // --- export ------------------------------------------------------------------------------

  private async exportCsv(): Promise<void> {
    const hidden = new Set(this.state.hiddenRuns);
    const runs = [...this.store.runs].filter(([id]) => !hidden.has(id));
    const csv = tracesCsv({
      runs,
      metrics: this.shownMetrics(),
      xAxis: this.state.xAxis,
      range: this.sync.domain(),
      smoothing: this.state.smoothing,
      prepare: (t) => this.store.prepare(t, this.state.smoothing),
      wallTrack: (t) => this.store.wallTrack(t),
    });
    await this.save({ format: 'csv', suggestedName: 'reward-traces.csv', data: csv });
  }

  private async exportPng(panel: Panel): Promise<void> {
    panel.chart.draw(this.theme); // the pixels as they are now, not a frame behind
    await this.save({ format: 'png', suggestedName: `${panel.key.replace(/[^A-Za-z0-9_-]+/g, '-')}.png`, data: panel.chart.toPngBase64() });
  }

  private async save(params: SaveExportParams): Promise<void> {
    try {
      const r = await this.host.saveExport(params);
      this.exportStatus.textContent = r.saved ? `Saved ${r.path ?? params.suggestedName}` : '';
    } catch (err) {
      this.exportStatus.textContent = `Export failed: ${(err as Error).message}`;
    }
  }

  // --- panels -------------------------------------------------------------------------------

  private syncPanels(): void {
    const shown = this.shownMetrics();
    for (const [key, panel] of this.panels) {
      if (!shown.includes(key)) {
        panel.chart.destroy();
        panel.root.remove();
        this.panels.delete(key);
      }
    }
    for (const key of shown) {
      let panel = this.panels.get(key);
      if (!panel) panel = this.createPanel(key);
      this.panelsEl.append(panel.root); // keeps the order of state.metrics
    }
    const hasRuns = this.store.runs.size > 0;
    this.emptyEl.hidden = hasRuns;
    this.panelsEl.hidden = !hasRuns;
    this.renderPicker();
  }

  private createPanel(key: string): Panel {
    const root = el('section', 'panel');
    root.dataset.metric = key;
    const head = el('header', 'panel-head');
    const titles = el('div', 'panel-titles');
    // Titles come from the metrics catalogue (schema/metrics.json); unknown keys show the key.
    const friendly = metricTitle(key);
    const title = el('h2', 'panel-title', friendly ?? key);
    title.id = `title-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    titles.append(title);
    if (friendly) titles.append(el('span', 'panel-key', key));
    const latest = el('div', 'panel-latest');
    const remove = el('button', 'panel-remove', '×') as HTMLButtonElement;
    remove.type = 'button';
    remove.title = `Remove the ${key} chart`;
    remove.setAttribute('aria-label', `Remove the ${key} chart`);
    remove.addEventListener('click', () => {
      this.state.metrics = this.shownMetrics().filter((k) => k !== key);
      this.saveState();
      this.syncPanels();
      this.schedule();
    });
    const png = el('button', 'panel-png', 'PNG') as HTMLButtonElement;
    png.type = 'button';
    png.title = `Save the ${key} chart as a PNG image`;
    png.setAttribute('aria-label', `Save the ${key} chart as a PNG image`);
    png.addEventListener('click', () => {
      const p = this.panels.get(key);
      if (p) void this.exportPng(p);
    });
    head.append(titles, latest, png, remove);
    root.append(head);
    const info = metricInfo(key);
    const chart = new LineChart(root, {
      title: friendly ? `${friendly} (${key})` : key,
      // Axis titles from the catalogue, with the unit; PPO's steps are iterations.
      yTitle: `${info?.label ?? friendly ?? key}${info?.unit ? ` (${info.unit})` : ''}`,
      xTitle: key.startsWith('ppo/') ? 'PPO iteration' : 'step',
      sync: this.sync,
      onSelect: (runId, x) => {
        // On the wall-time axis the chart reports seconds: the host wants the point's step.
        const step = this.state.xAxis === 'wall' ? stepAtWallTime(this.store.runs.get(runId)?.tracks.get(key), x) : x;
        if (step !== undefined) this.host.post({ type: 'selectStep', runId, step });
      },
    });
    const panel: Panel = { key, root, chart, latest };
    this.panels.set(key, panel);
    return panel;
  }

  /** Latest value of each run in the panel header (smoothed when smoothing is on). */
  private renderLatest(panel: Panel, lines: ChartLine[]): void {
    const items = lines
      .filter((l) => l.series.length > 0)
      .map((l) => {
        const n = l.series.length;
        return { line: l, text: formatValue(l.smoothed ? l.smoothed[n - 1] : l.series.lastValue()) };
      });
    // Runs every frame (pan, hover): touch the DOM only when something shown changed.
    const key = items.map((i) => `${i.line.color} ${i.text}`).join('|');
    if (panel.latest.dataset.key === key) return;
    panel.latest.dataset.key = key;
    panel.latest.replaceChildren(
      ...items.map(({ line, text }) => {
        const item = el('span', 'latest-item');
        item.title = `${line.label}: latest ${line.smoothed ? 'smoothed ' : ''}value, step ${line.series.lastStep()}`;
        const sw = el('span', 'swatch');
        sw.style.backgroundColor = line.color;
        item.append(sw, document.createTextNode(text));
        return item;
      }),
    );
  }

  private renderPicker(): void {
    const shown = new Set(this.shownMetrics());
    const available = this.store.keys().filter((k) => !shown.has(k));
    const placeholder = document.createElement('option');
    placeholder.value = '';
    placeholder.textContent = available.length ? 'Add metric…' : 'No other metrics';
    const groups = new Map<string, HTMLOptGroupElement>();
    for (const key of available) {
      const group = key.includes('/') ? key.slice(0, key.indexOf('/')) : 'other';
      let g = groups.get(group);
      if (!g) {
        g = document.createElement('optgroup');
        g.label = group;
        groups.set(group, g);
      }
      const o = document.createElement('option');
      o.value = key;
      o.textContent = key;
      g.append(o);
    }
    this.picker.replaceChildren(placeholder, ...groups.values());
    this.picker.disabled = available.length === 0;
    this.picker.value = '';
  }

  // --- runs legend / status -------------------------------------------------------------------

  private addAlarms(row: HTMLElement, run: RunState): void {
    if (run.alarms.length === 0) return;
    const worst = run.alarms.some((a) => a.severity === 'error') ? 'error' : 'warning';
    const badge = el('span', `alarm-badge alarm-${worst}`, `⚠ ${run.alarms.length}`);
    badge.title = run.alarms.map(alarmTitle).join('\n');
    badge.setAttribute('aria-label', `${run.alarms.length} health alarm${run.alarms.length === 1 ? '' : 's'}`);
    row.querySelector('.run-line')?.append(badge);
    const list = el('ul', 'run-alarms');
    for (const a of run.alarms) {
      const item = el('li', `run-alarm alarm-${a.severity}`);
      item.dataset.rule = a.rule;
      item.dataset.step = String(a.step);
      // Same as a click on the chart at that step: the host opens the samples there.
      const open = el('button', 'run-alarm-open', `${a.rule} from step ${a.step}`) as HTMLButtonElement;
      open.type = 'button';
      open.title = `${alarmTitle(a)}\nClick to show the samples at step ${a.step}.`;
      open.addEventListener('click', () => this.host.post({ type: 'selectStep', runId: run.summary.runId, step: a.step }));
      item.append(open);
      list.append(item);
    }
    row.append(list);
  }

  private renderRuns(): void {
    const rows: HTMLElement[] = [];
    const hidden = new Set(this.state.hiddenRuns);
    // What each shown run's config changes against the other shown runs (two or more overlaid).
    const shown = [...this.store.runs.values()].filter((r) => !hidden.has(r.summary.runId) && r.summary.config);
    const diff = shown.length >= 2 ? configDifferences(shown.map((r) => r.summary.config ?? {})) : [];
    for (const [runId, run] of this.store.runs) {
      const row = this.runRow(runId, run.summary, hidden.has(runId));
      this.addAlarms(row, run);
      if (diff.length && !hidden.has(runId) && run.summary.config) addConfigDiff(row, diff, run.summary.config);
      rows.push(row);
    }
    // Rows are rebuilt on every status/progress change: put keyboard focus back where it was.
    const focused = document.activeElement?.closest<HTMLElement>('.run')?.dataset.runId;
    this.runsEl.replaceChildren(...rows);
    if (focused !== undefined)
      rows
        .find((r) => r.dataset.runId === focused)
        ?.querySelector<HTMLElement>('.run-toggle')
        ?.focus();
    this.runsEl.hidden = rows.length === 0;
  }

  private runRow(runId: string, s: RunSummary, isHidden: boolean): HTMLElement {
    const row = el('div', 'run');
    row.dataset.runId = runId;
    row.dataset.status = s.status;
    const toggle = el('button', 'run-toggle') as HTMLButtonElement;
    toggle.type = 'button';
    toggle.setAttribute('aria-pressed', String(!isHidden));
    toggle.title = `${isHidden ? 'Show' : 'Hide'} ${runLabel(s)} (${runId}) ${isHidden ? 'in' : 'from'} the charts`;
    const sw = el('span', 'swatch');
    sw.style.backgroundColor = this.colorOf(runId);
    // The config's name and what sets this run apart; the folder name stays in the tooltip.
    const name = el('span', 'run-name', s.name ?? runId);
    toggle.append(sw, name);
    if (s.differs?.length) toggle.append(el('span', 'run-differs', s.differs.join(' · ')));
    toggle.addEventListener('click', () => {
      const set = new Set(this.state.hiddenRuns);
      if (set.has(runId)) set.delete(runId);
      else set.add(runId);
      this.state.hiddenRuns = [...set];
      this.saveState();
      this.renderRuns();
      this.schedule();
    });
    const badge = el('span', `badge status-${s.status}`, s.status);
    const stage = el('span', 'run-stage', s.stage.toUpperCase());
    const line = el('div', 'run-line');
    line.append(toggle, stage, badge);
    row.append(line);

    const p = s.progress;
    const detail = el('div', 'run-detail');
    const live = s.status === 'running' || s.status === 'starting';
    if (p?.phase && live && p.total <= 0) {
      // A phase with no count of its own (data, the model): its name is the progress.
      const phase = el('span', 'run-phase', `${phaseLabel(p.phase)}…`);
      phase.dataset.phase = p.phase;
      detail.append(phase);
    } else if (!p && s.status === 'starting') {
      detail.append(el('span', 'run-phase', 'starting the trainer…'));
    }
    if (p && p.total > 0 && (!p.phase || live)) {
      const frac = Math.min(1, Math.max(0, p.step / p.total));
      const count = `${p.step.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}`;
      const text = [p.phase ? `${phaseLabel(p.phase)} ${count}` : `step ${count}`];
      if (s.status === 'running' || s.status === 'starting') {
        text.push(p.eta === null ? 'ETA –' : `ETA ${formatDuration(p.eta)}`);
      }
      detail.append(el('span', 'run-progress-text', text.join(' · ')));
      const bar = el('div', 'progress');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-label', `${runId} progress`);
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', String(p.total));
      bar.setAttribute('aria-valuenow', String(p.step));
      const fill = el('div', 'progress-fill');
      fill.style.width = `${(frac * 100).toFixed(1)}%`;
      fill.style.backgroundColor = this.colorOf(runId);
      bar.append(fill);
      detail.append(bar);
    }
    if (detail.childElementCount) row.append(detail);
    if (s.status === 'failed') {
      const err = el('div', 'run-error', s.error ?? 'The trainer failed without an error message.');
      err.setAttribute('role', 'alert');
      row.append(err);
    }
    return row;
  }
}

/** The alarm count badge on a run's legend line, and one line per alarm under it. */
function alarmTitle(a: TraceAlarm): string {
  return `${a.rule} from step ${a.step} (detected at ${a.detectedAt}): ${a.message}`;
}

function addConfigDiff(row: HTMLElement, keys: string[], config: Record<string, string>): void {
  const parts = keys.map((k) => `${k}=${config[k] ?? '—'}`);
  const line = el(
    'div',
    'run-config-diff',
    parts.length > 3 ? `${parts.slice(0, 3).join(' · ')} · +${parts.length - 3} more` : parts.join(' · '),
  );
  line.title = `Config keys that differ between the shown runs:\n${parts.join('\n')}`;
  row.append(line);
}

/** Seconds since the run's first point at which a track reached `step` (undefined: never). */
function wallTimeAtStep(track: Track, step: number): number | undefined {
  const ws = track.wallSteps;
  if (!ws || ws.length === 0) return undefined;
  // Steps rise with time (a resumed run aside): binary search, drawn every frame.
  const steps = ws.values;
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo < steps.length ? ws.steps[lo] : undefined;
}

/** The step of a track's point nearest a wall-time x. */
function stepAtWallTime(track: Track | undefined, x: number): number | undefined {
  const ws = track?.wallSteps;
  if (!ws) return undefined;
  const i = ws.nearestIndex(x);
  return i < 0 ? undefined : ws.values[i];
}

function readWarningColor(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--vscode-editorWarning-foreground').trim() || '#cca700';
}

/** A run as charts and tooltips name it: config name, then what differs from the other runs. */
function runLabel(s: RunSummary): string {
  const name = s.name ?? s.runId;
  return s.differs?.length ? `${name} (${s.differs.join(', ')})` : name;
}

function sanitizeState(saved: Partial<UiState> | undefined): UiState {
  const s = saved ?? {};
  const smoothing = typeof s.smoothing === 'number' && s.smoothing >= 0 && s.smoothing < 1 ? s.smoothing : DEFAULT_STATE.smoothing;
  let metrics = Array.isArray(s.metrics) ? s.metrics.filter((m): m is string => typeof m === 'string') : null;
  // Earlier versions saved PPO's primary keys as soon as anything changed: that was the default,
  // not a choice, and it must not pin PPO panels on an SFT run.
  if (metrics && metrics.join('\n') === PRIMARY_TRACE_KEYS.join('\n')) metrics = null;
  const hiddenRuns = Array.isArray(s.hiddenRuns) ? s.hiddenRuns.filter((m): m is string => typeof m === 'string') : [];
  const xAxis: XAxis = s.xAxis === 'wall' ? 'wall' : 'step';
  return { smoothing, metrics, hiddenRuns, xAxis };
}
