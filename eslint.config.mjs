// @ts-check
import tseslint from 'typescript-eslint';

/** what the pure libraries (pickle, bytes, archives, scanner) may not import: they are plain TypeScript, no Nest, no
 * I/O of their own (a caller hands them a ByteSource), below the storage and registry libraries */
const PURE = [
  {
    group: ['@nestjs/*', 'typeorm', 'bullmq', 'ioredis', '@aws-sdk/*', 'express', 'pg'],
    message: 'the pure libraries import no framework',
  },
  {
    group: [
      'fs',
      'fs/*',
      'node:fs',
      'node:fs/*',
      'node:net',
      'node:http',
      'node:https',
      'node:child_process',
    ],
    message: 'the pure libraries do no I/O: read through a ByteSource',
  },
  {
    group: [
      '@brine/storage',
      '@brine/storage/*',
      '@brine/registry',
      '@brine/persistence',
      '@brine/queue',
      '@brine/config',
    ],
    message: 'the pure libraries sit below storage and the registry',
  },
];
/** bytes and archives sit below the scanner and the pickle machine */
const BELOW_SCANNER = {
  group: ['@brine/scanner', '@brine/scanner/*', '@brine/pickle', '@brine/pickle/*'],
  message: 'bytes and archives sit below the scanner',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', '**/*.js', '**/*.mjs'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['libs/{pickle,scanner}/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: PURE }] },
  },
  {
    files: ['libs/{bytes,archives}/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...PURE, BELOW_SCANNER] }] },
  },
);
