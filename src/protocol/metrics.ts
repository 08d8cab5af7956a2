// What each metric key means (schema/metrics.json, generated into ./generated/metrics): titles,
// units, the primary keys each stage shows first and its one headline figure. The CLI summary and
// the reward-trace panel read them here, so a new metric is named once, in the catalogue.
import { METRIC_CATALOGUE } from './generated/metrics';
import type { MetricInfo } from './generated/metrics';

export type { MetricInfo, MetricKey } from './generated/metrics';
export { METRIC_CATALOGUE } from './generated/metrics';

type CatalogueStage = MetricInfo['stage'];

const exact = new Map<string, MetricInfo>();
const families: Array<{ parts: string[]; info: MetricInfo }> = [];
for (const m of METRIC_CATALOGUE) {
  if (m.key.includes('*')) families.push({ parts: m.key.split('/'), info: m });
  else exact.set(m.key, m);
}

/** The catalogue entry for a key as the events name it; a family's `*` segment matches any one segment. */
export function metricInfo(key: string): MetricInfo | undefined {
  const hit = exact.get(key);
  if (hit) return hit;
  const parts = key.split('/');
  return families.find((f) => f.parts.length === parts.length && f.parts.every((p, i) => p === '*' || p === parts[i]))?.info;
}

/** The human title of a key, or undefined for a key the catalogue does not know. */
export function metricTitle(key: string): string | undefined {
  return metricInfo(key)?.title;
}

/** A stage's primary keys, in catalogue order (families left out: they name no one key). */
export function primaryMetricKeys(stage: CatalogueStage): string[] {
  return METRIC_CATALOGUE.filter((m) => m.stage === stage && m.primary && !m.key.includes('*')).map((m) => m.key);
}

/** A stage's headline figure for summaries: its `headline` entry, else its first primary key. */
export function headlineMetric(stage: CatalogueStage): { key: string; label: string } | undefined {
  const m = METRIC_CATALOGUE.find((x) => x.stage === stage && x.headline) ?? METRIC_CATALOGUE.find((x) => x.stage === stage && x.primary);
  return m ? { key: m.key, label: m.label ?? m.title } : undefined;
}
