// The scorer's pure parts: the RM input from rm.json's pieces (vs texts the trainer's rm_input
// rendered), image preprocessing (vs PIL's numbers), padding, rm.json checks, the messages between
// scorer and worker, and the output lines shared with the Python reference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanFacts, encodeRmText, leftPad, pyStrip, rmText, type TextTokenizer } from '../../src/scoring/rmInput';
import { decodePng, pixelValues, resizeBicubic } from '../../src/scoring/image';
import { parseRmSpec, ScoringError, type ImageSpec, type RmEncoding, type RmInputPieces } from '../../src/scoring/modelSpec';
import { parseHostMessage, parseWorkerMessage } from '../../src/protocol/scoring';
import { formatResult, type ScoreRecord } from '../../src/scoring/samples';

const fixtures = join(__dirname, '..', 'fixtures', 'scoring');
interface InputCase {
  prompt: string;
  response: string;
  facts: string[] | null;
  text: string;
}
const input = JSON.parse(readFileSync(join(fixtures, 'rm-input.json'), 'utf8')) as { pieces: RmInputPieces; cases: InputCase[] };

test('rm.json pieces rebuild exactly the text the trainer renders, with, without and with empty facts', () => {
  assert.ok(input.cases.length >= 5);
  for (const c of input.cases) assert.equal(rmText(input.pieces, c.prompt, c.response, c.facts), c.text, JSON.stringify(c));
  // The facts reach the text, in the order given; no facts is the plain-RLHF text.
  const [first] = input.cases;
  const withFacts = rmText(input.pieces, first.prompt, first.response, ['B fact.', 'A fact.']);
  assert.ok(withFacts.indexOf('B fact.') < withFacts.indexOf('A fact.'));
  assert.equal(rmText(input.pieces, first.prompt, first.response, []), rmText(input.pieces, first.prompt, first.response, null));
  assert.notEqual(withFacts, rmText(input.pieces, first.prompt, first.response, null));
});

test('fact cleaning and stripping follow Python whitespace, not JavaScript\u2019s', () => {
  assert.deepEqual(cleanFacts(['  a \t b\n', '', ' \u00a0 ', 'x\x1cy']), ['a b', 'x y']);
  assert.equal(pyStrip('\ufeffok\x85'), '\ufeffok'); // U+FEFF is not whitespace to Python; U+0085 is
});

const encoding: RmEncoding = {
  padding_side: 'left',
  pad_id: 0,
  bos_id: 1,
  prepend_bos: true,
  add_special_tokens: false,
  vocab_size: 10,
  special_tokens: {},
  image_token_id: 4,
  image_token: '<image>',
  image_tokens: 3,
  max_length: 8,
};
const fakeTokenizer: TextTokenizer = { encode: async (text) => text.split(' ').map((w) => (w === '<image>' ? 4 : w.length + 4)) };

test('token ids: BOS first, each image token expanded, longer than max_length rejected', async () => {
  assert.deepEqual(await encodeRmText(encoding, fakeTokenizer, '<image> ab c', 'row'), [1, 4, 4, 4, 6, 5]);
  await assert.rejects(
    encodeRmText(encoding, fakeTokenizer, '<image> a b c d e', 'record 7'),
    /record 7: the RM input is 9 tokens, longer than the model's max_length 8/,
  );
});

test('batches are padded on the left with a matching attention mask', () => {
  const b = leftPad([[5, 6, 7], [8]], 0);
  assert.equal(b.width, 3);
  assert.deepEqual([...b.ids], [5n, 6n, 7n, 0n, 0n, 8n]);
  assert.deepEqual([...b.mask], [1n, 1n, 1n, 0n, 0n, 1n]);
});

interface ImageExpected {
  spec: Omit<ImageSpec, 'resize'>;
  sizes: { width: number; height: number; bytes: number[]; pixel_values: number[] }[];
}

