// TEMPORARY stand-in for src/runs/samples (openSampleSource), which is being written beside this
// branch: reads a run folder's samples/*.jsonl eagerly into memory and answers the SampleSource
// interface. To be deleted once the real data layer lands; nothing outside test/ uses it.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { InspectorRecord, QueryParams, QueryResult, SortKey, TimelinePoint } from '../../src/protocol/webviews/sampleInspector';
import type { SampleSource, SampleSourceInfo } from '../../src/runs/samples/types';

interface FileRecord {
  step: number;
  prompt_id: string;
  image?: string | null;
  prompt: string;
  response: string;
  facts: string[];
  reward: InspectorRecord['reward'];
  advantage?: number | null;
  hallucination?: InspectorRecord['hallucination'];
  caption_type: number;
}

export function openTempSampleSource(runDir: string): SampleSource {
  const dir = join(runDir, 'samples');
  const records: InspectorRecord[] = [];
  let corrupt = 0;
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let r: FileRecord;
      try {
        r = JSON.parse(line) as FileRecord;
      } catch {
        corrupt++;
        continue;
      }
      records.push({
        index: records.length,
        step: r.step,
        promptId: r.prompt_id,
        prompt: r.prompt,
        response: r.response,
        facts: r.facts,
        image: r.image ? (isAbsolute(r.image) ? r.image : join(runDir, r.image)) : null,
        reward: r.reward,
        extra: {},
        advantage: r.advantage ?? null,
        hallucination: r.hallucination ?? null,
        captionType: r.caption_type,
      });
    }
  }
  const steps = [...new Set(records.map((r) => r.step as number))].sort((a, b) => a - b);
  const info: SampleSourceInfo = {
    format: 'fact-rlhf',
    path: dir,
    runDir,
    title: basename(runDir),
    total: records.length,
    steps,
    captionTypes: [...new Set(records.map((r) => r.captionType as number))].sort((a, b) => a - b),
    corrupt,
    corruptAt: [],
  };
  const key: Record<SortKey, (r: InspectorRecord) => number> = {
    index: (r) => r.index,
    total: (r) => r.reward.total ?? Number.NEGATIVE_INFINITY,
    rm: (r) => r.reward.rm ?? Number.NEGATIVE_INFINITY,
    halluc: (r) => r.hallucination?.spans.length ?? 0,
    length: (r) => r.response.length,
  };
  const matches = (p: QueryParams, r: InspectorRecord): boolean => {
    const f = p.filter;
    if (p.step !== null && r.step !== p.step) return false;
    if (f.captionType !== null && r.captionType !== f.captionType) return false;
    if (f.hallucinatedOnly && !(r.hallucination?.spans.length ?? 0)) return false;
    const t = f.text.toLowerCase();
    return !t || [r.prompt ?? '', r.response, ...(r.facts ?? [])].some((s) => s.toLowerCase().includes(t));
  };
  return {
    info: () => info,
    refresh: () => Promise.resolve(false),
    query(p: QueryParams): Promise<QueryResult> {
      const k = key[p.sort];
      const all = records.filter((r) => matches(p, r)).sort((a, b) => (p.descending ? k(b) - k(a) : k(a) - k(b)) || a.index - b.index);
      return Promise.resolve({ matching: all.length, offset: p.offset, records: all.slice(p.offset, p.offset + p.limit) });
    },
    record: (i) => Promise.resolve(records[i]),
    timeline(promptId: string): Promise<TimelinePoint[]> {
      return Promise.resolve(
        records
          .filter((r) => r.promptId === promptId)
          .map((r) => ({
            index: r.index,
            step: r.step as number,
            response: r.response,
            reward: r.reward,
            spans: r.hallucination?.spans.length ?? 0,
          })),
      );
    },
    nearestStep(step: number): number | null {
      let best: number | null = null;
      for (const s of steps) if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s;
      return best;
    },
    recordsFor: (step, ids) => Promise.resolve(ids.map((id) => records.find((r) => r.step === step && r.promptId === id) ?? null)),
    close: () => undefined,
  };
}
