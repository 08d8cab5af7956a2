// The GPU list behind the launch panel and the memory check: nvidia-smi's CSV parsed robustly, and
// the tool found and run without a shell. No GPU exists on these machines: the outputs below are
// written in nvidia-smi's `--format=csv,noheader,nounits` format (and its driver-failure message),
// and the run-through tests use a stand-in `nvidia-smi` script that prints them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NVIDIA_SMI_ARGS, describeGpus, listGpus, parseNvidiaSmi } from '../../src/runs/gpus';
import { driverDirs, findTool } from '../../src/runs/executables';

const A100X2 = '0, NVIDIA A100-SXM4-80GB, 81920, 81037\n1, NVIDIA A100-SXM4-80GB, 81920, 1024\n';
const DRIVER_FAILED =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";

test('two GPUs: index, name, memory total and free in MiB', () => {
  const r = parseNvidiaSmi(A100X2);
  assert.equal(r.kind, 'gpus');
  assert.deepEqual(r.kind === 'gpus' && r.gpus, [
    { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryTotalMiB: 81920, memoryFreeMiB: 81037 },
    { index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryTotalMiB: 81920, memoryFreeMiB: 1024 },
  ]);
  assert.deepEqual(describeGpus(r), [
    'GPU 0: NVIDIA A100-SXM4-80GB, 80.0 GiB (79.1 GiB free)',
    'GPU 1: NVIDIA A100-SXM4-80GB, 80.0 GiB (1.0 GiB free)',
  ]);
});

test('CRLF line ends, a name with a comma, and [N/A] memory rows (skipped and named)', () => {
  const r = parseNvidiaSmi(
    '0, NVIDIA GeForce RTX 4090, 24564, 23012\r\n1, Board, rev 2, 16384, 16000\r\n2, Graphics Device, [N/A], [N/A]\r\n',
  );
  assert.equal(r.kind, 'gpus');
  if (r.kind !== 'gpus') return;
  assert.deepEqual(
    r.gpus.map((g) => [g.index, g.name, g.memoryTotalMiB]),
    [
      [0, 'NVIDIA GeForce RTX 4090', 24564],
      [1, 'Board, rev 2', 16384],
    ],
  );
  assert.deepEqual(r.skipped, ['2, Graphics Device, [N/A], [N/A]']);
});

test('driver failure, "No devices were found", empty and garbage output: no GPU: CPU with the reason', () => {
  for (const [out, detail] of [
    [DRIVER_FAILED, /couldn't communicate with the NVIDIA driver/],
    ['No devices were found\n', /No devices were found/],
    ['', /listed no GPU/],
    ['x, y\n-1, GPU, 10, 5\n', /x, y/],
  ] as const) {
    const r = parseNvidiaSmi(out);
    assert.equal(r.kind, 'none', out);
    assert.match(r.kind === 'none' ? r.detail : '', detail);
    assert.deepEqual(describeGpus(r), ['no GPU: CPU']);
  }
});

test('listGpus runs the tool with the query as an argument array, from the temp folder; a failing tool is no GPU', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpus-'));
  try {
    const tool = join(dir, 'nvidia-smi');
    const record = join(dir, 'argv.json');
    // Stand-in for nvidia-smi (no GPU here): records its argv and working folder, prints A100X2.
    writeFileSync(
      tool,
      `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({argv: process.argv.slice(2), cwd: process.cwd()}));\nprocess.stdout.write(${JSON.stringify(A100X2)});\n`,
    );
    chmodSync(tool, 0o755);
    const env = { ...process.env, PATH: `rel:${dir}:${process.env.PATH ?? ''}` };
    assert.equal(findTool('nvidia-smi', env), tool, 'found through the absolute PATH entry, not the relative one');
    const r = await listGpus({ env, tool });
    assert.equal(r.kind === 'gpus' && r.gpus.length, 2);
    const seen = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; cwd: string };
    assert.deepEqual(seen.argv, [...NVIDIA_SMI_ARGS]);
    assert.equal(seen.cwd, tmpdir());

    writeFileSync(tool, `#!/bin/sh\nprintf '%s' ${JSON.stringify(DRIVER_FAILED)}\nexit 9\n`);
    const failed = await listGpus({ env, tool });
    assert.equal(failed.kind, 'none');
    assert.match(failed.kind === 'none' ? failed.detail : '', /couldn't communicate with the NVIDIA driver/);

    // Only a relative PATH entry: not searched. (On a machine whose driver folders hold a real
    // nvidia-smi, that one is found instead, so the check is for machines without one.)
    if (!findTool('nvidia-smi', { PATH: '' }, driverDirs(process.platform))) {
      const missing = await listGpus({ env: { PATH: dir.replace(/^\//, '') } });
      assert.equal(missing.kind, 'none');
      assert.match(missing.kind === 'none' ? missing.detail : '', /nvidia-smi not found/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
