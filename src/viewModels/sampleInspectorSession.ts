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
  Span,
} from '../protocol/webviews/sampleInspector';
import { MAX_PAGE } from '../protocol/webviews/sampleInspector';
import type { SampleSource } from '../runs/samples/types';

/** The human labels of the source's run (src/runs/labels), as the session needs them. */
export interface SessionLabels {
  /** The human's spans for this record, or undefined when it has none. */
  spansFor(record: InspectorRecord): Span[] | undefined;
  setSpans(record: InspectorRecord, spans: Span[]): void;
  setPreference(a: InspectorRecord, b: InspectorRecord, preferred: 1 | 2 | null): void;
  /** The preference pairs labelled so far, each side as the record's label key. */
  pairs(): { a: string; b: string; preferred: 1 | 2 }[];
  keyOf(record: InspectorRecord): string;
  exportPreferences(): { path: string; pairs: number };
}

type Handlers = {
  [M in MethodOf<SampleInspectorContract>]: (
    params: ParamsOf<SampleInspectorContract, M>,
  ) => ResultOf<SampleInspectorContract, M> | Promise<ResultOf<SampleInspectorContract, M>>;
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

  labelsState(): LabelsState {
    const labels = this.opts.labels;
    if (!labels) return { spans: {}, pairs: [] };
    const spans: Record<string, Span[]> = {};
    // Spans are looked up per served record (the store is keyed by record identity, not index).
    for (const [, index] of this.servedKeys) {
      const record = this.served.get(index);
      const human = record && labels.spansFor(record);
      if (human) spans[String(index)] = human;
    }
    const pairs: LabelsState['pairs'] = [];
    for (const p of labels.pairs()) {
      const a = this.servedKeys.get(p.a);
      const b = this.servedKeys.get(p.b);
      if (a !== undefined && b !== undefined) pairs.push({ a, b, preferred: p.preferred });
    }
    return { spans, pairs };
  }

  /** A record as the view gets it: image as a webview URI, the human's spans over the judge's. */
  private present(record: InspectorRecord): InspectorRecord {
    const labels = this.opts.labels;
    let hallucination = record.hallucination;
    if (labels) {
      const key = labels.keyOf(record);
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
      const human = labels.spansFor(record);
      if (human) hallucination = { spans: human, source: 'human' };
    }
    return { ...record, image: record.image === null ? null : this.opts.imageUri(record.image), hallucination };
  }

  private async recordAt(index: number): Promise<InspectorRecord> {
    const record = this.served.get(index) ?? (await this.opts.source.record(index));
    if (!record) throw new Error(`no sample record ${index} in ${this.opts.source.info().path}`);
    return record;
  }

  private changed(): LabelsState {
    const state = this.labelsState();
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
      const records = page.records.map((r) => this.present(r));
      return { matching: page.matching, offset: page.offset, records };
    },
    timeline: async ({ promptId }) => ({ points: await this.opts.source.timeline(promptId) }),
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
      for (const [start, end] of spans) {
        if (start < 0 || end <= start || end > record.response.length)
          throw new Error(`span [${start}, ${end}] is outside the response (${record.response.length} characters)`);
      }
      labels.setSpans(record, spans);
      this.present(record);
      return { labels: this.changed() };
    },
    labelPreference: async ({ a, b, preferred }) => {
      const labels = this.needLabels();
      const [ra, rb] = [await this.recordAt(a), await this.recordAt(b)];
      labels.setPreference(ra, rb, preferred);
      this.present(ra);
      this.present(rb);
      return { labels: this.changed() };
    },
    exportPreferences: () => {
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
