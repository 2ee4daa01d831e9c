import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/mongo-server';
import { contractChecks } from '../helpers/contract-hook';
import { RUN_MARKER } from '../helpers/processes';
import { startRecordingProxy } from '../helpers/recording-proxy';
import type { RecordingProxy } from '../helpers/recording-proxy';

/**
 * README's "A walk-through with curl", run as written: the dev IdP
 * (`npm run dev:idp`), the real server (`npm start`), then each curl, in one
 * bash, each answer compared with the lines the README prints under it. Only
 * the ports change, to free ones; the service's answers reach curl through a
 * recording proxy, which holds each against openapi.yaml.
 */
const ROOT = join(__dirname, '..', '..');
const SECTION = '## A walk-through with curl';

interface Step {
  /** The lines as README has them, comments included. */
  readonly script: string;
  /** The `# ...` lines under the step's last command: lines its output must have, in this order. */
  readonly expected: string[];
}

/** The first `sh` block of the section, in steps separated by blank lines. */
function walkThrough(readme: string): Step[] {
  const section = readme.slice(readme.indexOf(SECTION));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (readme.indexOf(SECTION) < 0 || block === undefined) throw new Error(`README.md has no sh block under "${SECTION}"`);
  return block.split(/\n\s*\n/).map((script) => {
    const lines = script.split('\n');
    let firstExpected = lines.length;
    while (firstExpected > 0 && lines[firstExpected - 1]?.startsWith('#') === true) firstExpected -= 1;
    return { script, expected: lines.slice(firstExpected).map((line) => line.replace(/^# ?/, '')) };
  });
}

/** Whether `expected` appears among `lines` in order, each a whole line. */
function inOrder(lines: string[], expected: string[]): boolean {
  let at = 0;
  for (const line of lines) if (line === expected[at]) at += 1;
  return at === expected.length;
}

let shell: ChildProcessWithoutNullStreams;
let proxy: RecordingProxy | undefined;
let scratch: string;
let said = '';

async function waitFor(marker: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = said.split('\n').find((candidate) => candidate.startsWith(marker));
    if (line !== undefined) return line.slice(marker.length).trim();
    if (shell.exitCode !== null) throw new Error(`bash exited with ${shell.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "${marker}" within ${timeoutMs} ms`);
}

/** Whether any process of the shell's process group (npm, the servers it started) is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'walk-through-'));
});

afterAll(async () => {
  const pgid = shell.pid;
  if (pgid !== undefined) {
    // The servers stop on SIGTERM (the embedded database with its server); SIGKILL is the fallback.
    for (const [signal, graceMs] of [['SIGTERM', 15_000], ['SIGKILL', 5_000]] as const) {
      if (!groupAlive(pgid)) break;
      process.kill(-pgid, signal);
      const deadline = Date.now() + graceMs;
      while (groupAlive(pgid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await proxy?.close();
  rmSync(scratch, { recursive: true, force: true });
}, 30_000);

describe("README's walk-through with curl", () => {
  it('answers each call as the README says, on a fresh server', async () => {
    const [port, idpPort] = [await freePort(), await freePort()];
    proxy = await startRecordingProxy(`http://127.0.0.1:${port}`);
    const checked = contractChecks.count;
    const steps = walkThrough(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(steps.filter((step) => step.expected.length > 0).length).toBeGreaterThanOrEqual(4);
    shell = spawn('bash', [], {
      cwd: ROOT,
      // Its own process group, so that afterAll reaches everything the walk-through starts.
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...(process.env.XDG_CACHE_HOME === undefined ? {} : { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }),
        ...(process.env[RUN_MARKER] === undefined ? {} : { [RUN_MARKER]: process.env[RUN_MARKER] }),
        PORT: String(port),
        DEV_IDP_PORT: String(idpPort),
        // npm start without its prestart build: pretest built dist, and other test files run it meanwhile.
        npm_config_ignore_scripts: 'true',
      },
    });
    shell.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    for (const [index, step] of steps.entries()) {
      // curl talks to the service through the proxy; npm start listens on PORT.
      const script = step.script.replaceAll('127.0.0.1:8080', `127.0.0.1:${proxy.port}`).replaceAll('127.0.0.1:8081', `127.0.0.1:${idpPort}`);
      const out = join(scratch, `step-${index}.out`);
      // Each step's output, and that of what it starts in the background, goes to its own file.
      shell.stdin.write(`{\n${script}\n} > '${out}' 2>&1 < /dev/null; echo "@@step ${index} $?"\n`);
      // The first start may install the embedded database's server into the cache.
      const status = await waitFor(`@@step ${index} `, 180_000);
      const output = readFileSync(out, 'utf8');
      expect({ step: script, status, output }).toEqual({ step: script, status: '0', output: expect.any(String) as unknown });
      if (step.expected.length > 0) {
        const lines = output.split('\n').map((line) => line.replace(/\r$/, ''));
        if (!inOrder(lines, step.expected)) throw new Error(`README step:\n${step.script}\nexpected these lines, in order:\n${step.expected.join('\n')}\ngot:\n${output}`);
      }
    }
    // The service's answers to the walk-through's curl calls (at least the five it prints) were held against the contract.
    expect(contractChecks.count - checked).toBeGreaterThanOrEqual(steps.filter((step) => step.expected.length > 0).length);
  }, 300_000);
});
