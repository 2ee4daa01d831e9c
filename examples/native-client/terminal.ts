/** Line-based questions on stdin/stdout; a password typed at a terminal is not echoed. */
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

/** `stty -echo` / `stty echo` on the terminal the app reads from (Unix). */
function echo(on: boolean): void {
  spawnSync('stty', [on ? 'echo' : '-echo'], { stdio: ['inherit', 'ignore', 'ignore'] });
}

export class Terminal {
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string | undefined) => void)[] = [];
  #ended = false;

  constructor(
    readonly input: NodeJS.ReadStream = process.stdin,
    readonly output: NodeJS.WriteStream = process.stdout,
  ) {
    // Lines are queued as they come, so a line piped before its question is not lost.
    const lines = createInterface({ input, terminal: false });
    lines.on('line', (line) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    lines.on('close', () => {
      this.#ended = true;
      for (const waiter of this.#waiting.splice(0)) waiter(undefined);
    });
  }

  say(line: string): void {
    this.output.write(`${line}\n`);
  }

  /** Ask and wait for the answer; `secret` turns the terminal's echo off while it is typed. */
  async ask(question: string, secret = false): Promise<string> {
    this.output.write(question);
    const hide = secret && this.input.isTTY;
    if (hide) echo(false);
    try {
      const line = this.#lines.shift() ?? (this.#ended ? undefined : await new Promise<string | undefined>((resolve) => this.#waiting.push(resolve)));
      if (line === undefined) throw new Error('input ended');
      return line;
    } finally {
      if (hide) {
        echo(true);
        this.output.write('\n');
      }
    }
  }

  close(): void {
    this.input.pause();
    this.input.unref();
  }
}
