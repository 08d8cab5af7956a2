// State shared by all charts of a view: one step axis (zoom and pan move every panel together, so
// reward and KL stay aligned), one crosshair step and one selected step.

export interface StepRange {
  min: number;
  max: number;
}

export class ChartSync {
  /** Extent of all data; the view follows it (live runs grow) until the user zooms or pans. */
  dataRange: StepRange | null = null;
  /** Explicit view after zoom/pan; null = fit all data. */
  view: StepRange | null = null;
  /** Step under the crosshair, and the chart whose pointer or keyboard owns it (shows the tooltip). */
  crosshair: number | null = null;
  crosshairOwner: object | null = null;
  selected: { runId: string; step: number } | null = null;

  constructor(private readonly onChange: () => void) {}

  domain(): StepRange | null {
    const d = this.view ?? this.dataRange;
    if (!d) return null;
    // A single step still needs a visible span.
    return d.max > d.min ? d : { min: d.min - 1, max: d.max + 1 };
  }

  changed(): void {
    this.onChange();
  }

  /** Zooms by factor (< 1 zooms in) keeping the step at fraction `at` of the width fixed. */
  zoom(factor: number, at: number): void {
    const d = this.domain();
    const all = this.dataRange;
    if (!d || !all) return;
    const span = d.max - d.min;
    const fullSpan = Math.max(all.max - all.min, 1);
    const next = Math.min(Math.max(span * factor, Math.min(4, fullSpan)), fullSpan);
    if (next >= fullSpan && factor > 1) {
      this.view = null;
    } else {
      const pivot = d.min + at * span;
      this.view = this.clamp({ min: pivot - at * next, max: pivot - at * next + next });
    }
    this.changed();
  }

  /** Shifts the view by `delta` steps (positive moves towards later steps). */
  pan(from: StepRange, delta: number): void {
    this.view = this.clamp({ min: from.min + delta, max: from.max + delta });
    this.changed();
  }

  reset(): void {
    this.view = null;
    this.changed();
  }

  private clamp(r: StepRange): StepRange {
    const all = this.dataRange;
    if (!all) return r;
    const span = r.max - r.min;
    let min = r.min;
    if (min < all.min) min = all.min;
    if (min + span > all.max) min = Math.max(all.min, all.max - span);
    return { min, max: min + span };
  }
}
