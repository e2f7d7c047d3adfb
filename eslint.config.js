const path = require('node:path');
const { includeIgnoreFile } = require('@eslint/compat');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * The layers of src/, lowest first: a folder may import its own layer and those below it, never
 * one above (docs/architecture.md). Protocol and wiring sit on top, pure logic and I/O adapters below.
 */
const LAYERS = [
  ['generated'],
  ['clock'],
  ['abort'],
  ['util'],
  ['oci'],
  ['config'],
  ['log'],
  ['storage', 'registry-api'],
  ['tag-freshness', 'tag-list'],
  ['locate'],
  ['decide'],
  ['extproc'],
  ['admin'],
  ['notifications'],
  ['staleness'],
  ['telemetry'],
  ['envoy'],
  ['app'],
  ['workers'],
  ['cli'],
];

/** One config per layer: importing any folder of a higher layer is an error. */
function layerRules() {
  return LAYERS.slice(0, -1).map((layer, i) => {
    const above = LAYERS.slice(i + 1).flat();
    return {
      files: layer.map((folder) => `src/${folder}/**/*.ts`),
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./)+(${above.join('|')})(/|$)`,
                message: `src/${layer.join(', ')} sits below ${above.join(', ')} (eslint.config.js LAYERS): pass what it needs in, or move the shared piece down`,
              },
            ],
          },
        ],
      },
    };
  });
}

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
  ...layerRules(),
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
