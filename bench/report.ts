/** The bench's verdict: a table of every phase, each target with its measurement, the ratios, and the JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase } from './phase';
import type { SetResult } from './scenarios/set';
import { BURST, CONCURRENCY, CORES, COST, fmt, HASH_QUEUE, log, PHASE_SECONDS, ROOT } from './settings';

/** A whole run: the machine, the database, the two sets. */
export interface Report {
  machine: Record<string, unknown>;
  database: string;
  small: SetResult;
  large: SetResult;
  seconds: number;
}

interface Target {
  target: string;
  measured: string;
  pass: boolean;
}

function find(set: { phases: Phase[] }, name: string): Phase {
  const found = set.phases.find((p) => p.name === name);
  if (!found) throw new Error(`no phase ${name}`);
  return found;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One row per phase of each set, after the limit it is measured against. */
function phaseTable(run: Report): string[] {
  const lines = [row(['phase', 'users', 'req/s', 'x limit', 'p50 ms', 'p99 ms', 'loop p99 ms', 'peak RSS MB', 'statuses']), row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---'])];
  for (const set of [run.small, run.large]) {
    const setLimit = set.limit.checksPerSecond;
    lines.push(row(['bcrypt alone (the limit)', '-', fmt(setLimit), '1.00', '-', '-', '-', '-', `${CONCURRENCY} at once (${set.limit.spread.map((v) => fmt(v)).join(' then ')}); one check ${fmt(set.limit.singleCheckMs)} ms`]));
    for (const p of [...set.phases, ...(set.combined ? [set.combined] : [])]) {
      const statuses = Object.entries(p.statuses).map(([s, n]) => `${s}: ${n}`).join(', ') + (p.errors ? `, errors: ${p.errors}` : '');
      lines.push(row([p.name, String(p.users), fmt(p.throughput), fmt(p.throughput / setLimit, 2), fmt(p.p50Ms), fmt(p.p99Ms), fmt(p.eventLoopP99Ms), fmt(p.peakRssMb, 0), statuses]));
    }
  }
  return lines;
}

/** The validate throughput of 100k users over that of 1k, each over the limit of its own set. */
function largeOverSmall(run: Report): number {
  return find(run.large, 'validate (right)').throughput / run.large.limit.checksPerSecond / (find(run.small, 'validate (right)').throughput / run.small.limit.checksPerSecond);
}

/** The performance model's targets (shared/design.md), each with what was measured. */
function targetsOf(run: Report): Target[] {
  const limit = run.small.limit.checksPerSecond;
  const single = run.small.limit.singleCheckMs;
  const validate = find(run.small, 'validate (right)');
  const validateLarge = find(run.large, 'validate (right)');
  const at80 = find(run.small, 'validate at 80% of the limit');
  const overload = find(run.small, 'overload: validate at 3x the limit');
  const storm = find(run.small, `burst: ${BURST} validations at once`);
  const stormBound = (BURST * single) / CORES / 1000;
  const saturation = ['validate (right)', 'validate (wrong)', 'reset-password'].map((name) => find(run.small, name));
  const rejections = ['rejected: bad token', 'rejected: locked-out user', 'rejected: bad body'].map((name) => find(run.small, name));
  const slowestRejection = Math.min(...rejections.map((p) => p.throughput));
  const loopP99 = Math.max(...saturation.map((p) => p.eventLoopP99Ms));
  const answered = Object.values(overload.statuses).reduce((a, b) => a + b, 0);
  const onlyAcceptedOrShed = Object.keys(overload.statuses).every((s) => s === '200' || s === '503');
  const scaled = largeOverSmall(run);
  return [
    { target: 'validate-password throughput >= 0.9 x the bcrypt-only limit', measured: `${fmt(validate.throughput / limit, 2)} (${fmt(validate.throughput)} of ${fmt(limit)}/s)`, pass: validate.throughput >= 0.9 * limit },
    {
      target: 'p99 at 80% of the limit < 2 x one bcrypt check',
      measured: `${fmt(at80.p99Ms)} ms vs ${fmt(2 * single)} ms`,
      pass: at80.p99Ms < 2 * single && (at80.statuses['200'] ?? 0) === at80.sent,
    },
    { target: 'event loop delay p99 < 20 ms at saturation', measured: `${fmt(loopP99)} ms (worst of validate right/wrong, reset)`, pass: loopP99 < 20 },
    { target: 'rejections before a hash >= 20 x the limit', measured: `${fmt(slowestRejection / limit)} x (slowest of bad token, locked-out, bad body)`, pass: slowestRejection >= 20 * limit },
    {
      target: '100k users >= 0.95 x 1k users (validate throughput, each over the limit of its own set)',
      measured: `${fmt(scaled, 2)} (raw ${fmt(validateLarge.throughput / validate.throughput, 2)})`,
      pass: scaled >= 0.95,
    },
    {
      target: `burst of ${BURST} at once: all answered 200, drained in about ${BURST} x one check / cores`,
      measured: `${storm.statuses['200'] ?? 0} x 200 of ${storm.sent}; drained in ${fmt(storm.seconds, 2)} s vs ${BURST} x ${fmt(single)} ms / ${CORES} = ${fmt(stormBound, 2)} s`,
      pass: (storm.statuses['200'] ?? 0) === storm.sent && storm.errors === 0,
    },
    {
      target: 'overload at 3x: accepted p99 <= 1.25 x p99 at saturation',
      measured: `${fmt(overload.expectedP99Ms)} ms vs ${fmt(validate.p99Ms)} ms (${overload.statuses['200'] ?? 0} accepted)`,
      pass: overload.expectedP99Ms <= 1.25 * validate.p99Ms,
    },
    {
      target: 'overload at 3x: the rest get 503 in < 50 ms (p99)',
      measured: `${overload.statuses['503'] ?? 0} x 503, p99 ${fmt(overload.shedP99Ms)} ms`,
      pass: (overload.statuses['503'] ?? 0) > 0 && overload.shedP99Ms < 50,
    },
    {
      target: 'overload at 3x: nothing hangs, nothing lost (every request answered 200 or 503)',
      measured: `${answered} answered of ${overload.sent} sent, ${overload.errors} errors or timeouts`,
      pass: answered === overload.sent && overload.errors === 0 && onlyAcceptedOrShed,
    },
  ];
}

/** Throughputs over the limit, the headline of a run. */
interface Ratios {
  readonly validateRight: number;
  readonly validateWrong: number;
  readonly resetPassword: number;
  readonly users100kOver1k: number;
  readonly twoInstances?: number;
}

function ratiosOf(run: Report): Ratios {
  const limit = run.small.limit.checksPerSecond;
  return {
    validateRight: find(run.small, 'validate (right)').throughput / limit,
    validateWrong: find(run.small, 'validate (wrong)').throughput / limit,
    // reset-password does two hashes (verify the current password, hash the new one): 0.5 is the ceiling.
    resetPassword: find(run.small, 'reset-password').throughput / limit,
    users100kOver1k: largeOverSmall(run),
    ...(run.small.combined ? { twoInstances: run.small.combined.throughput / limit } : {}),
  };
}

function summary(run: Report, ratios: Ratios): string[] {
  return [
    `ratios to the limit: validate right ${fmt(ratios.validateRight, 2)}, wrong ${fmt(ratios.validateWrong, 2)}, reset-password ${fmt(ratios.resetPassword, 2)} ` +
      `(two hashes each: ceiling 0.5); 100k/1k users ${fmt(ratios.users100kOver1k, 2)}` +
      (ratios.twoInstances === undefined ? '' : `; two instances round-robin ${fmt(ratios.twoInstances, 2)} (same ${String(run.machine.cores)} cores)`),
    `machine: ${String(run.machine.cores)} cores (${String(run.machine.cpu)}), ${String(run.machine.memoryGb)} GB, node ${String(run.machine.node)}; database ${run.database}; bcrypt cost ${COST}; ` +
      `hash queue ${CONCURRENCY} at once, budget ${HASH_QUEUE.budgetMs} ms; ${PHASE_SECONDS} s phases; whole run ${fmt(run.seconds, 0)} s`,
  ];
}

/** Print the table and the targets, and write everything as JSON to bench/results/. */
export function report(run: Report): void {
  const targets = targetsOf(run);
  const ratios = ratiosOf(run);
  const lines = [...phaseTable(run), '', row(['target', 'measured', 'result']), row(['---', '---', '---'])];
  for (const t of targets) lines.push(row([t.target, t.measured, t.pass ? 'pass' : 'MISS']));
  lines.push('', ...summary(run, ratios));
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ ...run, cost: COST, hashQueue: HASH_QUEUE, phaseSeconds: PHASE_SECONDS, ratios, targets, table: text }, null, 2)}\n`);
  log(`wrote ${file}`);
}
