// `fact-rlhf labels export RUN_DIR [--out FILE]`: the human labels a run's sample inspector saved in
// RUN_DIR/labels/ as the preference file the next `rm` round trains on (data.preference), with its
// facts (data.facts) and the span labels beside it. Exit 0 when pairs were written, 1 when there was
// no pair to write, 2 on bad input.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LABELS_DIR, LabelStore } from '../runs/labels/labelStore';

export function runLabels(argv: string[], out = process.stdout, err = process.stderr): number {
  const [sub, ...rest] = argv;
  if (sub !== 'export') {
    err.write(
      `error: labels: ${sub ? `unknown subcommand "${sub}"` : 'needs a subcommand'} (usage: fact-rlhf labels export RUN_DIR [--out FILE])\n`,
    );
    return 2;
  }
  let dir: string | undefined;
  let outPath: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--out') {
      outPath = rest[++i];
      if (outPath === undefined) {
        err.write('error: labels export: --out needs a FILE\n');
        return 2;
      }
    } else if (a.startsWith('-')) {
      err.write(`error: labels export: unknown option ${a}\n`);
      return 2;
    } else if (dir === undefined) dir = a;
    else {
      err.write(`error: labels export: unexpected argument ${a}\n`);
      return 2;
    }
  }
  if (dir === undefined) {
    err.write('error: labels export needs a RUN_DIR (the run folder whose samples were labelled)\n');
    return 2;
  }
  const runDir = resolve(dir);
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    err.write(`error: labels export: ${runDir} is not a folder\n`);
    return 2;
  }
  if (!existsSync(join(runDir, LABELS_DIR))) {
    err.write(`error: labels export: ${join(runDir, LABELS_DIR)} does not exist: no sample of this run has been labelled yet\n`);
    return 1;
  }
  const store = new LabelStore(runDir);
  const result = store.exportPreferences(outPath && resolve(outPath));
  const corrupt = store.corrupt;
  if (corrupt.count) err.write(`warning: ${corrupt.count} corrupt label lines skipped:\n${corrupt.at.map((l) => `  ${l}\n`).join('')}`);
  if (result.spansPath) out.write(`wrote ${result.spanLabels} span labels to ${result.spansPath}\n`);
  if (!result.path) {
    err.write(`error: labels export: no preference pair is labelled in ${join(runDir, LABELS_DIR)}; no preference file written\n`);
    return 1;
  }
  out.write(`wrote ${result.pairs} preference pairs to ${result.path}\n`);
  out.write(`wrote their facts to ${result.factsPath}\n`);
  // JSON strings are YAML strings: the lines paste into a config whatever the paths hold.
  const q = JSON.stringify;
  out.write(
    `train a reward model on them with (images are relative to the run folder):\n  data:\n    preference: ${q(result.path)}\n    facts: ${q(result.factsPath)}\n    image_folder: ${q(result.imageFolder)}\n`,
  );
  return 0;
}
