// The experiment form's strip and panel glue without a page: what a stage line says
// (webview/experiment-form/pipelineText.ts), and FormLaunch (src/viewModels/formLaunch.ts) over the
// real planLaunch and pipelineState on a copy of the tiny config: plans refused for trust and
// config errors before any interpreter is asked, the shown run folder kept until launch, a launch
// refused rather than started, and a Slurm submission without sbatch reported, not thrown.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { HostToFormView } from '../../src/protocol/webviews/experimentForm';
import type { PipelineStageView, ValidationDiagnostic } from '../../src/protocol';
import type { StartOptions } from '../../src/runs/runManager';
import { submitSlurm } from '../../src/runs/slurmSubmit';
import { FormLaunch } from '../../src/viewModels/formLaunch';
import { chainSummary, launchLabel, stageFraction, stageSummary } from '../../webview/experiment-form/pipelineText';

const ROOT = resolve(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-form-launch-unit-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function view(over: Partial<PipelineStageView>): PipelineStageView {
  return {
    stage: 'ppo',
    label: 'PPO',
    status: 'not-run',
    runId: null,
    runDir: null,
    progress: null,
    headline: null,
    error: null,
    runCount: 0,
    finishedRunDir: null,
    ...over,
  };
}

test('a stage line: not run, running with progress and time left, finished with its headline, failed with the last error line', () => {
  assert.equal(stageSummary(view({})), 'not run');
  assert.equal(stageSummary(view({ status: 'running', progress: { step: 3, total: 6, eta: 12 } })), 'running 3/6, 12 s left');
  assert.equal(stageSummary(view({ status: 'running', progress: { step: 3, total: 6, eta: 600 } })), 'running 3/6, 10 min left');
  assert.equal(stageSummary(view({ status: 'running' })), 'running');
  assert.equal(stageSummary(view({ status: 'finished', headline: { label: 'reward', value: 0.123456 } })), 'finished · reward 0.1235');
  assert.equal(stageSummary(view({ status: 'finished', headline: { label: 'reward', value: null } })), 'finished · reward NaN');
  assert.equal(stageSummary(view({ status: 'failed', error: 'Traceback\n  File x\nValueError: bad\n' })), 'failed: ValueError: bad');
  assert.equal(stageSummary(view({ status: 'failed' })), 'failed: failed without an error message');
  assert.equal(stageFraction(view({ status: 'running', progress: { step: 3, total: 6, eta: null } })), 0.5);
  assert.equal(stageFraction(view({ status: 'finished', progress: { step: 6, total: 6, eta: null } })), undefined);
});

test('a chain line names each step and where it stopped; the Launch label says what it does', () => {
  const labels = { sft: 'SFT', rm: 'reward model', ppo: 'PPO' };
  const running = chainSummary(
    {
      steps: [
        { stage: 'sft', status: 'finished', runDir: '/r/a', error: null },
        { stage: 'rm', status: 'running', runDir: '/r/b', error: null },
      ],
      done: false,
    },
    labels,
  );
  assert.equal(running, 'SFT finished → reward model running');
  const failed = chainSummary(
    {
      steps: [
        { stage: 'rm', status: 'failed', runDir: '/r/b', error: 'x\nOSError: disk full' },
        { stage: 'ppo', status: 'skipped', runDir: null, error: null },
      ],
      done: true,
    },
    labels,
  );
  assert.equal(failed, 'reward model failed → PPO skipped. Stopped at reward model: OSError: disk full');
  assert.equal(launchLabel('local', 'PPO', 0), 'Launch PPO');
  assert.equal(launchLabel('torchrun', 'PPO', 1), 'Launch PPO (torchrun, 1 GPU)');
  assert.equal(launchLabel('torchrun', 'SFT', 0), 'Launch SFT (torchrun, CPU)');
  assert.equal(launchLabel('slurm', 'PPO', 2), 'Submit PPO to Slurm');
});

function glue(
  name: string,
  opts: {
    trusted?: boolean;
    diagnostics?: ValidationDiagnostic[];
    noInterpreter?: boolean;
    checkNow?: () => Promise<{ diagnostics: ValidationDiagnostic[] } | { refused: string }>;
  } = {},
) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'tiny-ppo.rlhf.yaml');
  copyFileSync(join(ROOT, 'examples', 'tiny-ppo.rlhf.yaml'), configPath);
  const posted: HostToFormView[] = [];
  const starts: StartOptions[] = [];
  let environmentAsked = 0;
  const launch = new FormLaunch({
    configPath,
    post: (m) => posted.push(m),
    diagnostics: () => opts.diagnostics ?? [],
    trusted: () => opts.trusted ?? true,
    gpus: () => Promise.resolve({ kind: 'none', label: 'no GPU: CPU', detail: 'nvidia-smi not found' }),
    environment: () => {
      environmentAsked++;
      if (opts.noInterpreter) return Promise.reject(new Error('no Python interpreter with the trainer packages'));
      return Promise.resolve({ python: '/usr/bin/python3', trainerRoot: join(ROOT, 'trainer'), schemaDir: join(ROOT, 'schema') });
    },
    start: (o) => {
      starts.push(o);
      return Promise.resolve({
        runId: 'r1',
        runDir: o.runDir ?? '',
        done: Promise.resolve({ status: 'finished' as const, runDir: o.runDir ?? '' }),
      });
    },
    submitSlurm: (job) => submitSlurm(job, { env: { PATH: join(work, 'none') } }),
    hasSbatch: () => false,
    checkNow: opts.checkNow,
    log: (line) => assert.fail(line),
  });
  return { launch, posted, starts, configPath, environmentAsked: () => environmentAsked };
}

