// Browser tier: the experiment form's pipeline strip and launch panel in headless Chromium, behind
// the REAL host glue (src/viewModels/formLaunch.ts over planLaunch, pipelineState, planChain,
// ChainRunner and the real submitSlurm) on a copy of the real tiny config, with run folders this
// test writes in the trainer's run-directory format, and the language server's engine for the
// diagnostics. Stand-ins, each because the real thing cannot exist here: the GPU list (this machine
// has no GPU: two H100s are injected), the interpreter path (shown, never run) and the run
// controller's `start` (the browser tier starts no trainer: the editor tier launches the real one
// from the form; here `start` records what it was asked to run).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import experimentSchema from '../../schema/experiment.schema.json';
import { analyze, createNodeHost, diagnosticsWithPaths } from '../../language-server/src/engine/index';
import { HostChannel } from '../../src/editor/webviews/channel';
import type { Stage, ValidationDiagnostic } from '../../src/protocol';
import { experimentFormContract } from '../../src/protocol/webviews/experimentForm';
import type { GpuReport } from '../../src/runs/gpus';
import { processStartTime } from '../../src/runs/launchIdentity';
import type { StartOptions } from '../../src/runs/runManager';
import { defaultRunDirectory } from '../../src/runs/runNaming';
import { shCommand } from '../../src/runs/shellQuote';
import { submitSlurm } from '../../src/runs/slurmSubmit';
import { applyChanges, editField } from '../../src/viewModels/configEdit';
import { fieldIndex, formDiagnostics, formSections, formValues, groupIds, type SchemaNode } from '../../src/viewModels/experimentForm';
import { FormLaunch, type StartedRun } from '../../src/viewModels/formLaunch';
import { buildBundle, DARK_THEME, launchChromium, openView, ROOT, sendRawToView, servePage, type PageServer } from './harness';

interface FormWindow {
  __posted: Array<{ type: string; what?: string; version?: number; backend?: string; gpus?: number[]; stage?: string }>;
  __cspViolations: string[];
}
declare const window: FormWindow;
/** The page's DOM as the waitForFunction callbacks read it (they run in the page, not here). */
interface PageElement {
  textContent: string | null;
  hidden: boolean;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null };

const SECTIONS = formSections(experimentSchema as SchemaNode);
const FIELDS = fieldIndex(SECTIONS);
const GROUPS = groupIds(SECTIONS);
const PYTHON = '/opt/fact rlhf/venv/bin/python'; // a space: the shown command must quote it
/** Injected: this machine has no GPU (the test says so). */
const TWO_GPUS: GpuReport = {
  kind: 'gpus',
  gpus: [
    { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryFreeMiB: 80000 },
    { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, memoryFreeMiB: 79000 },
  ],
  skipped: [],
};
const T0 = 1_800_000_000;

let server: PageServer;
let browser: Browser;
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-form-launch-'));

before(async () => {
  buildBundle('experiment-form');
  server = await servePage('experiment-form');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function eventLine(o: Record<string, unknown>): string {
  return `${JSON.stringify({ v: 1, t: T0, ...o })}\n`;
}

/** A run folder of `config` as the trainer writes it: manifest, events, a checkpoint when finished. */
function writeRun(
  config: string,
  stage: Stage,
  status: 'running' | 'finished' | 'failed',
  started: number,
  metric: Record<string, number>,
): string {
  const dir = defaultRunDirectory(config, stage, undefined, new Date(started * 1000));
  mkdirSync(dir, { recursive: true });
  const live = status === 'running';
  const pid = live ? process.pid : 999_999_999; // a live run is this process: its pid and start time match
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: basename(dir),
      stage,
      config: {},
      config_path: config,
      config_hash: 'h',
      host: hostname(),
      pids: [pid],
      launches: [{ host: hostname(), pid, start_time: live ? (processStartTime(process.pid) ?? null) : 1, nonce: null }],
      world_size: 1,
      started,
      ended: live ? null : started + 10,
      status,
      protocol_version: 1,
    }),
  );
  let events = eventLine({ type: 'status', status: 'starting' }) + eventLine({ type: 'status', status: 'running' });
  events += eventLine({ type: 'metric', step: 3, values: metric });
  events += eventLine({ type: 'progress', step: 3, total: 6, eta: 12 });
  if (status === 'failed')
    events += eventLine({ type: 'status', status: 'failed', error: 'Traceback ...\nRuntimeError: CUDA out of memory' });
  if (status === 'finished') {
    mkdirSync(join(dir, 'checkpoints', 'step-6'), { recursive: true });
    writeFileSync(join(dir, 'checkpoints', 'latest'), 'step-6\n');
    events += eventLine({ type: 'status', status: 'finished' });
  }
  writeFileSync(join(dir, 'events.jsonl'), events);
  return dir;
}

