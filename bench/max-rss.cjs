// Preloaded into the CLI by bench/import.ts (node --require): on exit, write
// the process's peak resident set size (bytes) and the CPU time it used
// (seconds) to BENCH_MAX_RSS_FILE, as JSON.
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_MAX_RSS_FILE;
  const usage = process.resourceUsage();
  // maxRSS is in kilobytes (getrusage's ru_maxrss), CPU times in microseconds.
  if (file) writeFileSync(file, JSON.stringify({ maxRss: usage.maxRSS * 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }));
});
