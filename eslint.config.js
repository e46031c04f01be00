// Lint: eslint's and typescript-eslint's recommended rules, type-aware where it pays,
// and the layer rule of docs/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first. A module may import its own layer and the
 * layers below it, never one above (docs/architecture.md). Folder names inside
 * a layer never repeat a layer's name, so a relative path that climbs out of a
 * layer and names one of these is an import of that layer.
 */
export const LAYERS = ['util', 'format', 'store', 'refs', 'repo', 'system', 'remote', 'fuse', 'cli'];

/** One override per layer: relative imports that climb into any higher layer are errors. */
function layerRules() {
  return LAYERS.slice(0, -1).map((layer, i) => {
    const above = LAYERS.slice(i + 1);
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\./)?(\\.\\./)+(${above.join('|')})(/|$)`,
                message: `src/${layer} is below ${above.join(', ')}: it may import only its own layer and ${LAYERS.slice(0, i).join(', ') || 'no other'} (docs/architecture.md).`,
              },
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/format/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
      // undici's index loads all of undici (fetch, WebSocket, mocks: 1 MB bundled, about 0.1 s per
      // network command); values come from the modules trove uses (src/remote/transport.ts).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'undici', allowTypeImports: true, message: "import undici's pool and request API from undici/lib/… (src/types/modules.d.ts), not its index." }] },
      ],
    },
  },
  ...layerRules(),
  {
    // Commands share code through src/cli modules (printers.ts, derive.ts), never through each other.
    files: ['src/cli/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\./|\\.\\./commands/)',
              message: 'a command module does not import another command module: put what they share in src/cli (printers.ts for printers).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' },
    },
  },
);
