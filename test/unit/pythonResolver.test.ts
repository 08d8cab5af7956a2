import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveCliPython, resolvePython, venvPython } from '../../src/runs/pythonResolver';

function withVenv(root: string): string {
  const python = venvPython(root);
  mkdirSync(dirname(python), { recursive: true });
  writeFileSync(python, '');
  return python;
}

test('the CLI prefers the interpreter it was installed with over a ./.venv in the current folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-python-'));
  try {
    const tool = join(work, 'tool');
    const cwd = join(work, 'cloned-repo');
    const toolPython = withVenv(tool);
    const cwdPython = withVenv(cwd);
    assert.deepEqual(resolveCliPython({ toolRoot: tool, cwd }), { path: toolPython, source: 'venv' });
    rmSync(join(tool, '.venv'), { recursive: true });
    assert.deepEqual(resolveCliPython({ toolRoot: tool, cwd }), { path: cwdPython, source: 'venv' }, 'the folder is the fallback');
    assert.equal(resolveCliPython({ toolRoot: tool, cwd, configured: '/opt/py' }).path, '/opt/py', '--python wins');
    assert.equal(resolvePython({ venvRoots: [] }).source, 'path');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
