// How VS Code's Settings editor titles our settings, so that no title reads like "Gpu Memory Gi B".
//
// A contributed setting has no title field: the Settings editor derives one from the key
// (settingKeyToDisplayFormat, wordifyKey and trimCategoryForGroup in microsoft/vscode
// src/vs/workbench/contrib/preferences/browser/settingsTreeModels.ts; read here in the workbench
// bundle that the editor tier runs, code-server 4.139.1 = VS Code 1.139.1, and checked by hand in its
// Settings editor). The key splits at its last dot into a category and a label, and each is
// "wordified":
//   1. `.x` becomes ` › X` (categories only: the label has no dot);
//   2. a space goes between a lowercase letter or digit and the capital after it (fooBar → foo Bar);
//   3. a run of capitals stays whole, split only before its last capital when a lowercase letter
//      follows (GPUMemory → GPU Memory);
//   4. the first letter is upper-cased;
//   5. a short list of acronyms is upper-cased (css, html, scss, less, json, js, ts, ie, id, php, scm)
//      and a few names get their spelling (PowerShell, JavaScript, TypeScript, GitHub, ...).
// So `gpuMemoryGiB` → "Gpu Memory Gi B", and `memoryPerGPU` → "Memory Per GPU": an acronym survives
// only written in capitals, and a mixed-case unit (GiB, MiB) cannot survive at all.
// The category is shown whole in search results ("Fact Rlhf: ..."); in the table of contents the
// extension's group id (its id, for a single configuration section) is trimmed off its front first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const KNOWN_ACRONYMS = new Set(['css', 'html', 'scss', 'less', 'json', 'js', 'ts', 'ie', 'id', 'php', 'scm']);
const KNOWN_TERMS: [string, string][] = [
  ['power shell', 'PowerShell'],
  ['powershell', 'PowerShell'],
  ['javascript', 'JavaScript'],
  ['typescript', 'TypeScript'],
  ['github', 'GitHub'],
  ['ocaml', 'OCaml'],
  ['jet brains', 'JetBrains'],
  ['jetbrains', 'JetBrains'],
  ['re sharper', 'ReSharper'],
  ['resharper', 'ReSharper'],
];

/** Steps 1–5 above. */
function wordify(text: string): string {
  let out = text
    .replace(/\.([a-z0-9])/g, (_, c: string) => ` \u203A ${c.toUpperCase()}`)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/^[a-z]/, (c) => c.toUpperCase())
    .replace(/\b\w+\b/g, (w) => (KNOWN_ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w));
  for (const [term, spelled] of KNOWN_TERMS) out = out.replace(new RegExp(`\\b${term}\\b`, 'gi'), spelled);
  return out;
}

/**
 * Drops the part of the category the group id already says: the longest run of the id's segments
 * (from the front, then from the back) that prefixes the category, case-insensitively; an id segment
 * equal to the whole category but for its hyphens counts without them ("fact-rlhf" ~ "factRlhf").
 */
function trimCategory(category: string, groupId: string): string {
  const id = /insiders$/i.test(category) ? groupId : groupId.replace(/-?insiders$/i, '');
  const attempt = (dropLast: boolean): string | undefined => {
    const parts = id.split('.').map((p) => (p.replace(/-/g, '').toLowerCase() === category.toLowerCase() ? p.replace(/-/g, '') : p));
    while (parts.length) {
      const prefix = new RegExp(`^${parts.join('\\.')}(\\.|$)`, 'i');
      if (prefix.test(category)) return category.replace(prefix, '');
      if (dropLast) parts.pop();
      else parts.shift();
    }
    return undefined;
  };
  return attempt(true) ?? attempt(false) ?? category;
}

