// Opens any supported metrics source by looking at what is there, behind the one MetricReader interface.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { RunEvent } from '../../protocol';
import { EVENTS_FILE } from '../runDirectory';
import { RunFolderReader } from './runFolder';
import { TensorBoardReader, findEventFiles, isEventFileName } from './tensorboard';
import { JsonlMetricReader } from './jsonl';
import { TrainerStateReader } from './trainerState';
import { LlavaRolloutsReader, isLlavaRolloutsDir } from './llavaRollouts';
import { VerlRolloutsReader, isVerlRolloutFile, isVerlRolloutsDir } from './verlRollouts';
import { SourceError, type MetricReader } from './types';

export * from './types';
export { RunFolderReader, TensorBoardReader, JsonlMetricReader, TrainerStateReader, LlavaRolloutsReader, VerlRolloutsReader };
export { aliasOf } from './aliases';

/** Our events.jsonl lines carry `v` and `type`; a foreign JSONL log does not. */
function looksLikeOurEvents(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf.toString('utf8', 0, n).split('\n')[0];
    const rec = JSON.parse(first) as Record<string, unknown>;
    return typeof rec.v === 'number' && typeof rec.type === 'string';
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** A reader for `path`: a run folder, a TensorBoard log folder or event file, a JSONL log, a
 * trainer_state.json (or a folder holding one), a LLaVA-RLHF rollouts/ folder (or its output_dir), or
 * veRL's rollout_data_dir (or one of its <step>.jsonl files). Throws SourceError when it is none of these. */
export function openMetricSource(path: string): MetricReader {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SourceError(`${path}: no such file or folder`);
  }
  if (st.isDirectory()) {
    if (existsSync(join(path, EVENTS_FILE))) return new RunFolderReader(path);
    if (findEventFiles(path).length) return new TensorBoardReader(path);
    if (existsSync(join(path, 'trainer_state.json'))) return new TrainerStateReader(join(path, 'trainer_state.json'));
    if (isLlavaRolloutsDir(path)) return new LlavaRolloutsReader(path);
    if (isLlavaRolloutsDir(join(path, 'rollouts'))) return new LlavaRolloutsReader(join(path, 'rollouts'));
    if (isVerlRolloutsDir(path)) return new VerlRolloutsReader(path);
    throw new SourceError(
      `${path}: not a run folder (no ${EVENTS_FILE}), no TensorBoard event files (*tfevents*), no trainer_state.json, no LLaVA-RLHF rollouts/step_N.json, no veRL <step>.jsonl rollout dumps`,
    );
  }
  const name = basename(path);
  if (isEventFileName(name)) return new TensorBoardReader(path);
  if (name === 'trainer_state.json') return new TrainerStateReader(path);
  if (isVerlRolloutFile(path)) return new VerlRolloutsReader(path);
  if (/\.jsonl?$/.test(name)) return looksLikeOurEvents(path) ? new RunFolderReader(path, true) : new JsonlMetricReader(path);
  throw new SourceError(`${path}: unknown log format (expected a run folder, *tfevents* file, *.jsonl or trainer_state.json)`);
}

/** Everything a source holds now. */
export function readAllEvents(reader: MetricReader): RunEvent[] {
  return reader.readNew().events;
}
