// Lint for all TypeScript parts; runs in `npm test`.
import tseslint from 'typescript-eslint';
import local from './scripts/eslint-boundaries.mjs';

const VSCODE = { name: 'vscode', message: 'Only src/editor/** and src/extension.ts import vscode (DESIGN.md §2).' };
const TOOLKIT = {
  name: '@vscode/webview-ui-toolkit',
  message: 'Import the UI components from webview/shared/toolkit.ts, the one file that knows the UI kit (a swap stays a one-file change).',
};
const boundaries = (options) => ({ 'local/boundaries': ['error', options] });

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'tools/**',
      '.tools/**',
      '.venv/**',
      'src/protocol/generated/**',
      'test-results/**',
      '.test-work/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { local },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { paths: [VSCODE, TOOLKIT] }],
    },
  },
  {
    // The VS Code wiring (and the editor-tier tests, which run inside VS Code) may import vscode.
    files: ['src/editor/**/*.ts', 'src/extension.ts', 'test/editor/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [TOOLKIT] }] },
  },
  {
    // The webview host's logic and page stay VS Code-free so unit and browser tests run them as they are.
    files: ['src/editor/webviews/channel.ts', 'src/editor/webviews/webviewHtml.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ ...VSCODE, message: 'VS Code-free by design: the vscode shell is webviewHost.ts.' }, TOOLKIT] },
      ],
    },
  },
  {
    files: ['webview/shared/toolkit.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE] }] },
  },
  // Dependencies point one way: editor → viewModels → runs → protocol, cli → runs, webview → protocol.
  {
    files: ['webview/**/*.ts'],
    rules: boundaries({
      only: ['webview', 'src/protocol'],
      packages: [],
      message: 'webview code talks to the host only through src/protocol',
    }),
  },
  {
    files: ['webview/shared/toolkit.ts'],
    rules: boundaries({
      only: ['webview', 'src/protocol'],
      packages: ['@vscode/webview-ui-toolkit'],
      message: 'webview code talks to the host only through src/protocol',
    }),
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: boundaries({ only: ['src/protocol'], packages: [], message: 'the protocol imports nothing outside itself' }),
  },
  {
    files: ['src/protocol/lsp.ts'],
    rules: boundaries({
      only: ['src/protocol'],
      packages: ['vscode-languageserver-protocol'],
      message: 'the protocol imports nothing outside itself',
    }),
  },
  {
    files: ['src/runs/**/*.ts'],
    rules: boundaries({
      forbid: ['src/cli', 'src/editor', 'src/viewModels', 'src/extension.ts'],
      message: 'runs/ is below the CLI, the view models and the editor',
    }),
  },
  {
    files: ['src/viewModels/**/*.ts'],
    rules: boundaries({
      forbid: ['src/editor', 'src/cli', 'src/extension.ts'],
      message: 'view models are VS Code-free and below the editor',
    }),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: boundaries({
      forbid: ['src/editor', 'src/viewModels', 'src/extension.ts'],
      message: 'the CLI stands on runs/, not on the editor',
    }),
  },
  {
    files: ['src/editor/statusBar.ts'],
    rules: boundaries({ forbid: ['src/cli'], message: 'the status bar does not import the CLI' }),
  },
  {
    // The scorer's worker thread is the only importer of the native inference modules, and the
    // scorer never imports vscode (DESIGN.md §2). A rule of its own, so the vscode rule above stays.
    files: ['src/**/*.ts'],
    ignores: ['src/scoring/worker.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'onnxruntime-node', message: 'Only src/scoring/worker.ts imports onnxruntime-node (DESIGN.md §2).' },
            { name: 'tokenizers', message: 'Only src/scoring/worker.ts imports the native tokenizer.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/scoring/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The scorer must not import vscode (DESIGN.md §2).' }] }],
    },
  },
);
