// The precedence of a renamed setting (src/editor/renamedSetting.ts), fed what
// WorkspaceConfiguration.inspect() reports: factRlhf.memoryPerGPU (new) and factRlhf.gpuMemoryGiB (old).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renamedSettingValue, type ScopedValues } from '../../src/editor/renamedSetting';

const isGiB = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const unset: ScopedValues = { defaultValue: 0 };
const resolve = (current: ScopedValues | undefined, legacy: ScopedValues | undefined): number =>
  renamedSettingValue(current, legacy, -1, isGiB);

test('the old key still applies where the new one is not set', () => {
  assert.equal(resolve(unset, { defaultValue: 0, globalValue: 24 }), 24);
  assert.equal(resolve(unset, { defaultValue: 0, workspaceValue: 40 }), 40);
  assert.equal(resolve(unset, { defaultValue: 0, workspaceFolderValue: 48 }), 48);
});

test('in the same scope the new key wins, even when it is 0 (detect)', () => {
  assert.equal(resolve({ defaultValue: 0, globalValue: 80 }, { defaultValue: 0, globalValue: 24 }), 80);
  assert.equal(resolve({ defaultValue: 0, workspaceValue: 0 }, { defaultValue: 0, workspaceValue: 24 }), 0);
});

test('the more specific scope wins whichever key it uses, as one key would', () => {
  // An old key in the workspace's settings.json still overrides the user's new key.
  assert.equal(resolve({ defaultValue: 0, globalValue: 80 }, { defaultValue: 0, workspaceValue: 24 }), 24);
  // And a new key in the workspace overrides the user's old key.
  assert.equal(resolve({ defaultValue: 0, workspaceValue: 80 }, { defaultValue: 0, globalValue: 24 }), 80);
  assert.equal(resolve({ defaultValue: 0, globalValue: 80, workspaceValue: 40 }, { defaultValue: 0, workspaceFolderValue: 24 }), 24);
});

test('neither key set: the new key default, else the fallback', () => {
  assert.equal(resolve(unset, unset), 0);
  assert.equal(resolve({ defaultValue: 16 }, { defaultValue: 0 }), 16);
  assert.equal(resolve(undefined, undefined), -1, 'inspect() returns undefined for a key nobody contributes');
});

test('a value of the wrong type counts as not set', () => {
  // A hand-edited settings.json can hold anything; VS Code passes it through inspect() as is.
  assert.equal(resolve({ defaultValue: 0, workspaceValue: '80' }, { defaultValue: 0, globalValue: 24 }), 24);
  assert.equal(resolve({ defaultValue: 0, globalValue: -3 }, { defaultValue: 0, globalValue: Number.NaN }), 0);
});
