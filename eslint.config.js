// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'test/golden/*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json', './test/vscode/suite/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests poke at parsed JSON and YAML; the unsafe-any family would only add casts there.
    files: ['test/**/*.ts', 'packages/*/test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // Cross-cutting test helpers have one home, test/support: the Python steps run with, the
    // repository root, waiting for a condition, whether a process lives. Import them from there.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts'],
    ignores: ['test/support/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "VariableDeclarator[init.value='/usr/bin/python3']",
          message: 'Import PYTHON from test/support/paths.ts instead of declaring it again.',
        },
        {
          selector:
            'VariableDeclarator > CallExpression:has(MetaProperty) > Literal[value=/^(\\.\\.\\/)+\\.\\.$/]',
          message:
            'Import REPO_ROOT from test/support/paths.ts instead of finding the repository again.',
        },
        {
          selector:
            'FunctionDeclaration[id.name=/^(waitFor|isRunning|isAlive)$/], VariableDeclarator[id.name=/^(waitFor|isRunning|isAlive)$/]',
          message:
            'Import waitFor from test/support/wait-for.ts and isRunning from test/support/processes.ts instead of declaring them again.',
        },
      ],
    },
  },
  {
    // Browser code (and the protocol it shares with the backend): no Node module may enter a
    // browser bundle.
    files: [
      'packages/ui/src/**/*.ts',
      'packages/jupyterlab/src/**/*.ts',
      'packages/protocol/src/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'child_process', 'os', 'http', 'net', 'crypto'],
              message: 'browser code: no Node imports.',
            },
            { group: ['@kubernetes/*'], message: 'browser code: no Kubernetes client.' },
            {
              group: [
                '@cellflow/backend',
                '@cellflow/backend/*',
                '@cellflow/cli',
                '@cellflow/vscode',
              ],
              message:
                'browser code: @cellflow/backend is Node only; the Backend interface, events and agent API come from @cellflow/protocol.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'child_process', 'os'],
              message: 'core is pure and browser-safe: no Node imports.',
            },
            {
              group: ['@cellflow/*', 'vscode', '@jupyterlab/*'],
              message: 'core imports nothing from the repo or editors.',
            },
          ],
        },
      ],
    },
  },
  {
    // Lumino signals take (slot, thisArg) and call the slot with that `this`; JupyterLab names
    // command ids in a `namespace CommandIDs`.
    files: ['packages/jupyterlab/src/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-namespace': 'off',
    },
  },
);
