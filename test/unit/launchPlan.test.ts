// Launch plans (src/runs/launchPlan.ts): the exact command shown before a local, torchrun or Slurm
// launch, the refusals (untrusted workspace, config errors, unknown GPUs), and submitSlurm
// (src/runs/slurmSubmit.ts). Slurm cannot exist on these machines, so `sbatch` here is a stand-in
// script on PATH that records its argv and prints a job id as `sbatch --parsable` does.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeForHost, defineContract } from '../../src/protocol/ipc';
import { launchCommands, launchNotifications, launchRequests, launchPlanView } from '../../src/protocol/webviews/experimentFormLaunch';
import { SLURM_SCRIPT_FILE, planLaunch, type LaunchPlanRequest } from '../../src/runs/launchPlan';
import { trainerArgs } from '../../src/runs/runManager';
import { parseSbatchOutput, submitSlurm } from '../../src/runs/slurmSubmit';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-launch-plan-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const config = join(work, 'exp.rlhf.yaml');
writeFileSync(config, 'version: 1\nname: exp\noutput_dir: runs\nlaunch:\n  gpus: 4\n  nodes: 2\n');

function request(extra: Partial<LaunchPlanRequest>): LaunchPlanRequest {
  return {
    stage: 'ppo',
    backend: 'local',
    configPath: config,
    runDir: join(work, 'runs', 'exp-ppo-1'),
    gpus: [],
    python: '/venv/bin/python',
    trainerRoot: '/tool/trainer',
    schemaDir: '/tool/schema',
    trusted: true,
    diagnostics: [],
    baseEnv: {},
    ...extra,
  };
}

test('local: the trainer argv RunManager spawns, its environment, CUDA_VISIBLE_DEVICES for the chosen GPUs', () => {
  const plan = planLaunch(request({ gpus: [1] }));
  assert.ok(plan.view.ok);
  if (!plan.view.ok || !plan.start) return;
  const runDir = join(work, 'runs', 'exp-ppo-1');
  assert.deepEqual(plan.view.argv, ['/venv/bin/python', ...trainerArgs({ stage: 'ppo', configPath: config }, runDir)]);
  assert.deepEqual(plan.view.env, {
    PYTHONPATH: '/tool/trainer',
    FACT_RLHF_SCHEMA_DIR: '/tool/schema',
    PYTHONUNBUFFERED: '1',
    HF_HUB_OFFLINE: '1',
    // nvidia-smi's numbering (PCI bus order) is the one CUDA uses: the picked card is the one that runs.
    CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
    CUDA_VISIBLE_DEVICES: '1',
  });
  assert.equal(
    plan.view.commandLine,
    `PYTHONPATH='/tool/trainer' FACT_RLHF_SCHEMA_DIR='/tool/schema' PYTHONUNBUFFERED='1' HF_HUB_OFFLINE='1' CUDA_DEVICE_ORDER='PCI_BUS_ID' CUDA_VISIBLE_DEVICES='1' '/venv/bin/python' '-m' 'fact_rlhf' 'ppo' '--config' '${config}' '--run-dir' '${runDir}'`,
  );
  assert.deepEqual(plan.start.env, { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '1' });
  assert.equal(plan.start.torchrunProcesses, undefined);
  assert.deepEqual(plan.view.chain, [{ stage: 'ppo', overrides: [] }]);
  assert.equal(launchPlanView.check(plan.view, 'plan'), undefined, 'the view passes the contract validator');
});

