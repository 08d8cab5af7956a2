// What one open sample inspector knows and answers, VS Code-free: the source's summary, and the
// handlers of every request of the sample-inspector contract (pages, one prompt's timeline, the
// compared run, labels, what-if scores). The editor's provider gives it the VS Code pieces as plain
// functions (image paths → webview URIs, the compare run, the scorer), so the browser tests and the
// bench drive the very same code with a real source.
import type { MethodOf, ParamsOf, ResultOf } from '../protocol/ipc';
import type {
  InspectorRecord,
  LabelsState,
  SampleInspectorContract,
  ScoreResult,
  SourceSummary,
} from '../protocol/webviews/sampleInspector';
import { MAX_PAGE } from '../protocol/webviews/sampleInspector';
import type { SampleSource } from '../runs/samples/types';
import { recordKey, type LabelStore } from '../runs/labels/labelStore';

/** The human labels of the source's run: src/runs/labels' LabelStore, as the session uses it. */
export type SessionLabels = Pick<LabelStore, 'setSpans' | 'clearSpans' | 'setPreference' | 'state' | 'exportPreferences'>;

type Handlers = {
  [M in MethodOf<SampleInspectorContract>]: (params: ParamsOf<SampleInspectorContract, M>) => Promise<ResultOf<SampleInspectorContract, M>>;
};

/** Records kept for labels and what-if (the view scrolls through a page at a time; this bounds the rest). */
const MAX_SERVED = 5000;

export interface SampleInspectorSessionOptions {
  source: SampleSource;
  /** The step to open at (a chart click); null: the first step. */
  initialStep: number | null;
  /** Whether the run may still write samples. */
  live(): boolean;
  /** An absolute image path as the view may load it, or null when it may not (outside the roots). */
  imageUri(path: string): string | null;
  /** The second run chosen for side by side, if any. */
  compare?(): { source: SampleSource; title: string } | undefined;
  /** What-if scoring; absent: the view offers none. */
  score?(record: InspectorRecord, response: string): Promise<ScoreResult>;
  labels?: SessionLabels;
  /** Called when the labels changed (the provider notifies the view). */
  onLabelsChanged?(labels: LabelsState): void;
}

export class SampleInspectorSession {
  /** Label key → index of the records served lately: labels are shown for what the view has seen. */
  private readonly servedKeys = new Map<string, number>();
  /** Records served lately, by index (the source caches the parsing; this is for labels and scoring). */
  private readonly served = new Map<number, InspectorRecord>();

  constructor(private readonly opts: SampleInspectorSessionOptions) {}

  summary(initialStep = this.opts.initialStep): SourceSummary {
    const info = this.opts.source.info();
    const step = initialStep === null ? null : this.opts.source.nearestStep(initialStep);
    return {
      title: info.title,
      format: info.format,
      path: info.path,
      runDir: info.runDir,
      total: info.total,
      steps: info.steps,
      captionTypes: info.captionTypes,
      corrupt: info.corrupt,
      initialStep: step,
      live: this.opts.live(),
      canScore: this.opts.score !== undefined,
    };
  }

  /** The page was (re)loaded: it is told the labels again, whatever it was told before. */
  resendLabels(): void {
    if (this.opts.labels) this.changed();
  }

  labelsState(): LabelsState {
    return this.opts.labels?.state((key) => this.servedKeys.get(key)) ?? { spans: {}, pairs: [] };
  }

  /** Remembers a served record (for labels, what-if and the key → index map), least recent out first. */
  private remember(record: InspectorRecord): void {
    const key = recordKey(record);
    this.servedKeys.delete(key);
    this.servedKeys.set(key, record.index);
    this.served.delete(record.index);
    this.served.set(record.index, record);
    // Map order is insertion order: the first entries are the least recently served.
    for (const k of this.servedKeys.keys()) {
      if (this.servedKeys.size <= MAX_SERVED) break;
      this.servedKeys.delete(k);
    }
    for (const i of this.served.keys()) {
      if (this.served.size <= MAX_SERVED) break;
      this.served.delete(i);
    }
  }

