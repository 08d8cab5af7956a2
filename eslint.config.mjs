// Lint for all TypeScript parts; runs in `npm test`.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tools/**', '.tools/**', '.venv/**', 'src/protocol/generated/**', 'test-results/**', '.test-work/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // runs/ and protocol/ are shared with the CLI and tests: they must never depend on VS Code.
    files: ['src/runs/**/*.ts', 'src/protocol/**/*.ts', 'src/cli/**/*.ts', 'language-server/**/*.ts', 'webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'This part must not import vscode (DESIGN.md §2).' }] }] },
  },
  {
    // The scorer's worker thread is the only importer of the native inference modules, and the
    // scorer never imports vscode (DESIGN.md §2). A rule of its own, so the vscode rule above stays.
    files: ['src/**/*.ts'],
    ignores: ['src/scoring/worker.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [
        { name: 'onnxruntime-node', message: 'Only src/scoring/worker.ts imports onnxruntime-node (DESIGN.md §2).' },
        { name: 'tokenizers', message: 'Only src/scoring/worker.ts imports the native tokenizer.' },
      ] }],
    },
  },
  {
    files: ['src/scoring/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The scorer must not import vscode (DESIGN.md §2).' }] }] },
  },
);
