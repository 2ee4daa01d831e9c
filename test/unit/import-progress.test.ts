import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { formatDuration, progressFields, progressView } from '../../src/cli/import-progress';

/** A stream that says it is a terminal of 120 columns and keeps what is written to it. */
function terminal(isTTY: boolean): { stream: PassThrough & { isTTY: boolean; columns: number }; lines: () => string[] } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  // Each drawing starts by moving to the line's first column (CSI 1 G): one drawing per entry.
  // eslint-disable-next-line no-control-regex -- the escape sequence is what is looked for
  return { stream, lines: () => written.split(/\x1b\[1G|\n/).map((drawing) => stripVTControlCharacters(drawing)).filter((drawing) => drawing.trim() !== '') };
}

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.2, '1s'],
    [59, '59s'],
    [60, '1m00s'],
    [65, '1m05s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [7380, '2h03m'],
  ])('%d seconds read %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('progressFields', () => {
  it.each([
    ['nothing done yet', { imported: 0, unchanged: 0, skipped: 0, bytesRead: 0 }, 1_000, 0, { users: '0', rate: '0', left: '?', elapsed: '0s' }],
    ['a quarter of the bytes in 2 s: every user met counts, 6 s left', { imported: 9_000, unchanged: 2_000, skipped: 1_000, bytesRead: 250 }, 1_000, 2, { users: '12,000', rate: '6,000', left: '6s', elapsed: '2s' }],
    ['1% in 1 s: 99 s left', { imported: 500, unchanged: 0, skipped: 0, bytesRead: 10 }, 1_000, 1, { users: '500', rate: '500', left: '1m39s', elapsed: '1s' }],
    ['everything read', { imported: 1_000_000, unchanged: 0, skipped: 0, bytesRead: 2_000 }, 2_000, 125, { users: '1,000,000', rate: '8,000', left: '0s', elapsed: '2m05s' }],
    ['standard input: the size is unknown, so is the time left', { imported: 3_000, unchanged: 0, skipped: 0, bytesRead: 6_000 }, undefined, 3, { users: '3,000', rate: '1,000', left: '?', elapsed: '3s' }],
  ])('%s', (_, progress, totalBytes, seconds, fields) => {
    expect(progressFields(progress, totalBytes, seconds)).toEqual(fields);
  });
});

describe('progressView', () => {
  it('draws users, rate and time left on a terminal, and leaves the last drawing when stopped', () => {
    const { stream, lines } = terminal(true);
    let clock = 10_000;
    const view = progressView(stream, 1_000, () => clock);
    clock += 2_000;
    view.update({ imported: 9_000, unchanged: 2_000, skipped: 1_000, bytesRead: 250 });
    view.stop();
    expect(lines().at(0)).toBe(`${'-'.repeat(40)} 0% | 0 users | 0 users/s | ETA ?`);
    expect(lines().at(-1)).toBe(`${'='.repeat(10)}${'-'.repeat(30)} 25% | 12,000 users | 6,000 users/s | ETA 6s`);
  });

  it('counts users and time without a bar when the size is unknown (standard input)', () => {
    const { stream, lines } = terminal(true);
    let clock = 0;
    const view = progressView(stream, undefined, () => clock);
    clock += 3_000;
    view.update({ imported: 3_000, unchanged: 0, skipped: 0, bytesRead: 6_000 });
    view.stop();
    expect(lines().at(-1)).toBe('3,000 users | 1,000 users/s | 3s');
  });

  it('writes nothing when the stream is not a terminal (a log file, a pipe)', () => {
    const { stream, lines } = terminal(false);
    const view = progressView(stream, 1_000);
    view.update({ imported: 10, unchanged: 0, skipped: 0, bytesRead: 500 });
    view.stop();
    expect(lines()).toEqual([]);
  });
});
