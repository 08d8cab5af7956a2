// "New Experiment…" without VS Code (src/viewModels/newExperiment.ts): every preset names an
// example the VSIX ships; the new file is the example byte for byte below a header, with only
// `name` changed; written into a folder of its own it validates with the real language-server
// engine exactly as the example does (no new error: it stays runnable from the user's folder),
// and its runs go to runs/ beside it. File names are checked before anything is written.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { analyze, createNodeHost } from '../../language-server/src/engine/index';
import { defaultRunDirectory } from '../../src/runs/runNaming';
import {
  EXPERIMENT_PRESETS,
  experimentFileNameProblem,
  experimentNameOf,
  normaliseExperimentFileName,
  presetText,
} from '../../src/viewModels/newExperiment';

const ROOT = resolve(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-new-experiment-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function errors(text: string, path: string): string[] {
  return analyze(text, path, createNodeHost({ env: {} }))
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.message}`);
}

test('three presets: tiny CPU, LLaVA-RLHF 7B and 13B, each an example the VSIX ships', () => {
  assert.deepEqual(
    EXPERIMENT_PRESETS.map((p) => p.id),
    ['tiny', 'llava-rlhf-7b', 'llava-rlhf-13b'],
  );
  const shipped = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
  assert.match(shipped, /^!examples\/\*\*\/\*\.rlhf\.yaml$/m);
  for (const p of EXPERIMENT_PRESETS) assert.ok(existsSync(join(ROOT, 'examples', p.example)), p.example);
});

for (const preset of EXPERIMENT_PRESETS) {
  test(`preset ${preset.id}: the example below a header, only its name changed, as valid as the example in a folder of its own`, () => {
    const exampleText = readFileSync(join(ROOT, 'examples', preset.example), 'utf8');
    const text = presetText(preset, exampleText, 'studies/My Study.rlhf.yaml', '1.2.3');
    const lines = text.split('\n');
    const original = exampleText.split('\n');
    const header = lines.slice(0, lines.length - original.length);
    const body = lines.slice(lines.length - original.length);
    assert.ok(header.length >= 3 && header.every((l) => l.startsWith('#')), 'a header comment comes first');
    assert.match(header.join('\n'), new RegExp(`examples/${preset.example.replace(/\./g, '\\.')} of Fact-RLHF Studio 1\\.2\\.3`));
    const changed = body.flatMap((l, i) => (l === original[i] ? [] : [i]));
    assert.equal(changed.length, 1, 'one line differs: name');
    assert.match(body[changed[0]], /^name: /);
    assert.equal((parse(text) as { name: string }).name, 'My Study');

    const dir = join(work, preset.id, 'studies');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'My Study.rlhf.yaml');
    writeFileSync(file, text);
    assert.deepEqual(errors(text, file), errors(exampleText, join(ROOT, 'examples', preset.example)), 'no error the example does not have');
    const runDir = defaultRunDirectory(file, 'ppo');
    assert.ok(runDir.startsWith(join(dir, 'runs') + '/'), `runs go beside the file: ${runDir}`);
  });
}

test('the tiny preset has no error at all: it runs as made', () => {
  const tiny = EXPERIMENT_PRESETS[0];
  const text = presetText(tiny, readFileSync(join(ROOT, 'examples', tiny.example), 'utf8'), 'tiny-experiment.rlhf.yaml', '0');
  const file = join(work, 'tiny-alone', 'tiny-experiment.rlhf.yaml');
  mkdirSync(join(work, 'tiny-alone'), { recursive: true });
  writeFileSync(file, text);
  assert.deepEqual(errors(text, file), []);
});

test('file names: the suffix is added, paths stay inside the folder, nothing is overwritten', () => {
  const taken = new Set(['taken.rlhf.yaml']);
  const exists = (n: string): boolean => taken.has(n);
  assert.equal(normaliseExperimentFileName(' my-run '), 'my-run.rlhf.yaml');
  assert.equal(normaliseExperimentFileName('my-run.yaml'), 'my-run.rlhf.yaml');
  assert.equal(normaliseExperimentFileName('a\\b.rlhf.yaml'), 'a/b.rlhf.yaml');
  assert.equal(experimentNameOf('studies/x-1.rlhf.yaml'), 'x-1');
  assert.equal(experimentFileNameProblem('my-run', exists), undefined);
  assert.equal(experimentFileNameProblem('studies/my-run.rlhf.yaml', exists), undefined);
  assert.match(experimentFileNameProblem('  ', exists) ?? '', /Give the experiment a file name/);
  assert.match(experimentFileNameProblem('taken', exists) ?? '', /taken\.rlhf\.yaml already exists/);
  assert.match(experimentFileNameProblem('../out.rlhf.yaml', exists) ?? '', /inside the folder/);
  assert.match(experimentFileNameProblem('/etc/x.rlhf.yaml', exists) ?? '', /not an absolute path/);
  assert.match(experimentFileNameProblem('C:/x.rlhf.yaml', exists) ?? '', /not an absolute path/);
  assert.match(experimentFileNameProblem('a//b.rlhf.yaml', exists) ?? '', /No empty folder names/);
  assert.match(experimentFileNameProblem('.rlhf.yaml', exists) ?? '', /needs a name/);
});