/** The host of one form: the document's text, the real channel, model, engine and launch glue. */
class Host {
  version = 1;
  text: string;
  readonly channel: HostChannel<typeof experimentFormContract>;
  readonly launch: FormLaunch;
  page: Page | undefined;
  trusted = true;
  diagnostics: ValidationDiagnostic[] = [];
  readonly starts: StartOptions[] = [];
  /** What each started run ends with (the test's stand-in for the trainer). */
  outcome: (opts: StartOptions) => { status: 'finished' | 'failed'; error?: string } = () => ({ status: 'finished' });
  readonly plans: Array<{ commandLine?: string; reason?: string }> = [];

  constructor(
    readonly path: string,
    gpus: GpuReport,
  ) {
    this.text = readFileSync(path, 'utf8');
    this.launch = new FormLaunch({
      configPath: path,
      post: (m) => this.channel.notify(m),
      diagnostics: () => this.diagnostics,
      trusted: () => this.trusted,
      gpus: () => Promise.resolve(gpus),
      environment: () => Promise.resolve({ python: PYTHON, trainerRoot: join(ROOT, 'trainer'), schemaDir: join(ROOT, 'schema') }),
      start: (opts): Promise<StartedRun> => {
        this.starts.push(opts);
        const runDir = opts.runDir ?? join(work, 'unnamed');
        const end = this.outcome(opts);
        return Promise.resolve({ runId: basename(runDir), runDir, done: Promise.resolve({ ...end, runDir }) });
      },
      submitSlurm: (job) => submitSlurm(job, { env: { PATH: join(work, 'no-sbatch-here') } }),
      hasSbatch: () => false,
      log: (line) => assert.fail(line),
    });
    this.channel = new HostChannel({
      contract: experimentFormContract,
      post: (m) => this.page && void sendRawToView(this.page, m),
      beforeReady: 'drop',
      onReady: () => {
        this.channel.notify({ type: 'init', fileName: basename(path), sections: SECTIONS, readOnly: false });
        this.publish();
        this.launch.refreshPipeline();
        void this.launch.sendGpus();
      },
      commands: {
        launch: (m) => void this.launch.launch(m),
        runStage: (m) => void this.launch.runStage(m.stage),
        runFromHere: (m) => void this.launch.runFromHere(m.stage),
      },
      requests: {
        edit: (p) => {
          const field = FIELDS.get(p.field);
          if (!field) return { applied: false, error: 'unknown field' };
          this.text = applyChanges(this.text, editField(this.text, field.path, p.op === 'reset' ? undefined : p.value));
          writeFileSync(this.path, this.text); // as a save: launches read the file
          this.version++;
          this.publish();
          return { applied: true };
        },
        applyFix: () => ({ applied: false }),
        planLaunch: async (p) => {
          const view = await this.launch.plan(p);
          this.plans.push(view.ok ? { commandLine: view.commandLine } : { reason: view.reason });
          return view;
        },
      },
      log: (line) => assert.fail(line),
    });
  }

  publish(): void {
    const { values, parseError } = formValues(FIELDS, this.text, this.path);
    this.channel.notify({ type: 'values', version: this.version, values, parseError });
    const a = analyze(this.text, this.path, createNodeHost({ env: {} }));
    this.diagnostics = diagnosticsWithPaths(a, true);
    this.channel.notify({
      type: 'diagnostics',
      version: this.version,
      items: formDiagnostics(this.diagnostics, FIELDS, GROUPS, this.path),
    });
  }
}

/** A copy of the real tiny config in its own folder (its runs go to runs/ beside it). */
function tinyConfig(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tiny-ppo.rlhf.yaml');
  copyFileSync(join(ROOT, 'examples', 'tiny-ppo.rlhf.yaml'), file);
  return file;
}

async function open(host: Host): Promise<Page> {
  const page = await openView(browser, server.url, DARK_THEME, { width: 1100, height: 1000 }, (m, p) => {
    host.page = p;
    host.channel.receive(m);
  });
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered' && m.what === 'diagnostics'));
  await page.locator('.pipeline-strip .stage').first().waitFor();
  return page;
}

const command = (page: Page) => page.locator('.launch-command');

