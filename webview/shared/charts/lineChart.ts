// Canvas line chart for metric traces: several lines overlaid, optional smoothed line drawn over a
// faint raw one, per-pixel-column downsampling (so a million points draw in a few milliseconds),
// crosshair tooltip, click-to-select, wheel zoom / drag pan / double-click reset on a shared step
// axis, and full keyboard control. Drawing is synchronous; the owner batches calls per frame.
import type { ChartSync, StepRange } from './chartSync';
import type { Columns } from './downsample';
import { COLUMN_STRIDE, downsample, downsampleLod } from './downsample';
import type { MinMaxPyramid } from './minMaxPyramid';
import type { Series } from './series';
import type { Theme } from './theme';
import { axisTicks, formatStep, formatValue } from './ticks';

export interface ChartLine {
  /** Run id: reported back on selection. */
  id: string;
  label: string;
  color: string;
  series: Series;
  /** Smoothed values aligned with series (null: draw the raw line only, at full strength). */
  smoothed: Float64Array | null;
  /** Level-of-detail indexes over the raw and smoothed values (optional: without, every point is scanned). */
  rawLod?: MinMaxPyramid | null;
  smoothLod?: MinMaxPyramid | null;
  /** Changes whenever the line's points or smoothing change; lets a redraw of the same view reuse its reduction. */
  version?: number;
}

export interface LineChartOptions {
  title: string;
  /** Axis titles drawn beside the axes: the metric's title and unit, and what the steps count. */
  yTitle?: string;
  xTitle?: string;
  sync: ChartSync;
  onSelect(runId: string, step: number): void;
}

/** A vertical line with a label at an x position (a health alarm where it began). */
export interface ChartMarker {
  x: number;
  label: string;
  color: string;
}

/** How the x axis reads: steps (the default) or another quantity, e.g. seconds since the run began. */
export interface XAxisFormat {
  /** Tick label. */
  tick(x: number): string;
  /** Tooltip heading and the spoken crosshair position. */
  point(x: number): string;
}

/** Draw timings, for the benchmark and for diagnosing slow views. */
export const drawStats = { draws: 0, totalMs: 0, lastMs: 0 };

const PAD = { top: 10, right: 14, bottom: 24, gapLeft: 8 };
const DRAG_THRESHOLD_PX = 3;
/** A click waits this long for a second one: a double-click resets the zoom and selects nothing. */
export const DOUBLE_CLICK_MS = 350;

interface Layout {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export class LineChart {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly tooltip: HTMLDivElement;
  private readonly live: HTMLDivElement;
  private readonly resizeObserver: ResizeObserver;
  private lines: ChartLine[] = [];
  private markers: ChartMarker[] = [];
  private xFormat: XAxisFormat | null = null;
  private cssWidth = 0;
  private cssHeight = 0;
  private dpr = 1;
  private layout: Layout = { left: 0, top: 0, right: 0, bottom: 0 };
  private domain: StepRange | null = null;
  private yRange: { min: number; max: number } | null = null;
  private rawCols: Columns[] = [];
  private smoothCols: Columns[] = [];
  private bandBottom = new Float64Array(0);
  private reduceKeys: ({ series: Series; version: number; min: number; max: number; plotW: number } | undefined)[] = [];
  private pointer: { x: number; y: number } | null = null;
  private drag: { startX: number; from: StepRange; moved: boolean; pointerId: number } | null = null;
  /** The user is driving the crosshair with keys: keep it when the mouse leaves. */
  private keyboardMode = false;
  /** A click's selection, waiting to learn whether it is the first half of a double-click. */
  private pendingSelect: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: HTMLElement,
    private readonly opts: LineChartOptions,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'chart';
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'group');
    this.element.setAttribute('aria-roledescription', 'chart');
    this.element.setAttribute(
      'aria-label',
      `${opts.title}. Arrow keys move the crosshair, Enter opens that step's samples, plus and minus zoom, 0 resets.`,
    );
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('aria-hidden', 'true');
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('Canvas 2D context unavailable');
    this.ctx = ctx;
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'chart-tooltip';
    this.tooltip.hidden = true;
    this.live = document.createElement('div');
    this.live.className = 'sr-only';
    this.live.setAttribute('aria-live', 'polite');
    this.element.append(this.canvas, this.tooltip, this.live);
    host.append(this.element);

