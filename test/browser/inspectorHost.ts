// The host end of the sample inspector for the browser tests and the first-screen bench: the
// extension's real HostChannel answering the page's requests from a SampleSource (the host data
// layer) and the run's real LabelStore (labels/ in the run folder), with image paths turned into
// URLs the test server serves (asWebviewUri's part).
import type { Page } from 'playwright-core';
import { HostChannel } from '../../src/editor/webviews/channel';
import {
  sampleInspectorContract,
  type InspectorRecord,
  type InspectorRenderedMessage,
  type LabelsState,
  type SampleInspectorContract,
  type ScoreResult,
  type SourceSummary,
} from '../../src/protocol/webviews/sampleInspector';
import { LabelStore, recordKey } from '../../src/runs/labels/labelStore';
import type { SampleSource } from '../../src/runs/samples/types';
import { sendRawToView } from './harness';

export interface InspectorHostOptions {
  source: SampleSource;
  fileUri(path: string): string;
  /** The run the user picks on `pickCompareRun` (the host's quick pick). */
  compareWith?: { title: string; source: SampleSource };
  initialStep?: number | null;
  score?(index: number, response: string): ScoreResult | Promise<ScoreResult>;
}

export interface InspectorHost {
  channel: HostChannel<SampleInspectorContract>;
  rendered: InspectorRenderedMessage[];
  /** Every query the page asked (offset, limit): what the virtual list fetched. */
  queries: { offset: number; limit: number }[];
  /** The labels as the view was last told them. */
  labels: LabelsState;
  /** Where exportPreferences wrote (the host's save dialog picks the path; here: labels/ of the run). */
  exported: { path: string | null; pairs: number }[];
  log: string[];
  summary(): SourceSummary;
  /** The source learnt more (its background pass, a live run's growth): tells the view. */
  sourceChanged(): void;
  /** Give this to openView as its host. */
  receive(message: unknown, page: Page): void;
}

export function inspectorHost(opts: InspectorHostOptions): InspectorHost {
  let page: Page | undefined;
  let other: SampleSource | null = null;
  const runDir = opts.source.info().runDir;
  const store = runDir === null ? null : new LabelStore(runDir);
  /** Record key → index in the source: built on the first label request (the test runs are small). */
  let keys: Map<string, number> | undefined;
  const labelsState = async (): Promise<LabelsState> => {
    if (!store) return { spans: {}, pairs: [] };
    if (!keys) {
      keys = new Map();
      for (let i = 0; i < opts.source.info().total; i++) {
        const r = await opts.source.record(i);
        if (r) keys.set(recordKey(r), i);
      }
    }
    const map = keys;
    host.labels = store.state((k) => map.get(k));
    return host.labels;
  };
  const recordAt = async (index: number): Promise<InspectorRecord> => {
    const r = await opts.source.record(index);
    if (!r) throw new Error(`no record ${index} in ${opts.source.info().path}`);
    return r;
  };
  const needStore = (): LabelStore => {
    if (!store) throw new Error('labels need a run folder');
    return store;
  };
  const toWire = (r: InspectorRecord): InspectorRecord => ({ ...r, image: r.image === null ? null : opts.fileUri(r.image) });
  const summary = (): SourceSummary => {
    const info = opts.source.info();
    return {
      title: info.title,
      format: info.format,
      path: info.path,
      runDir: info.runDir,
      total: info.total,
      steps: info.steps,
      captionTypes: info.captionTypes,
      corrupt: info.corrupt,
      initialStep: opts.initialStep ?? null,
      live: false,
      canScore: opts.score !== undefined,
    };
  };
  const host: InspectorHost = {
    rendered: [],
    queries: [],
    labels: { spans: {}, pairs: [] },
    exported: [],
    log: [],
    summary,
    channel: new HostChannel({
      contract: sampleInspectorContract,
      post: (m) => page && sendRawToView(page, m),
      onReady: () => host.channel.notify({ type: 'summary', summary: summary() }),
      commands: {
        rendered: (m) => host.rendered.push(m),
        pickCompareRun: () => {
          other = opts.compareWith?.source ?? null;
          host.channel.notify({ type: 'compareRun', title: opts.compareWith?.title ?? null });
        },
      },
      requests: {
        query: async (p) => {
          host.queries.push({ offset: p.offset, limit: p.limit });
          const r = await opts.source.query(p);
          return { ...r, records: r.records.map(toWire) };
        },
        timeline: async ({ promptId }) => ({ points: await opts.source.timeline(promptId) }),
        compare: async ({ step, promptIds }) => {
          if (!other) return { step: null, title: null, records: promptIds.map(() => null) };
          const at = other.nearestStep(step);
          const records = at === null ? promptIds.map(() => null) : await other.recordsFor(at, promptIds);
          return { step: at, title: opts.compareWith?.title ?? null, records: records.map((r) => r && toWire(r)) };
        },
        labelSpans: async ({ index, spans }) => {
          needStore().setSpans(await recordAt(index), spans);
          return { labels: await labelsState() };
        },
        labelPreference: async ({ a, b, preferred }) => {
          needStore().setPreference(await recordAt(a), await recordAt(b), preferred);
          return { labels: await labelsState() };
        },
        exportPreferences: () => {
          const r = needStore().exportPreferences();
          host.exported.push({ path: r.path, pairs: r.pairs });
          return { path: r.path, pairs: r.pairs };
        },
        score: async ({ index, response }) => {
          if (!opts.score) throw new Error('no reward model export is configured');
          return opts.score(index, response);
        },
      },
      log: (line) => host.log.push(line),
    }),
    sourceChanged() {
      if (host.channel.isReady) host.channel.notify({ type: 'summary', summary: summary() });
    },
    receive(message, p) {
      page = p;
      host.channel.receive(message);
    },
  };
  return host;
}
