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
);
