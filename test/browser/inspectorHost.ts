// The host end of the sample inspector for the browser tests and the first-screen bench: the
// extension's real HostChannel answering the page's requests from a SampleSource (the host data
// layer), with image paths turned into URLs the test server serves (asWebviewUri's part).
// The human-label store is an in-memory stand-in (the host's label files are another module): it
// answers labelSpans / labelPreference the way the contract says, so the view's side can be tested.
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
  labels: LabelsState;
  log: string[];
  summary(): SourceSummary;
  /** Give this to openView as its host. */
  receive(message: unknown, page: Page): void;
}

export function inspectorHost(opts: InspectorHostOptions): InspectorHost {
  let page: Page | undefined;
  let other: SampleSource | null = null;
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
        labelSpans: ({ index, spans }) => {
          host.labels = { ...host.labels, spans: { ...host.labels.spans, [String(index)]: spans } };
          return { labels: host.labels };
        },
        labelPreference: ({ a, b, preferred }) => {
          const pairs = host.labels.pairs.filter((p) => !((p.a === a && p.b === b) || (p.a === b && p.b === a)));
          if (preferred !== null) pairs.push({ a, b, preferred });
          host.labels = { ...host.labels, pairs };
          return { labels: host.labels };
        },
        exportPreferences: () => ({ path: null, pairs: host.labels.pairs.length }),
        score: async ({ index, response }) => {
          if (!opts.score) throw new Error('no reward model export is configured');
          return opts.score(index, response);
        },
      },
      log: (line) => host.log.push(line),
    }),
    receive(message, p) {
      page = p;
      host.channel.receive(message);
    },
  };
  return host;
}
