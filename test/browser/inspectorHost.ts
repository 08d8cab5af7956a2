// The host end of the sample inspector for the browser tests and the first-screen bench: the
// extension's real HostChannel and SampleInspectorSession answering the page's requests from a
// SampleSource (the host data layer) and the run's real LabelStore (labels/ in the run folder), with
// image paths turned into URLs the test server serves (asWebviewUri's part).
import type { Page } from 'playwright-core';
import { HostChannel } from '../../src/editor/webviews/channel';
import {
  sampleInspectorContract,
  type InspectorRenderedMessage,
  type LabelsState,
  type SampleInspectorContract,
  type ScoreResult,
  type SourceSummary,
} from '../../src/protocol/webviews/sampleInspector';
import { LabelStore } from '../../src/runs/labels/labelStore';
import { SampleInspectorSession } from '../../src/viewModels/sampleInspectorSession';
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
  let other: { source: SampleSource; title: string } | undefined;
  const runDir = opts.source.info().runDir;
  // The extension's own session logic (src/viewModels/sampleInspectorSession.ts) answers every request:
  // only the VS Code pieces (asWebviewUri, the quick pick) are played here.
  const session = new SampleInspectorSession({
    source: opts.source,
    initialStep: opts.initialStep ?? null,
    live: () => false,
    imageUri: (path) => opts.fileUri(path),
    compare: () => other,
    score: opts.score ? async (record, response) => opts.score!(record.index, response) : undefined,
    labels: runDir === null ? undefined : new LabelStore(runDir),
    onLabelsChanged: (labels) => {
      host.labels = labels;
      host.channel.notify({ type: 'labels', labels }); // as the extension's provider does
    },
  });
  const summary = (): SourceSummary => session.summary();
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
          other = opts.compareWith;
          host.channel.notify({ type: 'compareRun', title: opts.compareWith?.title ?? null });
        },
      },
      requests: {
        query: (p) => {
          host.queries.push({ offset: p.offset, limit: p.limit });
          return session.handlers.query(p);
        },
        timeline: (p) => session.handlers.timeline(p),
        compare: (p) => session.handlers.compare(p),
        labelSpans: (p) => session.handlers.labelSpans(p),
        labelPreference: (p) => session.handlers.labelPreference(p),
        exportPreferences: async (p) => {
          const r = await session.handlers.exportPreferences(p);
          host.exported.push(r);
          return r;
        },
        score: (p) => session.handlers.score(p),
      },
      log: (line) => host.log.push(line),
    }),
    sourceChanged() {
      if (host.channel.isReady) host.channel.notify({ type: 'summary', summary: session.summary(null) });
    },
    receive(message, p) {
      page = p;
      host.channel.receive(message);
    },
  };
  return host;
}