test('torchrun: python -m torch.distributed.run, one process per chosen GPU; on CPU the processes asked for', () => {
  const gpu = planLaunch(request({ backend: 'torchrun', gpus: [0, 2, 3] }));
  assert.ok(gpu.view.ok);
  if (!gpu.view.ok) return;
  assert.deepEqual(gpu.view.argv.slice(0, 5), ['/venv/bin/python', '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=3']);
  assert.deepEqual(gpu.view.argv.slice(5, 8), ['-m', 'fact_rlhf', 'ppo']);
  assert.equal(gpu.view.env.CUDA_VISIBLE_DEVICES, '0,2,3');
  assert.equal(gpu.start?.torchrunProcesses, 3);
  const cpu = planLaunch(request({ backend: 'torchrun', processes: 2 }));
  assert.ok(cpu.view.ok && cpu.view.argv.includes('--nproc_per_node=2') && !('CUDA_VISIBLE_DEVICES' in cpu.view.env));
  assert.match(cpu.view.ok ? cpu.view.notes.join('\n') : '', /2 process\(es\) on the CPU \(gloo\)/);
});

test('refusals: untrusted workspace, config errors (file, line, message), unknown GPUs, eval on several processes', () => {
  const untrusted = planLaunch(request({ trusted: false }));
  assert.equal(untrusted.view.ok, false);
  assert.match(!untrusted.view.ok ? untrusted.view.reason : '', /not trusted/);
  assert.equal(untrusted.start, null);
  const invalid = planLaunch(
    request({
      diagnostics: [
        { severity: 'warning', message: 'just a warning', file: config, line: 2 },
        { severity: 'error', message: 'ppo.kl_coef must be >= 0', file: config, line: 7 },
        { severity: 'error', message: 'second', file: config, line: 9 },
      ],
    }),
  );
  assert.equal(!invalid.view.ok && invalid.view.reason, `the config has 2 errors; fix them first (${config}:7: ppo.kl_coef must be >= 0)`);
  assert.equal(planLaunch(request({ diagnostics: [{ severity: 'warning', message: 'w', file: config, line: 1 }] })).view.ok, true);
  const noGpu = planLaunch(request({ gpus: [0], available: { kind: 'none', label: 'no GPU: CPU', detail: 'nvidia-smi not found' } }));
  assert.match(!noGpu.view.ok ? noGpu.view.reason : '', /this machine has none \(nvidia-smi not found\)/);
  const gpus = { kind: 'gpus' as const, skipped: [], gpus: [{ index: 0, name: 'A', memoryTotalMiB: 1, memoryFreeMiB: 1 }] };
  assert.match(JSON.stringify(planLaunch(request({ gpus: [0, 5], available: gpus })).view), /no GPU 5 on this machine \(found 0\)/);
  const evalTorchrun = planLaunch(request({ stage: 'eval', backend: 'torchrun' }));
  assert.match(!evalTorchrun.view.ok ? evalTorchrun.view.reason : '', /eval stage runs in one process/);
  assert.equal(launchPlanView.check(evalTorchrun.view, 'plan'), undefined);
});

