#!/usr/bin/env node
// The mpfnet command line (compiled from lib/cli/).
import('../dist/lib/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