test('image preprocessing matches PIL (BICUBIC resize bytes exactly; pixel_values to float32)', () => {
  const expected = JSON.parse(readFileSync(join(fixtures, 'image-expected.json'), 'utf8')) as ImageExpected;
  const img = decodePng(readFileSync(join(fixtures, 'image.png')), 'image.png');
  assert.equal(img.width, 37);
  assert.equal(img.height, 23);
  for (const size of expected.sizes) {
    const sized = resizeBicubic(img, size.width, size.height);
    assert.deepEqual([...sized.data], size.bytes, `resize to ${size.width}×${size.height}`);
    const spec = { ...expected.spec, resize: [size.width, size.height] } as ImageSpec;
    const out = new Float32Array(3 * size.width * size.height);
    pixelValues(img, spec, 'rm.json', out, 0);
    let worst = 0;
    out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - size.pixel_values[i]))));
    assert.ok(worst <= 1e-6, `pixel_values ${size.width}×${size.height}: max diff ${worst}`);
  }
  // Same size: PIL's resize is the identity (the shapes world's images are already at the spec size).
  assert.equal(resizeBicubic(img, 37, 23), img);
});

test('an unreadable image is an error naming the file', () => {
  assert.throws(
    () => decodePng(Buffer.from('not a png'), '/data/x.png'),
    (e: unknown) => e instanceof ScoringError && e.file === '/data/x.png' && /\/data\/x\.png: cannot read the image/.test(e.message),
  );
});

test('rm.json: a foreign file or another format version is refused, naming the file', () => {
  const file = '/m/rm.json';
  assert.throws(
    () => parseRmSpec({ format: 'something-else', version: 2 }, '/m', file),
    /\/m\/rm\.json: not a Fact-RLHF reward-model export/,
  );
  assert.throws(
    () => parseRmSpec({ format: 'fact-rlhf-reward-model', version: 1 }, '/m', file),
    /\/m\/rm\.json: format version 1; this scorer reads version 2/,
  );
  assert.throws(
    () => parseRmSpec({ format: 'fact-rlhf-reward-model', version: 2, inputs: [], outputs: [{ name: 'score' }] }, '/m', file),
    /\/m\/rm\.json: no `encoding`/,
  );
});

test('scorer ↔ worker messages are validated on both ends; malformed ones are refused with a reason', () => {
  const item = { prompt: 'p', response: 'r', facts: null, image: '/i.png' };
  assert.deepEqual(parseHostMessage({ type: 'score', id: 3, items: [item], batchSize: 8 }), {
    type: 'score',
    id: 3,
    items: [item],
    batchSize: 8,
  });
  for (const bad of [
    null,
    { type: 'score', id: 1, items: [{ prompt: 1 }], batchSize: 8 },
    { type: 'load', id: 'x' },
    { type: 'score', id: 1, items: [], batchSize: 0 },
    { type: 'drop', id: 1 },
  ]) {
    assert.equal(typeof parseHostMessage(bad), 'string', JSON.stringify(bad));
  }
  assert.deepEqual(parseWorkerMessage({ type: 'scored', id: 2, scores: [0.5], ms: 1 }), { type: 'scored', id: 2, scores: [0.5], ms: 1 });
  for (const bad of [
    { type: 'scored', id: 2, scores: ['0.5'], ms: 1 },
    { type: 'loaded', id: 1, model: { provider: 'tpu' } },
    { type: 'error', id: 1 },
    { id: 1 },
  ]) {
    assert.equal(typeof parseWorkerMessage(bad), 'string', JSON.stringify(bad));
  }
});

test('output lines are the Python reference\u2019s format', () => {
  const r: ScoreRecord = { index: 3, prompt_id: 'p-1', step: 0, prompt: '', response: '', facts: [], image: '' };
  assert.equal(formatResult(r, 0.25, -0.5, false), '   3  p-1  with_facts +0.250000  without_facts -0.500000  difference +0.750000');
  assert.deepEqual(JSON.parse(formatResult(r, 0.25, -0.5, true)), {
    index: 3,
    prompt_id: 'p-1',
    step: 0,
    with_facts: 0.25,
    without_facts: -0.5,
    difference: 0.75,
  });
});
