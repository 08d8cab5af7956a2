// Browser tier: the experiment form webview in headless Chromium, rendered from the REAL schema and
// REAL configs (examples/), with the extension's real host end (HostChannel, the form model,
// editField) behind the page and the language server's engine run in-process for diagnostics. The
// one stand-in is the document: VS Code's TextDocument cannot exist in a plain browser, so the host
// here keeps the text in a string and applies the edit's changes to it, as a WorkspaceEdit would.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import experimentSchema from '../../schema/experiment.schema.json';
import { analyze, createNodeHost, diagnosticsWithPaths } from '../../language-server/src/engine/index';
import { HostChannel } from '../../src/editor/webviews/channel';
import { experimentFormContract, type FormRenderedMessage } from '../../src/protocol/webviews/experimentForm';
import { applyChanges, editField } from '../../src/viewModels/configEdit';
import { fieldIndex, formDiagnostics, formSections, formValues, groupIds, type SchemaNode } from '../../src/viewModels/experimentForm';
import { buildBundle, DARK_THEME, launchChromium, openView, ROOT, sendRawToView, servePage, type PageServer } from './harness';

interface FormWindow {
  __posted: Array<{ type: string } & Partial<Omit<FormRenderedMessage, 'type'>>>;
  __cspViolations: string[];
}
declare const window: FormWindow;

const SECTIONS = formSections(experimentSchema as SchemaNode);
const FIELDS = fieldIndex(SECTIONS);
const GROUPS = groupIds(SECTIONS);

let server: PageServer;
let browser: Browser;

before(async () => {
  buildBundle('experiment-form');
  server = await servePage('experiment-form');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The host of one form: the document's text, the real channel, model and engine. */
class FormHost {
  version = 1;
  readonly channel: HostChannel<typeof experimentFormContract>;
  page: Page | undefined;
  edits = 0;

  constructor(
    public text: string,
    readonly path: string,
  ) {
    this.channel = new HostChannel({
      contract: experimentFormContract,
      post: (m) => this.page && void sendRawToView(this.page, m),
      beforeReady: 'drop',
      onReady: () => {
        this.channel.notify({ type: 'init', fileName: 'x.rlhf.yaml', sections: SECTIONS, readOnly: false });
        this.publish();
      },
      // The launch panel has its own browser test (formLaunch.test.ts); here it is told no plan.
      commands: {},
      requests: {
        edit: (p) => {
          const field = FIELDS.get(p.field);
          if (!field) return { applied: false, error: 'unknown field' };
          const changes = editField(this.text, field.path, p.op === 'reset' ? undefined : p.value);
          this.text = applyChanges(this.text, changes);
          this.version++;
          this.edits++;
          this.publish();
          return { applied: true };
        },
        applyFix: () => ({ applied: false }),
        planLaunch: (p) => ({ ok: false as const, stage: p.stage, backend: p.backend, reason: 'not part of this test' }),
      },
      log: (line) => assert.fail(line),
    });
  }

  publish(): void {
    const { values, parseError } = formValues(FIELDS, this.text, this.path);
    this.channel.notify({ type: 'values', version: this.version, values, parseError });
    const a = analyze(this.text, this.path, createNodeHost({ env: {} }));
    this.channel.notify({
      type: 'diagnostics',
      version: this.version,
      items: formDiagnostics(diagnosticsWithPaths(a, true), FIELDS, GROUPS, this.path),
    });
  }
}

async function open(file: string): Promise<{ page: Page; host: FormHost }> {
  const host = new FormHost(readFileSync(file, 'utf8'), file);
  const page = await openView(browser, server.url, DARK_THEME, { width: 1000, height: 900 }, (m, p) => {
    host.page = p; // the page's `ready` arrives before openView returns
    host.channel.receive(m);
  });
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'init'));
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'diagnostics'));
  return { page, host };
}

/** The lines of `after` equal those of `before` everywhere but at `line` (0-based), added or replaced. */
function onlyLineChanged(before: string, after: string, line: number, kind: 'replaced' | 'inserted'): void {
  const b = before.split('\n');
  const a = after.split('\n');
  if (kind === 'replaced') {
    assert.equal(a.length, b.length);
    for (let i = 0; i < b.length; i++) if (i !== line) assert.equal(a[i], b[i], `line ${i + 1} changed`);
    assert.notEqual(a[line], b[line]);
  } else {
    assert.equal(a.length, b.length + 1);
    assert.deepEqual([...a.slice(0, line), ...a.slice(line + 1)], b);
  }
}