test('slurm: the sbatch script of launchScript.ts (launch.gpus x launch.nodes) and the sbatch argv; nothing written yet', () => {
  const plan = planLaunch(request({ backend: 'slurm', gpus: [0] }));
  assert.ok(plan.view.ok && plan.slurm);
  if (!plan.view.ok || !plan.slurm) return;
  const scriptPath = join(work, 'runs', 'exp-ppo-1', SLURM_SCRIPT_FILE);
  assert.deepEqual(plan.view.argv, ['sbatch', '--parsable', scriptPath]);
  assert.equal(plan.view.scriptPath, scriptPath);
  assert.match(plan.view.script ?? '', /^#!\/bin\/bash\n#SBATCH --job-name=fact-rlhf-ppo\n#SBATCH --nodes=2\n/);
  assert.match(plan.view.script ?? '', /#SBATCH --gpus-per-node=4/);
  assert.match(plan.view.notes.join('\n'), /do not apply to a Slurm job/);
  assert.equal(existsSync(scriptPath), false, 'planning writes nothing');
  assert.equal(plan.start, null);
});

test('sbatch --parsable output: id, id;cluster, array ids; anything else is no id', () => {
  assert.deepEqual(parseSbatchOutput('4242\n'), { jobId: '4242', cluster: null });
  assert.deepEqual(parseSbatchOutput('4242;gpu-cluster\n'), { jobId: '4242', cluster: 'gpu-cluster' });
  assert.deepEqual(parseSbatchOutput('\n17_3\n'), { jobId: '17_3', cluster: null });
  assert.equal(parseSbatchOutput('sbatch: error: Batch job submission failed'), undefined);
});

test('submitSlurm: script written into the run folder first, sbatch run with an argv; $(...) and ; in the folder name run nothing', async () => {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const record = join(work, 'sbatch-argv.json');
  // The stand-in sbatch: records argv and cwd, checks the script is there, prints a job id.
  writeFileSync(
    join(bin, 'sbatch'),
    `#!/usr/bin/env node\nconst fs = require('fs');\nconst file = process.argv[process.argv.length - 1];\nfs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), script: fs.readFileSync(file, 'utf8') }));\nprocess.stdout.write('777;test-cluster\\n');\n`,
  );
  chmodSync(join(bin, 'sbatch'), 0o755);
  const hostile = join(work, 'runs', 'exp-ppo-$(touch PWNED); touch PWNED2');
  const plan = planLaunch(request({ backend: 'slurm', runDir: hostile }));
  assert.ok(plan.slurm);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  const result = await submitSlurm(plan.slurm!, { env });
  assert.deepEqual(result, {
    ok: true,
    jobId: '777',
    cluster: 'test-cluster',
    runDir: hostile,
    scriptPath: join(hostile, SLURM_SCRIPT_FILE),
  });
  const seen = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; cwd: string; script: string };
  assert.deepEqual(seen.argv, ['--parsable', join(hostile, SLURM_SCRIPT_FILE)]);
  assert.equal(seen.cwd, hostile);
  assert.equal(seen.script, plan.slurm!.script);
  assert.ok(seen.script.includes(`run_dir='${hostile}'`), 'the folder is a single-quoted literal in the script');
  for (const dir of [work, hostile, bin, process.cwd()]) {
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('PWNED')), `nothing was executed in ${dir}`);
  }

  // sbatch that refuses: its message comes back; no sbatch on PATH: copy the script.
  writeFileSync(join(bin, 'sbatch'), '#!/bin/sh\necho "sbatch: error: invalid partition" >&2\nexit 1\n');
  const refused = await submitSlurm(plan.slurm!, { env });
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.reason : '', /sbatch refused the job: sbatch: error: invalid partition/);
  const missing = await submitSlurm(plan.slurm!, { env: { PATH: '/nonexistent' } });
  assert.match(!missing.ok ? missing.reason : '', /^sbatch not found on PATH: copy the script/);
});

test('the form contract: launch commands validated before the host acts on them', () => {
  const contract = defineContract({
    name: 'experiment-form-launch',
    notifications: launchNotifications,
    commands: launchCommands,
    requests: launchRequests,
  });
  assert.equal(decodeForHost(contract, { type: 'runFromHere', stage: 'rm' }).kind, 'command');
  assert.equal(decodeForHost(contract, { type: 'launch', stage: 'ppo', backend: 'torchrun', gpus: [0, 1] }).kind, 'command');
  for (const bad of [
    { type: 'runStage', stage: 'train' },
    { type: 'launch', stage: 'ppo', backend: 'ssh', gpus: [] },
    { type: 'launch', stage: 'ppo', backend: 'local', gpus: [0, 0] },
    { type: 'launch', stage: 'ppo', backend: 'local', gpus: [-1] },
    { type: 'launch', stage: 'ppo', backend: 'local', gpus: '0,1' },
  ]) {
    const decoded = decodeForHost(contract, bad);
    assert.equal(decoded.kind, 'invalid', JSON.stringify(bad));
  }
  const request = decodeForHost(contract, {
    type: 'request',
    id: 3,
    method: 'planLaunch',
    params: { stage: 'rm', backend: 'slurm', gpus: [] },
  });
  assert.equal(request.kind, 'request');
});