  /**
   * Records as the view gets them (images as webview URIs, the judge's spans as the judge left them).
   * Labels made before (another window, an earlier session) reach the view as a `labels` notification,
   * posted before this page's reply, whenever the page brings a labelled record the view was not told of.
   */
  private present(records: InspectorRecord[]): InspectorRecord[] {
    for (const r of records) this.remember(r);
    if (this.opts.labels) {
      const state = this.labelsState();
      const text = JSON.stringify(state);
      if (text !== this.lastLabels) this.changed(state);
    }
    return records.map((r) => ({ ...r, image: r.image === null ? null : this.opts.imageUri(r.image) }));
  }

  /** The labels as the view was last told them (JSON), so an unchanged state is not re-sent. */
  private lastLabels = JSON.stringify({ spans: {}, pairs: [] });

  private async recordAt(index: number): Promise<InspectorRecord> {
    const record = this.served.get(index) ?? (await this.opts.source.record(index));
    if (!record) throw new Error(`no sample record ${index} in ${this.opts.source.info().path}`);
    return record;
  }

  private changed(state = this.labelsState()): LabelsState {
    this.lastLabels = JSON.stringify(state);
    this.opts.onLabelsChanged?.(state);
    return state;
  }

  private needLabels(): SessionLabels {
    if (!this.opts.labels) throw new Error('labels are kept in a run folder: this file does not belong to one');
    return this.opts.labels;
  }

  readonly handlers: Handlers = {
    query: async (params) => {
      const limit = Math.max(0, Math.min(MAX_PAGE, params.limit));
      const page = await this.opts.source.query({ ...params, offset: Math.max(0, params.offset), limit });
      const records = this.present(page.records);
      return { matching: page.matching, offset: page.offset, records };
    },
    timeline: async ({ promptId }) => {
      const points = await this.opts.source.timeline(promptId);
      if (this.opts.labels) {
        // The Follow panel offers preferences between these: the view must know the pairs among them.
        for (const p of points) {
          const record = await this.opts.source.record(p.index);
          if (record) this.remember(record);
        }
        const state = this.labelsState();
        if (JSON.stringify(state) !== this.lastLabels) this.changed(state);
      }
      return { points };
    },
    compare: async ({ step, promptIds }) => {
      const other = this.opts.compare?.();
      if (!other) return { step: null, title: null, records: promptIds.map(() => null) };
      const nearest = other.source.nearestStep(step);
      if (nearest === null) return { step: null, title: other.title, records: promptIds.map(() => null) };
      const records = await other.source.recordsFor(nearest, promptIds);
      return {
        step: nearest,
        title: other.title,
        records: records.map((r) => (r ? { ...r, image: r.image === null ? null : this.opts.imageUri(r.image) } : null)),
      };
    },
    labelSpans: async ({ index, spans }) => {
      const labels = this.needLabels();
      const record = await this.recordAt(index);
      if (spans === null) labels.clearSpans(record);
      else labels.setSpans(record, spans);
      this.remember(record);
      return { labels: this.changed() };
    },
    labelPreference: async ({ a, b, preferred }) => {
      const labels = this.needLabels();
      const [ra, rb] = [await this.recordAt(a), await this.recordAt(b)];
      labels.setPreference(ra, rb, preferred);
      this.remember(ra);
      this.remember(rb);
      return { labels: this.changed() };
    },
    exportPreferences: async () => {
      const labels = this.needLabels();
      const { path, pairs } = labels.exportPreferences();
      return { path, pairs };
    },
    score: async ({ index, response }) => {
      if (!this.opts.score) throw new Error('no reward model to score with: set factRlhf.rewardModel');
      return this.opts.score(await this.recordAt(index), response);
    },
  };
}
