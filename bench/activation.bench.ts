// Activation bar (DESIGN.md §7): extension activation under 100 ms. This measures the part a Node
// process can measure without VS Code: loading the production bundle `dist/extension.js`, in a fresh
// process each time (no module cache), with a stand-in `vscode` module. `activate()` itself needs the
// real VS Code API; the editor suite prints its time (`activationMs`) inside code-server.
// Run: node --import tsx bench/activation.bench.ts [repeats]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const repeats = Number(process.argv[2] ?? 7);

// The stand-in answers every property with itself, so module-level code that touches `vscode.X.Y`
// at load time runs; a load that needs a real API fails loudly instead of being timed.
const STUB = `const handler = { get: (t, p) => (p === '__esModule' ? false : p === Symbol.toPrimitive ? () => '' : stub), apply: () => stub, construct: () => stub };
const stub = new Proxy(function () {}, handler);
module.exports = stub;`;

const TIMER = `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? process.env.FACT_RLHF_VSCODE_STUB : resolve.call(this, request, ...rest);
};
const t0 = performance.now();
require(process.argv[2]);
process.stdout.write(String(performance.now() - t0));`;

function main(): void {
  console.log('building the production bundle…');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--production', '--only=src/extension'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-activation-'));
  try {
    const stub = join(dir, 'vscode-stub.js');
    const timer = join(dir, 'load-timer.js');
    writeFileSync(stub, STUB);
    writeFileSync(timer, TIMER);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const out = execFileSync(process.execPath, [timer, join(ROOT, 'dist/extension.js')], {
        env: { ...process.env, FACT_RLHF_VSCODE_STUB: stub },
        encoding: 'utf8',
      });
      times.push(Number(out));
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `dist/extension.js load, ${repeats} fresh processes: median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`,
    );
    console.log(`bar: module load + activate() < 100 ms (activate() itself is printed by the editor suite)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // Leave a development build behind, as the other benchmarks and tests expect.
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--only=src/extension'], { stdio: 'inherit' });
  }
}

main();
