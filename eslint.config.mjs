// House rules, checked by `npm run lint` (run by `npm test`). Formatting is Prettier's (see .prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // Input validation matches control characters on purpose (NUL, escapes in ids and text).
      'no-control-regex': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no activity or store code as values.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'http', 'https', 'net', 'child_process', 'crypto'], message: 'Workflow code cannot use Node built-ins.' },
            { group: ['knex', 'pg', 'sqlite3', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'], message: 'Workflow code cannot do I/O.' },
            {
              group: ['../activities', '../activities/*', '../store/*', '../connectors/*', '../worker/*', '../client/*', '../support/*'],
              allowTypeImports: true,
              message: 'Workflows import activities, the store and connectors as types only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks may use jest's and fast-check's loose shapes.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