const error: ValidationDiagnostic = {
  severity: 'error',
  message: 'ppo.kl_coef must be >= 0',
  file: '/x/tiny-ppo.rlhf.yaml',
  line: 12,
  column: 3,
  endLine: 12,
  endColumn: 10,
  code: 'minimum',
} as ValidationDiagnostic;

test('plans: refused when untrusted or with config errors, even before an interpreter is found; otherwise the shown folder is the launched one', async () => {
  const untrusted = glue('untrusted', { trusted: false, noInterpreter: true });
  const p1 = await untrusted.launch.plan({ stage: 'ppo', backend: 'local', gpus: [] });
  assert.equal(p1.ok, false);
  assert.match(!p1.ok ? p1.reason : '', /not trusted/);

  const broken = glue('broken', { diagnostics: [error], noInterpreter: true });
  const p2 = await broken.launch.plan({ stage: 'ppo', backend: 'local', gpus: [] });
  assert.match(
    !p2.ok ? p2.reason : '',
    /^the config has 1 error; fix it first \(\/x\/tiny-ppo\.rlhf\.yaml:12: ppo\.kl_coef must be >= 0\)$/,
  );
  assert.equal(await broken.launch.launch({ stage: 'ppo', backend: 'local', gpus: [] }), undefined);
  assert.equal(broken.starts.length, 0, 'a refused launch starts nothing');
  const status = broken.posted.find((m) => m.type === 'launchStatus');
  assert.equal(status?.type === 'launchStatus' && status.state, 'refused');

  const noPython = glue('no-python', { noInterpreter: true });
  const p3 = await noPython.launch.plan({ stage: 'ppo', backend: 'local', gpus: [] });
  assert.equal(!p3.ok && p3.reason, 'no Python interpreter with the trainer packages');

  const ok = glue('ok');
  const first = await ok.launch.plan({ stage: 'ppo', backend: 'local', gpus: [] });
  await new Promise((r) => setTimeout(r, 1100)); // a new second: a fresh plan would name a new folder
  const again = await ok.launch.plan({ stage: 'ppo', backend: 'torchrun', gpus: [] });
  assert.ok(first.ok && again.ok);
  assert.equal(again.runDir, first.runDir, 'the folder shown stays while it does not exist');
  const run = await ok.launch.launch({ stage: 'ppo', backend: 'local', gpus: [] });
  assert.equal(run?.runDir, first.runDir);
  assert.equal(ok.starts[0].torchrunProcesses, undefined);
  assert.equal(ok.launch.launched.length, 1);
  assert.ok(
    ok.posted.some((m) => m.type === 'pipeline'),
    'the strip is refreshed after a launch',
  );
});

test('Slurm without sbatch: the reason is posted (copy the script), nothing starts', async () => {
  const g = glue('slurm');
  const plan = await g.launch.plan({ stage: 'ppo', backend: 'slurm', gpus: [] });
  assert.ok(plan.ok && plan.script?.startsWith('#!/bin/bash'));
  assert.ok(
    plan.notes.includes('sbatch is not on PATH here: copy the script and submit it on a machine of the cluster'),
    'said before Submit',
  );
  await g.launch.launch({ stage: 'ppo', backend: 'slurm', gpus: [] });
  const status = g.posted.filter((m) => m.type === 'launchStatus').pop();
  assert.equal(status?.type === 'launchStatus' && status.state, 'failed');
  assert.match(status?.type === 'launchStatus' ? status.message : '', /sbatch not found on PATH/);
  assert.equal(g.starts.length, 0);
});

test('a launch is checked at launch time: no complete answer refuses it; errors found then refuse it though the form had none', async () => {
  const unchecked = glue('unchecked', {
    checkNow: () => Promise.resolve({ refused: 'the config could not be checked: the file checks did not finish within 10 s' }),
  });
  await unchecked.launch.launch({ stage: 'ppo', backend: 'local', gpus: [] });
  const said = unchecked.posted.filter((m) => m.type === 'launchStatus').pop();
  assert.equal(said?.type === 'launchStatus' && said.state, 'refused');
  assert.match(said?.type === 'launchStatus' ? said.message : '', /could not be checked/);
  assert.equal(unchecked.starts.length, 0);

  // The form's diagnostics are a version behind (none); the check at launch finds the error.
  const stale = glue('stale', { diagnostics: [], checkNow: () => Promise.resolve({ diagnostics: [error] }) });
  await stale.launch.launch({ stage: 'ppo', backend: 'local', gpus: [] });
  const refused = stale.posted.filter((m) => m.type === 'launchStatus').pop();
  assert.equal(refused?.type === 'launchStatus' && refused.state, 'refused');
  assert.match(refused?.type === 'launchStatus' ? refused.message : '', /kl_coef must be >= 0/);
  assert.equal(stale.starts.length, 0);
  // Afterwards the panel's preview reads the form's diagnostics again.
  assert.ok((await stale.launch.plan({ stage: 'ppo', backend: 'local', gpus: [] })).ok);

  const clean = glue('clean', { checkNow: () => Promise.resolve({ diagnostics: [] }) });
  await clean.launch.launch({ stage: 'ppo', backend: 'local', gpus: [] });
  assert.equal(clean.starts.length, 1);
});