test('the strip shows each stage from the config’s run folders: not run, running with progress, finished with its figure, failed with the error', async () => {
  const config = tinyConfig('strip');
  writeRun(config, 'sft', 'finished', T0, { 'sft/loss': 0.4321 });
  writeRun(config, 'rm', 'failed', T0 + 100, { 'rm/eval_accuracy': 0.5 });
  writeRun(config, 'ppo', 'running', T0 + 200, { 'ppo/reward_total': -1.5 });
  const host = new Host(config, TWO_GPUS);
  const page = await open(host);
  const stage = (s: string) => page.locator(`.stage[data-stage="${s}"]`);
  await page.waitForFunction(() => document.querySelector('.stage[data-stage="ppo"]')?.getAttribute('data-status') === 'running');
  assert.equal(await stage('sft').getAttribute('data-status'), 'finished');
  assert.match((await stage('sft').locator('.stage-summary').textContent()) ?? '', /^finished · .+ 0\.4321$/);
  assert.equal(await stage('rm').getAttribute('data-status'), 'failed');
  assert.equal(await stage('rm').locator('.stage-summary').textContent(), 'failed: RuntimeError: CUDA out of memory');
  assert.equal(await stage('rl_init').locator('.stage-summary').textContent(), 'not run');
  assert.match((await stage('ppo').locator('.stage-summary').textContent()) ?? '', /^running 3\/6, 12 s left$/);
  assert.equal(await stage('ppo').locator('progress').getAttribute('aria-label'), 'PPO progress');
  assert.equal(await stage('eval').locator('.run-from-here').count(), 0, 'eval ends the pipeline');
  assert.equal(await page.locator('.stage vscode-button.run-stage').count(), 5);

  // "Run from here" on rl_init: rl_init then PPO then eval; PPO fails, the chain stops there and says so.
  host.outcome = (o) =>
    o.stage === 'ppo' ? { status: 'failed', error: 'Traceback\nValueError: reward went NaN' } : { status: 'finished' };
  await stage('rl_init').locator('.run-from-here').click();
  await page.waitForFunction(() => document.querySelector('.chain-progress')?.getAttribute('data-done') === 'true');
  assert.deepEqual(
    host.starts.map((s) => s.stage),
    ['rl_init', 'ppo'],
    'stopped at the first failure: eval never started',
  );
  assert.equal(
    await page.locator('.chain-progress').textContent(),
    'Run from here: rl_init finished → PPO failed → eval skipped. Stopped at PPO: ValueError: reward went NaN',
  );
  assert.equal(await page.locator('.chain-progress').getAttribute('data-failed'), 'true');
  await page.waitForFunction(() => document.querySelector('.launch-status')?.textContent?.startsWith('Run from here stopped'));
  assert.equal(await page.locator('.launch-status').textContent(), 'Run from here stopped at PPO: ValueError: reward went NaN');
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  await page.context().close();
});

