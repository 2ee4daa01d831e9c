import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every process a test run starts carries this variable in its environment
 * (children inherit it, and `spawnCli` passes it on), so the global teardown
 * can find, stop and report what a test left running, orphans included.
 */
export const RUN_MARKER = 'PASSWORD_RESOURCES_TEST_RUN';

/** Mark the processes this run will start (unless a caller such as .ci/run marked them already); first thing in the global setup. */
export function markRun(): void {
  process.env[RUN_MARKER] ??= `${process.pid}-${Date.now()}`;
}

export interface Leftover {
  readonly pid: number;
  readonly command: string;
}

/** This process and those that started it (a CI script that set the marker for several runs carries it too). */
function ancestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 1 && !chain.has(pid); ) {
    chain.add(pid);
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
      pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

/** Processes other than this one and its ancestors whose environment carries the run's marker (Linux: read from /proc). */
export function leftoverProcesses(marker = process.env[RUN_MARKER]): Leftover[] {
  if (marker === undefined) return [];
  const wanted = `${RUN_MARKER}=${marker}`;
  const found: Leftover[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no /proc here: nothing to look at
  }
  const mine = ancestors();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || mine.has(Number(entry))) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      // A zombie has no command line and is gone once its parent reaps it.
      if (command !== '') found.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Kill whatever the run left behind and fail the run naming it: a test must
 * stop what it starts, on failure too.
 */
export async function reapLeftovers(): Promise<void> {
  // A process stopped a moment ago may still be on its way out.
  let leftovers = leftoverProcesses();
  for (let waited = 0; leftovers.length > 0 && waited < 3_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    leftovers = leftoverProcesses();
  }
  if (leftovers.length === 0) return;
  for (const { pid } of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  throw new Error(`the tests left ${leftovers.length} process(es) running (now killed):\n${leftovers.map(({ pid, command }) => `  ${pid} ${command.slice(0, 200)}`).join('\n')}`);
}

// `.ci/run` calls this file after its suites: leftovers of any of them fail CI.
if (require.main === module) {
  reapLeftovers().then(
    () => process.stdout.write('no process of the run left behind\n'),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
