// npm run lint: typescript-eslint's type-aware recommended rules plus stylistic rules chosen to
// match how the code is already written (single quotes, semicolons, 2-space indent, trailing
// commas in multi-line lists). Formatting is checked by these rules only (no Prettier).
// File names: kebab-case for TypeScript in lib/, test/ and bench/; the native sources in native/
// keep C++'s snake_case (cr_samples.cc, conv2d_binding.cc), and Python scripts keep Python's
// (gen_ops.py, peer_common.py: importable module names cannot contain '-').
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/', 'build/', 'build*/', 'node_modules/', 'docs/api/', 'prebuilds/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      // The type-checking configs of npm run typecheck, so `!` and `?.` are judged under
      // noUncheckedIndexedAccess as tsc judges them.
      parserOptions: { project: ['./tsconfig.check.json', './tsconfig.checkjs.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      // `async` marks functions that implement a Promise-returning interface (a bench's run(), a
      // callback expected to reject) even when their body happens not to await.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a binding that is unused on purpose (destructuring to drop a field).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Shapes and lists in messages print as "2,3,4" on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowArray: true, allowBoolean: true, allowNullish: true, allowNumber: true }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1 }],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/comma-spacing': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
    },
  },
  {
    // Scripts outside the type-checked projects: syntax and style rules only (the browser example
    // runs in a page, not Node; the worker bootstrap runs before TypeScript can be loaded; the arm64
    // check scripts also run on the emulated Node 18).
    files: ['eslint.config.mjs', 'test/gpu/*.mjs', 'test/arm64/*.mjs', 'examples/browser/*.js', 'lib/workers/*.mjs', 'bench/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['examples/browser/*.js'],
    languageOptions: { globals: { ...globals.browser, ort: 'readonly' } },
  },
);
