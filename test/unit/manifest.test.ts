// The extension manifest as a new user meets it: settings visible where users look (scope, a clear
// title-like description, an order), launch commands visible in Restricted Mode, a walkthrough whose
// steps each have a command, a completion event and their media, and a package that ships them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const LAUNCH = ['factRlhf.startPpo', 'factRlhf.startSft', 'factRlhf.trainRewardModel', 'factRlhf.evaluate', 'factRlhf.evaluateCheckpoint'];
/** Registered by the "Configure and launch" work; the walkthrough offers it. */
const EXTERNAL_COMMANDS = new Set(['factRlhf.setUpTrainerEnvironment']);

interface Setting {
  scope?: string;
  order?: number;
  markdownDescription?: string;
}

test('every factRlhf setting has a scope shown in User settings, a titled description and an order', () => {
  const sections = Array.isArray(contributes.configuration) ? contributes.configuration : [contributes.configuration];
  const settings: [string, Setting][] = sections.flatMap((s: { properties: Record<string, Setting> }) => Object.entries(s.properties));
  assert.ok(settings.length >= 4);
  const orders = new Set<number>();
  for (const [key, s] of settings) {
    assert.ok(key.startsWith('factRlhf.'), key);
    // machine and machine-overridable settings are hidden from the User tab of a remote window.
    assert.ok(['application', 'window', 'resource', 'language-overridable'].includes(s.scope ?? ''), `${key}: scope ${s.scope}`);
    assert.match(s.markdownDescription ?? '', /^\*\*[^*]+\*\* \S/, `${key}: the description starts with a bold title`);
    assert.equal(typeof s.order, 'number', `${key}: order`);
    assert.ok(!orders.has(s.order!), `${key}: order ${s.order} is taken`);
    orders.add(s.order!);
  }
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  assert.ok(
    restricted.includes('factRlhf.pythonPath') && restricted.includes('factRlhf.outputDir'),
    'Workspace Trust still restricts the interpreter and output settings',
  );
});

test('Restricted Mode does not hide the launch commands (they say why instead)', () => {
  const menus: Record<string, { command: string; when?: string }[]> = contributes.menus ?? {};
  for (const [where, items] of Object.entries(menus)) {
    for (const item of items) {
      if (LAUNCH.includes(item.command))
        assert.ok(!/isWorkspaceTrusted/.test(item.when ?? ''), `${where}: ${item.command} is hidden when untrusted`);
    }
  }
  const src = readFileSync(join(ROOT, 'src/editor/trust.ts'), 'utf8');
  assert.match(src, /Trust this folder to launch training/);
  assert.match(src, /workbench\.trust\.manage/);
});

test('the Getting Started walkthrough: each step has a command, a completion event and its markdown', () => {
  const [walk] = contributes.walkthroughs;
  assert.ok(walk, 'no walkthrough');
  const commands = new Set((contributes.commands as { command: string }[]).map((c) => c.command));
  const ids = walk.steps.map((s: { id: string }) => s.id);
  assert.deepEqual(ids, ['setUpTrainer', 'openExperiment', 'startTinyRun', 'watchTraces', 'openSamples']);
  for (const step of walk.steps as { id: string; description: string; media: { markdown?: string }; completionEvents: string[] }[]) {
    const linked = [...step.description.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
    assert.ok(linked.length > 0, `${step.id}: no command link`);
    for (const c of linked.filter((c) => c.startsWith('factRlhf.')))
      assert.ok(commands.has(c) || EXTERNAL_COMMANDS.has(c), `${step.id}: ${c} is not contributed`);
    assert.ok(
      step.completionEvents.length > 0 && step.completionEvents.every((e) => /^on(Command|View|SettingChanged|Context|Link):\S+/.test(e)),
      `${step.id}: ${step.completionEvents}`,
    );
    assert.ok(step.media.markdown && existsSync(join(ROOT, step.media.markdown)), `${step.id}: media ${step.media.markdown}`);
  }
});

test('the VSIX ships what the extension loads at run time', () => {
  const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
  for (const pattern of [
    '!dist/extension.js',
    '!dist/language-server.js',
    '!dist/scoring-worker.js',
    '!dist/webview/**',
    '!media/**',
    '!schema/**',
    '!trainer/fact_rlhf/**',
    '!examples/**/*.rlhf.yaml',
  ]) {
    assert.ok(ignore.split('\n').includes(pattern), `.vscodeignore lacks ${pattern}`);
  }
});