/** VS Code's { category, label } for a setting key; groupId '' as in search results. */
export function settingTitle(key: string, groupId = ''): { category: string; label: string } {
  const dot = key.lastIndexOf('.');
  const category = dot >= 0 ? key.slice(0, dot) : '';
  return { category: wordify(trimCategory(category, groupId.replace(/\//g, '.'))), label: wordify(key.slice(dot + 1)) };
}

test("the rule gives VS Code's own expected titles (its settingsTreeModels tests) and what its Settings editor showed", () => {
  assert.deepEqual(settingTitle('foo.bar'), { category: 'Foo', label: 'Bar' });
  assert.deepEqual(settingTitle('foo.bar.etc'), { category: 'Foo \u203A Bar', label: 'Etc' });
  assert.deepEqual(settingTitle('fooBar.etcSomething'), { category: 'Foo Bar', label: 'Etc Something' });
  assert.deepEqual(settingTitle('foo.1Leading.number'), { category: 'Foo \u203A 1 Leading', label: 'Number' });
  assert.deepEqual(settingTitle('foo.bar.etc', 'foo'), { category: 'Bar', label: 'Etc' });
  assert.deepEqual(settingTitle('foo.bar.etc', 'foo/bar'), { category: '', label: 'Etc' });
  assert.deepEqual(settingTitle('foo.bar.etc', 'something/foo'), { category: 'Bar', label: 'Etc' });
  assert.deepEqual(settingTitle('bar.etc', 'something.bar'), { category: '', label: 'Etc' });
  assert.deepEqual(settingTitle('fooBar.somethingElse.etc', 'fooBar'), { category: 'Something Else', label: 'Etc' });
  assert.deepEqual(settingTitle('css.someCssSetting'), { category: 'CSS', label: 'Some CSS Setting' });
  assert.deepEqual(settingTitle('powershell.somePowerShellSetting'), { category: 'PowerShell', label: 'Some PowerShell Setting' });
  // Capitals survive (VS Code's own http.proxyStrictSSL); "http" is not on the acronym list.
  assert.deepEqual(settingTitle('http.proxyStrictSSL'), { category: 'Http', label: 'Proxy Strict SSL' });
  // Seen in code-server's Settings editor (search "@ext:fact-rlhf.fact-rlhf-studio", then its table of contents).
  assert.deepEqual(settingTitle('factRlhf.gpuMemoryGiB'), { category: 'Fact Rlhf', label: 'Gpu Memory Gi B' });
  assert.deepEqual(settingTitle('factRlhf.memoryPerGPU', EXTENSION_ID), { category: '', label: 'Memory Per GPU' });
  assert.deepEqual(settingTitle('factRlhf.traces.maxUpdatesPerSecond', EXTENSION_ID), {
    category: 'Fact Rlhf \u203A Traces',
    label: 'Max Updates Per Second',
  });
});

const ROOT = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  publisher: string;
  name: string;
  contributes: { configuration: Section | Section[] };
};
interface Section {
  id?: string;
  title?: string;
  properties: Record<string, { deprecationMessage?: string; markdownDeprecationMessage?: string }>;
}
const EXTENSION_ID = `${manifest.publisher}.${manifest.name}`;

/** Acronyms of this domain: a title must show them as written here, never "Gpu" or "Kl". */
const OUR_ACRONYMS = [
  'GPU',
  'CPU',
  'KL',
  'PPO',
  'SFT',
  'RLHF',
  'LoRA',
  'GiB',
  'MiB',
  'GB',
  'MB',
  'VRAM',
  'ONNX',
  'LLaVA',
  'TRL',
  'URL',
  'API',
  'YAML',
];

/** What reads wrong in a title: an acronym split into letters ("Gi B"), or one in the wrong case ("Gpu"). */
function problems(title: string): string[] {
  const found: string[] = [];
  for (const word of title.split(/[\s\u203A:]+/).filter(Boolean)) {
    if (/^[A-Za-z]$/.test(word)) found.push(`"${word}" is a lone letter (an acronym split by its camelCase)`);
    const acronym = OUR_ACRONYMS.find((a) => a.toLowerCase() === word.toLowerCase() && a !== word);
    if (acronym) found.push(`"${word}" should read "${acronym}" (write it in capitals in the key)`);
  }
  return found;
}

/**
 * The extension's namespace `factRlhf` reads "Fact Rlhf" wherever VS Code shows a category whole
 * (search results, and a nested key's table-of-contents entry). Renaming every setting and command
 * is not worth that; these titles are pinned, so the list can only shrink.
 */
const NAMESPACE_WORDS = 'Fact Rlhf';
const KNOWN_TOC_CATEGORIES: Record<string, string> = { 'factRlhf.traces.maxUpdatesPerSecond': 'Fact Rlhf \u203A Traces' };

test('no contributed setting gets a title with a split or miscased acronym', () => {
  const sections = Array.isArray(manifest.contributes.configuration)
    ? manifest.contributes.configuration
    : [manifest.contributes.configuration];
  // One section: its table-of-contents group is the extension itself (the Settings editor folds it).
  const groupOf = (s: Section): string => (sections.length === 1 ? EXTENSION_ID : s.id && s.id !== EXTENSION_ID ? s.id : (s.title ?? ''));
  const checked: string[] = [];
  for (const section of sections) {
    for (const [key, setting] of Object.entries(section.properties)) {
      // The Settings editor hides a deprecated setting unless it is set (then it shows its message).
      if (setting.deprecationMessage || setting.markdownDeprecationMessage) continue;
      const inSearch = settingTitle(key);
      const inToc = settingTitle(key, groupOf(section));
      assert.deepEqual(problems(inSearch.label), [], `${key}: "${inSearch.label}"`);
      assert.ok(inSearch.category.startsWith(NAMESPACE_WORDS), `${key}: search category "${inSearch.category}"`);
      assert.deepEqual(problems(inSearch.category.slice(NAMESPACE_WORDS.length)), [], `${key}: category "${inSearch.category}"`);
      if (key in KNOWN_TOC_CATEGORIES) assert.equal(inToc.category, KNOWN_TOC_CATEGORIES[key], `${key}: pinned category changed`);
      else assert.deepEqual(problems(inToc.category), [], `${key}: table-of-contents category "${inToc.category}"`);
      checked.push(key);
    }
  }
  assert.ok(checked.includes('factRlhf.memoryPerGPU') && checked.length >= 5, `checked: ${checked.join(', ')}`);
});

test('the check catches the old GPU key, which is why it is deprecated (and hidden unless set)', () => {
  assert.deepEqual(problems(settingTitle('factRlhf.gpuMemoryGiB').label), [
    '"Gpu" should read "GPU" (write it in capitals in the key)',
    '"B" is a lone letter (an acronym split by its camelCase)',
  ]);
  const sections = Array.isArray(manifest.contributes.configuration)
    ? manifest.contributes.configuration
    : [manifest.contributes.configuration];
  const old = sections.map((s) => s.properties['factRlhf.gpuMemoryGiB']).find(Boolean);
  assert.ok(old, 'the old key stays contributed, so settings.json files that use it keep working');
  assert.match(old.markdownDeprecationMessage ?? '', /#factRlhf\.memoryPerGPU#/);
});
