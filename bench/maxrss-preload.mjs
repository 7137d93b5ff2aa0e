// Preloaded (node --import) into a child process by bench/upscale-rss.bench.ts: prints the
// process's peak resident set size (all threads, KiB) to stderr as it exits.
process.on('exit', () => process.stderr.write(`maxRSS ${process.resourceUsage().maxRSS}\n`));
