const path = require('node:path');
const { includeIgnoreFile } = require('@eslint/compat');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  // What git ignores is output or local state, never source: dist/ (the build), build/ (what
  // `npm run demo` and `npm run bench` compile), coverage/, src/generated/, node_modules/.
  // Reading .gitignore keeps the two lists from drifting apart when an output folder is added.
  includeIgnoreFile(path.join(__dirname, '.gitignore'), 'files git ignores'),
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'exit',
          message: 'Only the entry point (src/main.ts) exits the process.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Configuration is read once, in src/config/.' },
        {
          object: 'process',
          property: 'exit',
          message: 'Only the entry point (src/main.ts) exits the process.',
        },
      ],
    },
  },
  {
    // Entry points: the only places that exit the process.
    files: ['src/main.ts', 'test/demo/demo.ts', 'test/bench/bench.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        console: 'readonly',
        process: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
  },
);
