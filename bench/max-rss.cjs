// Preloaded into the CLI by bench/import.ts (node --require): on exit, write
// the process's peak resident set size (bytes), the CPU time it used
// (seconds), and the peaks of V8's heap and of the memory outside it
// (Buffers, sampled every 100 ms) to BENCH_MAX_RSS_FILE, as JSON.
'use strict';
const { writeFileSync } = require('node:fs');
const { setInterval } = require('node:timers');

const peak = { heapTotal: 0, external: 0 };
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peak.heapTotal = Math.max(peak.heapTotal, usage.heapTotal);
  peak.external = Math.max(peak.external, usage.external);
}, 100);
sampler.unref();

process.on('exit', () => {
  const file = process.env.BENCH_MAX_RSS_FILE;
  const usage = process.resourceUsage();
  // maxRSS is in kilobytes (getrusage's ru_maxrss), CPU times in microseconds.
  if (file) writeFileSync(file, JSON.stringify({ maxRss: usage.maxRSS * 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, peakHeap: peak.heapTotal, peakExternal: peak.external }));
});
