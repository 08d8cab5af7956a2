// The lint rules that keep the dependency arrows one way (eslint.config.mjs, DESIGN.md §2), run by
// the real ESLint with the repository's config on small sources placed (virtually) where a
// violation would sit: each rule must flag its violation and let the allowed import through.
import test from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'local/boundaries' || m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const CASES: { file: string; bad: string; good: string; says: RegExp }[] = [
  {
    file: 'webview/reward-traces/x.ts',
    bad: "import { RunManager } from '../../src/runs/runManager';\nexport const m = RunManager;\n",
    good: "import { rewardTracesContract } from '../../src/protocol/webviews/rewardTraces';\nexport const c = rewardTracesContract;\n",
    says: /may import only from webview, src\/protocol/,
  },
  {
    file: 'webview/reward-traces/y.ts',
    bad: "import { parse } from 'yaml';\nexport const p = parse;\n",
    good: "import { niceTicks } from '../shared/charts/ticks';\nexport const t = niceTicks;\n",
    says: /may not import the package 'yaml'/,
  },
  {
    file: 'webview/sample-inspector/z.ts',
    bad: "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\nexport const b = vsCodeButton;\n",
    good: "import { registerToolkit } from '../shared/toolkit';\nexport const r = registerToolkit;\n",
    says: /webview\/shared\/toolkit\.ts/,
  },
  {
    file: 'src/runs/x.ts',
    bad: "import { main } from '../cli/main';\nexport const m = main;\n",
    good: "import { readManifest } from './runDirectory';\nexport const r = readManifest;\n",
    says: /src\/runs\/x\.ts may not import src\/cli\//,
  },
  {
    file: 'src/runs/deep/y.ts',
    bad: "export { RewardTraceViewProvider } from '../../editor/webviews/rewardTraces';\n",
    good: "export { readManifest } from '../runDirectory';\n",
    says: /may not import src\/editor\//,
  },
  {
    file: 'src/runs/z.ts',
    bad: "export const hub = () => import('../viewModels/traceHub');\n",
    good: "export const m = () => import('./runManager');\n",
    says: /may not import src\/viewModels\//,
  },
  {
    file: 'src/viewModels/x.ts',
    bad: "import type { RunController } from '../editor/runController';\nexport type R = RunController;\n",
    good: "import { RunSeries } from '../runs/runSeries';\nexport const s = RunSeries;\n",
    says: /may not import src\/editor\//,
  },
  {
    file: 'src/viewModels/y.ts',
    bad: "import { formatDuration } from '../cli/progressBar';\nexport const f = formatDuration;\n",
    good: "import { formatDuration } from '../runs/duration';\nexport const f = formatDuration;\n",
    says: /may not import src\/cli\//,
  },
  {
    file: 'src/protocol/x.ts',
    bad: "import { RunSeries } from '../runs/runSeries';\nexport const s = RunSeries;\n",
    good: "import { string } from './guards';\nexport const s = string;\n",
    says: /may import only from src\/protocol/,
  },
  {
    file: 'src/protocol/webviews/y.ts',
    bad: "import { parse } from 'yaml';\nexport const p = parse;\n",
    good: "import { defineContract } from '../ipc';\nexport const d = defineContract;\n",
    says: /may not import the package 'yaml'/,
  },
  {
    file: 'src/editor/statusBar.ts',
    bad: "import { formatDuration } from '../cli/progressBar';\nexport const f = formatDuration;\n",
    good: "import { formatDuration } from '../runs/duration';\nexport const f = formatDuration;\n",
    says: /the status bar does not import the CLI/,
  },
  {
    file: 'src/runs/w.ts',
    bad: "import * as vscode from 'vscode';\nexport const v = vscode;\n",
    good: "import { join } from 'node:path';\nexport const j = join;\n",
    says: /Only src\/editor\/\*\* and src\/extension\.ts import vscode/,
  },
  {
    file: 'src/viewModels/v.ts',
    bad: "import type * as vscode from 'vscode';\nexport type U = vscode.Uri;\n",
    good: 'export const none = 0;\n',
    says: /import vscode/,
  },
  {
    file: 'src/editor/webviews/channel.ts',
    bad: "import * as vscode from 'vscode';\nexport const v = vscode;\n",
    good: "import { decodeForHost } from '../../protocol/ipc';\nexport const d = decodeForHost;\n",
    says: /VS Code-free by design/,
  },
  {
    file: 'src/cli/x.ts',
    bad: "import { TraceHub } from '../viewModels/traceHub';\nexport const h = TraceHub;\n",
    good: "import { RunSeries } from '../runs/runSeries';\nexport const s = RunSeries;\n",
    says: /may not import src\/viewModels\//,
  },
];

test('each boundary rule flags its violation and allows the legitimate import', async () => {
  for (const c of CASES) {
    const bad = await problems(c.file, c.bad);
    assert.ok(
      bad.some((m) => c.says.test(m)),
      `${c.file}: expected a problem matching ${c.says} for\n${c.bad}got ${JSON.stringify(bad)}`,
    );
    assert.deepEqual(await problems(c.file, c.good), [], `${c.file}: the allowed import is flagged`);
  }
});

test('vscode stays importable where it belongs, and the toolkit only from toolkit.ts', async () => {
  assert.deepEqual(await problems('src/editor/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"), []);
  assert.deepEqual(await problems('src/extension.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n"), []);
  assert.deepEqual(
    await problems(
      'webview/shared/toolkit.ts',
      "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\nexport const b = vsCodeButton;\n",
    ),
    [],
  );
  assert.equal(
    (await problems('src/editor/x.ts', "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\nexport const b = vsCodeButton;\n"))
      .length,
    1,
  );
});
