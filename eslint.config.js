// One linter (ESLint with typescript-eslint, type-aware) and one formatter (Prettier, run by `npm run lint`).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Layers, top to bottom: cli -> (producer | consumers) -> (kafka | schemas) -> common.
// An import may only point down; scripts/ and bench/ sit beside cli/ and nothing in the product imports them.
const product = ['./common', './schemas', './kafka', './producer', './consumers', './cli'];
const layerZones = [
  {
    target: './common',
    from: ['./schemas', './kafka', './producer', './consumers', './cli'],
    message: 'common/ is the bottom layer',
  },
  {
    target: './schemas',
    from: ['./kafka', './producer', './consumers', './cli'],
    message: 'schemas/ may import common/ only',
  },
  {
    target: './kafka',
    from: ['./schemas', './producer', './consumers', './cli'],
    message: 'kafka/ may import common/ only',
  },
  {
    target: './producer',
    from: ['./consumers', './cli'],
    message: 'producer/ may not import consumers/ or cli/',
  },
  {
    target: './consumers',
    from: ['./producer', './cli'],
    message: 'consumers/ may not import producer/ or cli/',
  },
  {
    target: product,
    from: ['./scripts', './bench', './test'],
    message: 'the product does not import scripts/, bench/ or test/',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'audit-demo/', 'audit-data/', '.stack/', '.cache/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    // Resolves './x.js' to './x.ts' as tsc does; without it the import rules see no module and check nothing.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      // Layers: cli -> (producer | consumers) -> (kafka | schemas) -> common. An import may only point down.
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'no-console': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
