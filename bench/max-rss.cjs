// Preloaded into the CLI by bench/import.ts (node --require): on exit, write
// the process's peak resident set size in bytes to BENCH_MAX_RSS_FILE.
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_MAX_RSS_FILE;
  // resourceUsage().maxRSS is in kilobytes (getrusage's ru_maxrss).
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
});