function fieldInput(page: Page, id: string) {
  return page.locator(`[data-field="${id}"] vscode-text-field input`);
}

test('renders every field of the real schema with the 13B recipe values, origins and reference values', async () => {
  const file = join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml');
  const { page, host } = await open(file);
  const rows = await page.locator('[data-field]').count();
  assert.equal(rows, FIELDS.size, 'one row per schema leaf');
  const text = readFileSync(file, 'utf8');
  const stepLine = text.split('\n').findIndex((l) => /^\s+step_batch_size:/.test(l)) + 1;
  const step = page.locator('[data-field="ppo.step_batch_size"]');
  assert.equal(await fieldInput(page, 'ppo.step_batch_size').inputValue(), /step_batch_size:\s*(\d+)/.exec(text)![1]);
  assert.equal(await step.locator('.origin').textContent(), `this file, line ${stepLine}`);
  assert.match((await page.locator('[data-field="ppo.kl_coef"] .facts').textContent()) ?? '', /LLaVA-RLHF 0\.1/);
  assert.equal(await page.locator('[data-field="ppo.target_kl"] .origin').textContent(), 'default');
  // Enums are dropdowns with the schema's choices.
  assert.equal(await page.locator('[data-field="model.dtype"] vscode-option').count(), 3);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.equal(host.edits, 0);
  await page.context().close();
});

test('changing a field is a minimal edit: the text is byte for byte the same outside that line, comments included', async () => {
  const file = join(ROOT, 'examples', 'tiny-ppo.rlhf.yaml');
  const { page, host } = await open(file);
  const before = host.text;
  const klLine = before.split('\n').findIndex((l) => /^\s+kl_coef:/.test(l));
  await fieldInput(page, 'ppo.kl_coef').fill('0.2');
  await page.keyboard.press('Tab'); // leaving the field commits it, as Enter does
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'values' && m.version === 2));
  onlyLineChanged(before, host.text, klLine, 'replaced');
  assert.equal(host.text.split('\n')[klLine], before.split('\n')[klLine].replace('0.05', '0.2'));
  assert.equal(host.text.match(/#/g)?.length, before.match(/#/g)?.length, 'every comment kept');

  // A key the file does not set (its default shows) becomes one new line in its section.
  assert.equal(await page.locator('[data-field="ppo.gamma"] .origin').textContent(), 'default');
  const beforeGamma = host.text;
  await fieldInput(page, 'ppo.gamma').fill('0.99');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'values' && m.version === 3));
  const ppoEnd = beforeGamma.split('\n').findIndex((l) => l.startsWith('  samples_per_step:'));
  onlyLineChanged(beforeGamma, host.text, ppoEnd + 1, 'inserted');
  assert.equal(host.text.split('\n')[ppoEnd + 1], '  gamma: 0.99');
  assert.match((await page.locator('[data-field="ppo.gamma"] .origin').textContent()) ?? '', /^this file, line \d+$/);

  // Reset removes exactly that line again: the file is back to what it was.
  await page.locator('[data-field="ppo.gamma"] vscode-button.reset').click();
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'values' && m.version === 4));
  assert.equal(host.text, beforeGamma);
  await page.context().close();
});

test('a diagnostic of the engine shows at its field, and a text typed for a number is left to the engine to judge', async () => {
  const { page, host } = await open(join(ROOT, 'examples', 'tiny-ppo.rlhf.yaml'));
  await fieldInput(page, 'ppo.kl_coef').fill('-1');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() =>
    window.__posted.some((m) => m.type === 'rendered' && m.what === 'diagnostics' && m.version === 2 && (m.atFields ?? 0) > 0),
  );
  const problem = page.locator('[data-field="ppo.kl_coef"] .problem');
  assert.ok((await problem.count()) >= 1, 'a problem at ppo.kl_coef');
  assert.match((await problem.first().textContent()) ?? '', /kl_coef|0|minimum/);
  assert.equal(await page.locator('[data-field="ppo.kl_coef"]').getAttribute('data-severity'), 'error');

  await fieldInput(page, 'ppo.kl_coef').fill('abc');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'diagnostics' && m.version === 3));
  assert.match(host.text, /\n {2}kl_coef: abc\n/);
  const codes = await page.locator('[data-field="ppo.kl_coef"] .problem').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
  assert.ok(codes.includes('wrong-type'), `codes at the field: ${codes.join(', ')}`);
  await page.context().close();
});