    this.resizeObserver = new ResizeObserver(() => {
      if (this.measure()) opts.sync.changed();
    });
    this.resizeObserver.observe(this.element);
    this.measure();
    this.bindPointer();
    this.bindKeys();
  }

  setLines(lines: ChartLine[]): void {
    this.lines = lines;
  }

  setMarkers(markers: ChartMarker[]): void {
    this.markers = markers;
  }

  /** null: the x axis is steps. */
  setXFormat(format: XAxisFormat | null): void {
    this.xFormat = format;
  }

  /** The chart as drawn, as a PNG (base64, without the data: prefix). */
  toPngBase64(): string {
    return this.canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  }

  destroy(): void {
    clearTimeout(this.pendingSelect);
    this.resizeObserver.disconnect();
    this.element.remove();
  }

  /** Step extent of this chart's data (null when empty). */
  extent(): StepRange | null {
    let min = Infinity;
    let max = -Infinity;
    for (const l of this.lines) {
      if (l.series.length === 0) continue;
      min = Math.min(min, l.series.steps[0]);
      max = Math.max(max, l.series.lastStep());
    }
    return min <= max ? { min, max } : null;
  }

  draw(theme: Theme): void {
    const t0 = performance.now();
    this.measure();
    const { ctx, dpr } = this;
    const W = this.canvas.width;
    const H = this.canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, W, H);
    this.domain = this.opts.sync.domain();
    const font = `${Math.round(theme.fontSize * 0.85 * dpr)}px ${theme.fontFamily}`;
    ctx.font = font;
    const hasData = this.domain !== null && this.lines.some((l) => l.series.length > 0);
    if (!hasData || W === 0 || H === 0) {
      this.yRange = null;
      ctx.fillStyle = theme.muted;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('No data yet', W / 2, H / 2);
      this.updateTooltip(theme);
      this.finishStats(t0);
      return;
    }
    const domain = this.domain as StepRange;

    // Reduce every line to pixel columns first: the y range comes from what is visible.
    // The left margin depends on the y labels, which depend on the reduced data: start from the
    // last frame's margin and reduce again only when the labels' width changed.
    const titleH = Math.round(theme.fontSize * 1.1 * dpr); // one line of axis title
    const yTitleW = this.opts.yTitle ? titleH : 0;
    const probeLeft = this.layout.left > 0 ? this.layout.left : 48 * dpr;
    let plotW = Math.max(1, W - probeLeft - PAD.right * dpr);
    this.reduceAll(domain, plotW);
    let y = this.visibleYRange(plotW);
    let yTicks = axisTicks(y.min, y.max, Math.max(2, Math.floor(H / dpr / 40)));
    let labelW = 0;
    for (const t of yTicks) labelW = Math.max(labelW, ctx.measureText(formatValue(t)).width);
    const left = Math.ceil(yTitleW + labelW + PAD.gapLeft * dpr * 1.5);
    if (left !== probeLeft) {
      plotW = Math.max(1, W - left - PAD.right * dpr);
      this.reduceAll(domain, plotW);
      y = this.visibleYRange(plotW);
      yTicks = axisTicks(y.min, y.max, Math.max(2, Math.floor(H / dpr / 40)));
    }
    const top = PAD.top * dpr;
    const bottom = H - PAD.bottom * dpr - (this.opts.xTitle ? titleH : 0);
    const layout: Layout = { left, top, right: left + plotW, bottom };
    this.layout = layout;
    this.yRange = y;
    const plotH = Math.max(1, bottom - top);
    const yOf = (v: number): number => bottom - ((v - y.min) / (y.max - y.min)) * plotH;
    const xOf = (s: number): number => left + ((s - domain.min) / (domain.max - domain.min)) * plotW;

    // Grid and axes.
    ctx.lineWidth = Math.max(1, Math.round(dpr));
    ctx.strokeStyle = theme.grid;
    ctx.globalAlpha = 0.7;
    ctx.beginPath();
    for (const t of yTicks) {
      const py = Math.round(yOf(t)) + 0.5;
      ctx.moveTo(left, py);
      ctx.lineTo(left + plotW, py);
    }
    const xTicks = axisTicks(domain.min, domain.max, Math.max(2, Math.floor(plotW / dpr / 80)));
    this.tickCounts = { x: xTicks.length, y: yTicks.length };
    for (const t of xTicks) {
      const px = Math.round(xOf(t)) + 0.5;
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme.axis;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of yTicks) ctx.fillText(formatValue(t), left - PAD.gapLeft * dpr, yOf(t));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tickText = this.xFormat ? this.xFormat.tick : formatStep;
    for (const t of xTicks) ctx.fillText(tickText(t), xOf(t), bottom + 6 * dpr);
    this.drawAxisTitles(theme, layout, titleH, H);

    // Lines, clipped to the plot.
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 2 * dpr, plotW, plotH + 4 * dpr);
    ctx.clip();
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i];
      const smoothed = line.smoothed !== null;
      this.strokeColumns(this.rawCols[i], left, yOf, line.color, smoothed ? 0.28 : 1, (smoothed ? 1 : 1.5) * dpr);
      if (smoothed) this.strokeColumns(this.smoothCols[i], left, yOf, line.color, 1, 1.75 * dpr);
      const cols = smoothed ? this.smoothCols[i] : this.rawCols[i];
      // Mark the points themselves once they are far enough apart to tell apart.
      if (
        cols.count === 1 ||
        (cols.count > 1 && cols.data[(cols.count - 1) * COLUMN_STRIDE] - cols.data[0] >= 8 * dpr * (cols.count - 1))
      ) {
        this.dotColumns(cols, left, yOf, line.color, 2 * dpr);
      }
    }
    ctx.restore();
    this.drawMarkers(domain, xOf, layout, theme);

    // Selected step (dashed) and crosshair.
    const sel = this.opts.sync.selected;
    if (sel && sel.step >= domain.min && sel.step <= domain.max) {
      ctx.save();
      ctx.strokeStyle = theme.focus;
      ctx.lineWidth = dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      const px = Math.round(xOf(sel.step)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.restore();
    }
    const cross = this.opts.sync.crosshair;
    if (cross !== null && cross >= domain.min && cross <= domain.max) {
      const px = Math.round(xOf(cross)) + 0.5;
      ctx.strokeStyle = theme.foreground;
      ctx.globalAlpha = 0.45;
      ctx.lineWidth = dpr;
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.globalAlpha = 1;
      for (const hit of this.valuesAt(cross)) {
        ctx.beginPath();
        ctx.arc(xOf(hit.step), yOf(hit.value), 3.5 * dpr, 0, Math.PI * 2);
        ctx.fillStyle = hit.line.color;
        ctx.fill();
        ctx.lineWidth = 1.5 * dpr;
        ctx.strokeStyle = theme.background;
        ctx.stroke();
      }
    }
    this.exposeLayout();
    this.updateTooltip(theme);
    this.finishStats(t0);
  }

  /** Alarm markers: a solid vertical line and its label at the top, stacked when they crowd. */
  private drawMarkers(domain: StepRange, xOf: (x: number) => number, layout: Layout, theme: Theme): void {
    const { ctx, dpr } = this;
    const shown = this.markers.filter((m) => m.x >= domain.min && m.x <= domain.max);
    // For tests and tooling: each shown marker's label and CSS-pixel x.
    this.canvas.dataset.markers = shown.map((m) => `${(xOf(m.x) / dpr).toFixed(1)} ${m.label}`).join('|');
    if (shown.length === 0) return;
    ctx.save();
    ctx.lineWidth = Math.max(1, Math.round(1.5 * dpr));
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    const lineH = Math.round(theme.fontSize * 0.85 * dpr * 1.25);
    shown.forEach((m, k) => {
      const px = Math.round(xOf(m.x)) + 0.5;
      ctx.strokeStyle = m.color;
      ctx.beginPath();
      ctx.moveTo(px, layout.top);
      ctx.lineTo(px, layout.bottom);
      ctx.stroke();
      const w = ctx.measureText(m.label).width;
      // Labels sit right of their line unless that runs off the plot.
      const lx = px + 3 * dpr + w > layout.right ? px - 3 * dpr - w : px + 3 * dpr;
      const ly = layout.top + 2 * dpr + (k % 3) * lineH;
      ctx.fillStyle = theme.background;
      ctx.globalAlpha = 0.8;
      ctx.fillRect(lx - dpr, ly - dpr, w + 2 * dpr, lineH);
      ctx.globalAlpha = 1;
      ctx.fillStyle = m.color;
      ctx.fillText(m.label, lx, ly);
    });
    ctx.restore();
  }

  // --- reduction and geometry -------------------------------------------------------------

  private reduceAll(domain: StepRange, plotW: number): void {
    const scale = plotW / (domain.max - domain.min);
    for (let i = 0; i < this.lines.length; i++) {
      const { series, smoothed, rawLod, smoothLod, version } = this.lines[i];
      // Same line, same data, same view (a crosshair move, a theme change): keep last frame's columns.
      const key = this.reduceKeys[i];
      if (
        version !== undefined &&
        key &&
        key.version === version &&
        key.series === series &&
        key.min === domain.min &&
        key.max === domain.max &&
        key.plotW === plotW
      ) {
        continue;
      }
      this.reduceKeys[i] = { series, version: version ?? Number.NaN, min: domain.min, max: domain.max, plotW };
      // One point beyond each edge keeps the line running off the plot instead of stopping short.
      const from = Math.max(0, series.lowerBound(domain.min) - 1);
      const to = Math.min(series.length, series.upperBound(domain.max) + 1);
      const steps = series.steps;
      this.rawCols[i] = rawLod
        ? downsampleLod(steps, series.values, rawLod, from, to, domain.min, scale, this.rawCols[i])
        : downsample(steps, series.values, from, to, domain.min, scale, this.rawCols[i]);
      if (smoothed) {
        this.smoothCols[i] = smoothLod
          ? downsampleLod(steps, smoothed, smoothLod, from, to, domain.min, scale, this.smoothCols[i])
          : downsample(steps, smoothed, from, to, domain.min, scale, this.smoothCols[i]);
      }
    }
    this.rawCols.length = this.lines.length;
    this.smoothCols.length = this.lines.length;
    this.reduceKeys.length = this.lines.length;
  }

  private visibleYRange(plotW: number): { min: number; max: number } {
    let min = Infinity;
    let max = -Infinity;
    const scan = (c: Columns | undefined): void => {
      if (!c) return;
      const d = c.data;
      for (let k = 0; k < c.count; k++) {
        const o = k * COLUMN_STRIDE;
        if (d[o] < 0 || d[o] > plotW) continue;
        if (d[o + 2] < min) min = d[o + 2];
        if (d[o + 3] > max) max = d[o + 3];
      }
    };
    for (let i = 0; i < this.lines.length; i++) {
      scan(this.rawCols[i]);
      if (this.lines[i].smoothed) scan(this.smoothCols[i]);
    }
    if (!(min <= max)) return { min: 0, max: 1 };
    if (min === max) {
      const pad = Math.abs(min) * 0.1 || 1;
      return { min: min - pad, max: max + pad };
    }
    const pad = (max - min) * 0.06;
    return { min: min - pad, max: max + pad };
  }

  private strokeColumns(
    c: Columns | undefined,
    left: number,
    yOf: (v: number) => number,
    color: string,
    alpha: number,
    width: number,
  ): void {
    if (!c || c.count === 0) return;
    const { ctx } = this;
    const d = c.data;
    const spanCols = d[(c.count - 1) * COLUMN_STRIDE] - d[0] + 1;
    if (c.count > 8 && spanCols <= 2 * c.count) {
      this.fillBand(c, left, yOf, color, alpha, width);
      return;
    }
    ctx.strokeStyle = color;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (let k = 0; k < c.count; k++) {
      const o = k * COLUMN_STRIDE;
      const x = left + d[o] + 0.5;
      if (k === 0) ctx.moveTo(x, yOf(d[o + 1]));
      else ctx.lineTo(x, yOf(d[o + 1]));
      if (d[o + 2] !== d[o + 3]) {
        ctx.lineTo(x, yOf(d[o + 2]));
        ctx.lineTo(x, yOf(d[o + 3]));
      }
      if (d[o + 4] !== d[o + 1]) ctx.lineTo(x, yOf(d[o + 4]));
    }
    if (c.count === 1) ctx.lineTo(left + d[0] + 0.5001, yOf(d[1]));
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  /**
   * Dense lines (a column every pixel or two) are drawn as one filled band from each column's max to
   * its min, widened by the line width: the same pixels as stroking the zigzag through every
   * column's extremes, at a fraction of the rasterisation cost. Each column's range also takes in
   * the previous column's last value, so the band stays joined where the line is steep.
   */
  private fillBand(c: Columns, left: number, yOf: (v: number) => number, color: string, alpha: number, width: number): void {
    const { ctx } = this;
    const d = c.data;
    const half = width / 2;
    if (this.bandBottom.length < c.count) this.bandBottom = new Float64Array(c.count * 2);
    const bottom = this.bandBottom;
    ctx.fillStyle = color;
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    let prev = d[1];
    for (let k = 0; k < c.count; k++) {
      const o = k * COLUMN_STRIDE;
      const lo = d[o + 2] < prev ? d[o + 2] : prev;
      const hi = d[o + 3] > prev ? d[o + 3] : prev;
      prev = d[o + 4];
      const x = left + d[o] + 0.5;
      const top = yOf(hi) - half;
      bottom[k] = yOf(lo) + half;
      if (k === 0) {
        ctx.moveTo(x - half, top);
        ctx.lineTo(x, top);
      } else {
        ctx.lineTo(x, top);
      }
    }
    const lastX = left + d[(c.count - 1) * COLUMN_STRIDE] + 0.5;
    ctx.lineTo(lastX + half, yOf(d[(c.count - 1) * COLUMN_STRIDE + 3]) - half);
    ctx.lineTo(lastX + half, bottom[c.count - 1]);
    for (let k = c.count - 1; k >= 0; k--) ctx.lineTo(left + d[k * COLUMN_STRIDE] + 0.5, bottom[k]);
    ctx.lineTo(left + d[0] + 0.5 - half, bottom[0]);
    ctx.closePath();
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  private dotColumns(c: Columns, left: number, yOf: (v: number) => number, color: string, r: number): void {
    const { ctx } = this;
    ctx.fillStyle = color;
    ctx.beginPath();
    for (let k = 0; k < c.count; k++) {
      const o = k * COLUMN_STRIDE;
      const x = left + c.data[o] + 0.5;
      const yv = yOf(c.data[o + 4]);
      ctx.moveTo(x + r, yv);
      ctx.arc(x, yv, r, 0, Math.PI * 2);
    }
    ctx.fill();
  }

  private measure(): boolean {
    const rect = this.element.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(0, Math.round(rect.width));
    const h = Math.max(0, Math.round(rect.height));
    if (w === this.cssWidth && h === this.cssHeight && dpr === this.dpr) return false;
    this.cssWidth = w;
    this.cssHeight = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    return true;
  }

  /** Plot geometry in CSS pixels, on the canvas's data attributes (used by tests and tooling). */
  private tickCounts = { x: 0, y: 0 };

  /** The y title turned along the left edge, the x title centred under the step labels. */
  private drawAxisTitles(theme: Theme, layout: Layout, titleH: number, H: number): void {
    const { ctx, dpr } = this;
    const { yTitle, xTitle } = this.opts;
    ctx.save();
    ctx.fillStyle = theme.muted;
    ctx.font = `${Math.round(theme.fontSize * 0.8 * dpr)}px ${theme.fontFamily}`;
    if (xTitle) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(xTitle, (layout.left + layout.right) / 2, H - 2 * dpr);
    }
    if (yTitle) {
      const mid = (layout.top + layout.bottom) / 2;
      ctx.translate(titleH * 0.55, mid);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      // Long titles are cut to the plot's height rather than drawn over the next panel.
      let text = yTitle;
      const room = layout.bottom - layout.top;
      while (text.length > 4 && ctx.measureText(text).width > room) text = `${text.slice(0, -2).trimEnd()}…`;
      ctx.fillText(text, 0, 0);
    }
    ctx.restore();
  }

  private exposeLayout(): void {
    const { left, right, top, bottom } = this.layout;
    const ds = this.canvas.dataset;
    ds.xTicks = String(this.tickCounts.x);
    ds.yTicks = String(this.tickCounts.y);
    ds.xTitle = this.opts.xTitle ?? '';
    ds.yTitle = this.opts.yTitle ?? '';
    ds.plotLeft = String(left / this.dpr);
    ds.plotRight = String(right / this.dpr);
    ds.plotTop = String(top / this.dpr);
    ds.plotBottom = String(bottom / this.dpr);
    ds.stepMin = String(this.domain?.min ?? '');
    ds.stepMax = String(this.domain?.max ?? '');
  }

  private finishStats(t0: number): void {
    const ms = performance.now() - t0;
    drawStats.draws++;
    drawStats.totalMs += ms;
    drawStats.lastMs = ms;
  }

  /** Step at a CSS-pixel x inside the plot (null outside). */
  private stepAtX(x: number): number | null {
    const d = this.domain;
    if (!d) return null;
    const left = this.layout.left / this.dpr;
    const right = this.layout.right / this.dpr;
    if (right <= left) return null;
    const f = Math.min(Math.max((x - left) / (right - left), 0), 1);
    return d.min + f * (d.max - d.min);
  }

  /** Nearest data step to `step` over all lines. */
  private snap(step: number): number | null {
    let best: number | null = null;
    for (const l of this.lines) {
      const i = l.series.nearestIndex(step);
      if (i < 0) continue;
      const s = l.series.steps[i];
      if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s;
    }
    return best;
  }

  /** Each line's point at the crosshair step (lines whose data does not reach that step are left out). */
  private valuesAt(step: number): { line: ChartLine; step: number; value: number; raw: number }[] {
    const out: { line: ChartLine; step: number; value: number; raw: number }[] = [];
    for (const line of this.lines) {
      const s = line.series;
      if (s.length === 0 || step < s.steps[0] || step > s.lastStep()) continue;
      const i = s.nearestIndex(step);
      const raw = s.values[i];
      const value = line.smoothed ? line.smoothed[i] : raw;
      if (value !== value) continue;
      out.push({ line, step: s.steps[i], value, raw });
    }
    return out;
  }

  private updateTooltip(theme: Theme): void {
    const sync = this.opts.sync;
    const cross = sync.crosshair;
    if (cross === null || sync.crosshairOwner !== this || !this.domain || !this.yRange) {
      this.tooltip.hidden = true;
      return;
    }
    const hits = this.valuesAt(cross);
    if (hits.length === 0) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren();
    const head = document.createElement('div');
    head.className = 'chart-tooltip-step';
    head.textContent = this.xFormat ? this.xFormat.point(cross) : `step ${cross.toLocaleString('en-US')}`;
    this.tooltip.append(head);
    const spoken: string[] = [];
    for (const h of hits) {
      const row = document.createElement('div');
      row.className = 'chart-tooltip-row';
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.backgroundColor = h.line.color;
      const name = document.createElement('span');
      name.className = 'chart-tooltip-name';
      name.textContent = h.line.label;
      const val = document.createElement('span');
      val.className = 'chart-tooltip-value';
      val.textContent = formatValue(h.value);
      row.append(sw, name, val);
      if (h.line.smoothed && h.raw === h.raw) {
        const raw = document.createElement('span');
        raw.className = 'chart-tooltip-raw';
        raw.textContent = `raw ${formatValue(h.raw)}`;
        row.append(raw);
      }
      this.tooltip.append(row);
      spoken.push(`${h.line.label} ${formatValue(h.value)}`);
    }
    this.tooltip.style.color = theme.foreground;
    this.tooltip.hidden = false;
    // Place it beside the crosshair, flipping to the left near the right edge.
    const d = this.domain;
    const left = this.layout.left / this.dpr;
    const right = this.layout.right / this.dpr;
    const x = left + ((cross - d.min) / (d.max - d.min)) * (right - left);
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    const tx = x + 12 + tw > this.cssWidth ? x - 12 - tw : x + 12;
    // Keep clear of the pointer's half of the plot, so the tooltip does not hide the lines being read.
    const plotTop = this.layout.top / this.dpr;
    const plotBottom = this.layout.bottom / this.dpr;
    const pointerLow = this.pointer !== null && this.pointer.y > (plotTop + plotBottom) / 2;
    const ty = pointerLow ? plotTop + 2 : Math.max(plotTop, plotBottom - th - 2);
    this.tooltip.style.left = `${Math.max(0, tx)}px`;
    this.tooltip.style.top = `${Math.max(0, ty)}px`;
    const text = `${this.xFormat ? this.xFormat.point(cross) : `Step ${cross}`}: ${spoken.join(', ')}`;
    if (this.live.textContent !== text) this.live.textContent = text;
  }

  // --- interaction ------------------------------------------------------------------------

  private setCrosshair(step: number | null): void {
    const sync = this.opts.sync;
    sync.crosshair = step;
    sync.crosshairOwner = step === null ? null : this;
    sync.changed();
  }

  private selectAt(step: number, pointerY: number | null): void {
    const hits = this.valuesAt(step);
    if (hits.length === 0) return;
    let best = hits[0];
    if (pointerY !== null && this.yRange) {
      // Several runs at that step: pick the line nearest the pointer.
      const { top, bottom } = this.layout;
      const y = this.yRange;
      const yCss = (v: number): number => (bottom - ((v - y.min) / (y.max - y.min)) * (bottom - top)) / this.dpr;
      let bestDist = Infinity;
      for (const h of hits) {
        const dist = Math.abs(yCss(h.value) - pointerY);
        if (dist < bestDist) {
          bestDist = dist;
          best = h;
        }
      }
    }
    this.opts.sync.selected = { runId: best.line.id, step: best.step };
    this.opts.onSelect(best.line.id, best.step);
    this.opts.sync.changed();
  }

  private bindPointer(): void {
    const el = this.element;
    const sync = this.opts.sync;
    const local = (e: MouseEvent): { x: number; y: number } => {
      const r = el.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    el.addEventListener('pointerdown', (e) => {
      this.keyboardMode = false;
      if (e.button !== 0) return;
      const d = sync.domain();
      if (!d) return;
      try {
        el.setPointerCapture(e.pointerId);
      } catch {
        // Synthetic or already-released pointers cannot be captured; dragging still works inside.
      }
      this.drag = { startX: local(e).x, from: d, moved: false, pointerId: e.pointerId };
    });
    el.addEventListener('pointermove', (e) => {
      const p = local(e);
      this.pointer = p;
      const drag = this.drag;
      if (drag) {
        const dx = p.x - drag.startX;
        if (!drag.moved && Math.abs(dx) < DRAG_THRESHOLD_PX) return;
        drag.moved = true;
        el.classList.add('panning');
        const plotW = (this.layout.right - this.layout.left) / this.dpr;
        if (plotW > 0) sync.pan(drag.from, (-dx / plotW) * (drag.from.max - drag.from.min));
        return;
      }
      const s = this.stepAtX(p.x);
      this.setCrosshair(s === null ? null : this.snap(s));
    });
    const endDrag = (e: PointerEvent): void => {
      const drag = this.drag;
      if (!drag || drag.pointerId !== e.pointerId) return;
      this.drag = null;
      el.classList.remove('panning');
      if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
      if (!drag.moved && e.type === 'pointerup') {
        const p = local(e);
        const s = this.stepAtX(p.x);
        const snapped = s === null ? null : this.snap(s);
        if (snapped === null) return;
        if (this.pendingSelect !== undefined) {
          // The second click of a double-click: the dblclick handler resets the zoom; nothing opens.
          clearTimeout(this.pendingSelect);
          this.pendingSelect = undefined;
          return;
        }
        this.pendingSelect = setTimeout(() => {
          this.pendingSelect = undefined;
          this.selectAt(snapped, p.y);
        }, DOUBLE_CLICK_MS);
      }
    };
    el.addEventListener('pointerup', endDrag);
    el.addEventListener('pointercancel', endDrag);
    el.addEventListener('pointerleave', () => {
      this.pointer = null;
      if (!this.drag && sync.crosshairOwner === this && !this.keyboardMode) this.setCrosshair(null);
    });
    el.addEventListener(
      'wheel',
      (e) => {
        const d = sync.domain();
        if (!d) return;
        e.preventDefault();
        const plotL = this.layout.left / this.dpr;
        const plotW = (this.layout.right - this.layout.left) / this.dpr;
        if (plotW <= 0) return;
        if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          sync.pan(d, (e.deltaX / plotW) * (d.max - d.min));
          return;
        }
        const at = Math.min(Math.max((local(e).x - plotL) / plotW, 0), 1);
        const unit = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? 16 : e.deltaMode === WheelEvent.DOM_DELTA_PAGE ? 400 : 1;
        sync.zoom(Math.exp(e.deltaY * unit * 0.0015), at);
      },
      { passive: false },
    );
    el.addEventListener('dblclick', () => {
      clearTimeout(this.pendingSelect);
      this.pendingSelect = undefined;
      sync.reset();
    });
  }

  private bindKeys(): void {
    const el = this.element;
    const sync = this.opts.sync;
    el.addEventListener('focus', () => {
      // A click also focuses the chart; only keyboard focus puts the crosshair on the latest step.
      if (!el.matches(':focus-visible')) return;
      this.keyboardMode = true;
      if (sync.crosshair === null) {
        const d = sync.domain();
        const last = d ? this.snap(d.max) : null;
        if (last !== null) this.setCrosshair(last);
      } else {
        sync.crosshairOwner = this;
        sync.changed();
      }
    });
    el.addEventListener('blur', () => {
      this.keyboardMode = false;
      if (sync.crosshairOwner === this && !this.pointer) this.setCrosshair(null);
    });
    el.addEventListener('keydown', (e) => {
      this.keyboardMode = true;
      const ref = this.lines.find((l) => l.series.length > 0);
      const d = sync.domain();
      if (!ref || !d) return;
      const s = ref.series;
      const current = sync.crosshair ?? s.lastStep();
      let i = s.nearestIndex(current);
      let handled = true;
      switch (e.key) {
        case 'ArrowLeft':
          i = Math.max(0, i - (e.shiftKey ? 10 : 1));
          break;
        case 'ArrowRight':
          i = Math.min(s.length - 1, i + (e.shiftKey ? 10 : 1));
          break;
        case 'Home':
          i = Math.max(0, s.lowerBound(d.min));
          break;
        case 'End':
          i = Math.max(0, Math.min(s.length - 1, s.lowerBound(d.max + 1e-9) - 1));
          break;
        case 'Enter':
        case ' ':
          this.selectAt(s.steps[i], null);
          break;
        case '+':
        case '=':
          sync.zoom(0.5, Math.min(Math.max((s.steps[i] - d.min) / (d.max - d.min), 0), 1));
          break;
        case '-':
        case '_':
          sync.zoom(2, Math.min(Math.max((s.steps[i] - d.min) / (d.max - d.min), 0), 1));
          break;
        case '0':
          sync.reset();
          break;
        case 'Escape':
          this.setCrosshair(null);
          return;
        default:
          handled = false;
      }
      if (!handled) return;
      e.preventDefault();
      const step = s.steps[i];
      // Keep the crosshair in view: pan when the keyboard walks off an edge.
      const view = sync.domain();
      if (view && (step < view.min || step > view.max)) {
        const span = view.max - view.min;
        sync.pan(view, step < view.min ? step - view.min - span * 0.1 : step - view.max + span * 0.1);
      }
      this.setCrosshair(step);
    });
  }
}