test('the launch panel shows the exact command before launch: local, torchrun on 2 chosen GPUs, the Slurm script; Launch by keyboard', async () => {
  const config = tinyConfig('panel');
  const host = new Host(config, TWO_GPUS);
  const page = await open(host);
  await page.waitForFunction(() => document.querySelector('.launch-command')?.textContent?.includes('fact_rlhf'));
  // Local: the environment the launch sets, then the argv, quoted as a POSIX shell reads it.
  const local = (await command(page).textContent()) ?? '';
  assert.equal(local, host.plans.at(-1)?.commandLine, 'the command shown is the plan the host made');
  assert.ok(local.includes(` ${shCommand([PYTHON, '-m', 'fact_rlhf', 'ppo', '--config', config, '--run-dir'])} `), local);
  assert.match(local, /^PYTHONPATH=\S+ FACT_RLHF_SCHEMA_DIR=\S+ PYTHONUNBUFFERED='1' HF_HUB_OFFLINE='1' /);
  assert.doesNotMatch(local, /CUDA_VISIBLE_DEVICES|torch\.distributed/);
  assert.equal(await page.locator('.gpu-choice vscode-checkbox').count(), 2);

  // torchrun on GPUs 0 and 1: one process per GPU, CUDA_VISIBLE_DEVICES set; the command follows the choice.
  await page.locator('vscode-radio[value="torchrun"]').click();
  await page.locator('.gpu-choice vscode-checkbox[data-gpu="0"]').click();
  await page.locator('.gpu-choice vscode-checkbox[data-gpu="1"]').click();
  await page.waitForFunction(() => document.querySelector('.launch-command')?.textContent?.includes("CUDA_VISIBLE_DEVICES='0,1'"));
  const torchrun = (await command(page).textContent()) ?? '';
  const words = [PYTHON, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'fact_rlhf', 'ppo'];
  assert.ok(torchrun.includes(` CUDA_VISIBLE_DEVICES='0,1' ${shCommand(words)} `), torchrun);
  assert.match((await page.locator('.launch-notes').textContent()) ?? '', /one process per chosen GPU \(0, 1\), nccl/);
  assert.equal(await page.locator('vscode-button.launch').textContent(), 'Launch PPO (torchrun, 2 GPUs)');

  // Keyboard: Tab reaches Launch, Enter launches exactly what was shown.
  await page.locator('vscode-button.launch').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.launch-status')?.getAttribute('data-state') === 'started');
  assert.equal(host.starts.length, 1);
  assert.equal(host.starts[0].torchrunProcesses, 2);
  assert.deepEqual(host.starts[0].env, { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '0,1' });
  assert.equal(host.starts[0].python, PYTHON);
  assert.ok(torchrun.endsWith(` '--run-dir' ${shCommand([host.starts[0].runDir ?? ''])}`), 'the run folder launched is the one shown');

  // Slurm: the sbatch script for review; with no sbatch here Submit says so, and the script can be copied.
  await page.locator('vscode-radio[value="slurm"]').click();
  await page.waitForFunction(() => !document.querySelector('.launch-script-box')?.hidden);
  const script = (await page.locator('.launch-script').textContent()) ?? '';
  assert.match(script, /^#!\/bin\/bash/);
  assert.match(script, /#SBATCH/);
  assert.ok(script.includes(shCommand([config])) || script.includes(config), 'the script runs this config');
  assert.match((await command(page).textContent()) ?? '', /^'sbatch' '--parsable' '\S+\/launch\.sbatch'$/);
  assert.equal(await page.locator('vscode-button.launch').textContent(), 'Submit PPO to Slurm');
  assert.match((await page.locator('.launch-notes').textContent()) ?? '', /sbatch is not on PATH here: copy the script/);
  await page.locator('vscode-button.launch').click();
  await page.waitForFunction(() => document.querySelector('.launch-status')?.getAttribute('data-state') === 'failed');
  assert.match((await page.locator('.launch-status').textContent()) ?? '', /sbatch not found on PATH: copy the script/);
  assert.equal(await page.locator('vscode-button.copy-script').count(), 1);
  assert.equal(host.starts.length, 1, 'nothing started locally');
  await page.context().close();
});

test('a launch is refused with the reason: the config has an error, the workspace is untrusted, no GPU means CPU', async () => {
  const config = tinyConfig('refused');
  const host = new Host(config, { kind: 'none', label: 'no GPU: CPU', detail: 'nvidia-smi not found' });
  const page = await open(host);
  await page.waitForFunction(() => document.querySelector('.launch-command')?.textContent?.includes('fact_rlhf'));
  assert.equal(await page.locator('.gpu-choice .no-gpu').textContent(), 'no GPU: CPU');
  assert.match((await page.locator('.launch-notes').textContent()) ?? '', /no GPU: CPU/);

  // An error in the config (the language server engine's): the panel refuses and names it.
  await page.locator('[data-field="ppo.kl_coef"] vscode-text-field input').fill('-1');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelector('.launch-refusal')?.hidden === false);
  const refusal = (await page.locator('.launch-refusal').textContent()) ?? '';
  assert.match(refusal, /^Launch refused: the config has 1 error; fix it first \(.*tiny-ppo\.rlhf\.yaml:\d+: .*kl_coef/);
  assert.equal(await page.locator('vscode-button.launch').getAttribute('disabled'), '');
  assert.equal(await command(page).textContent(), '');
  // "Run this stage" on the strip is refused the same way, and nothing starts.
  await page.locator('.stage[data-stage="sft"] .run-stage').click();
  await page.waitForFunction(() => document.querySelector('.launch-status')?.getAttribute('data-state') === 'refused');
  assert.match((await page.locator('.launch-status').textContent()) ?? '', /the config has 1 error/);

  // Fixed, but the workspace is not trusted: refused, saying why.
  host.trusted = false;
  await page.locator('[data-field="ppo.kl_coef"] vscode-text-field input').fill('0.05');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelector('.launch-refusal')?.textContent?.includes('not trusted'));
  assert.match((await page.locator('.launch-refusal').textContent()) ?? '', /training loads models and runs code/);
  assert.equal(host.starts.length, 0);
  await page.context().close();
});
