// ESLint with typescript-eslint's type-aware rules (floating promises, unsafe any, misused
// promises), run by `npm run lint` (part of `npm test`); Prettier owns the formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'eslint.config.js',
      '.dependency-cruiser.cjs',
      'dist/',
      'build/',
      '.build-test/',
      'node_modules/',
      'coverage/',
      '.vitest/',
      'test/fixtures/',
      'test/render/fixtures/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` marks what is left out on purpose (a key dropped by destructuring, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Vigil strips control characters from what others send (log lines, labels): those regexes mean them.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read the JSON they assert on (Discord requests, API answers) as it comes: untyped on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Test doubles implement async interfaces with synchronous bodies.
      '@typescript-eslint/require-await': 'off',
      // Query strings and process output tails read as text in URLs and messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allow: [{ from: 'file', name: 'OutputTail' }] }],
    },
  },
);
