#!/usr/bin/env node
// The mpfnet command line (compiled from lib/cli/). dist/ exists only after the build, so the type
// checker (tsconfig.checkjs.json) reads the module's types from its source.
/** @type {Promise<typeof import('../lib/cli/main.js')>} */
const cli = import(new URL('../dist/lib/cli/main.js', import.meta.url).href);
cli
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
