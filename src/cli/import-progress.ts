/**
 * The progress of an import on a terminal, drawn by cli-progress (the most
 * used progress bar on npm, kept up): users done, their rate, and, when the
 * export's size is known, the share read and the time left. Nothing at all
 * when the stream is not a terminal, so logs and pipes stay clean.
 */
import { SingleBar } from 'cli-progress';
import type { ImportProgress } from './import-keycloak';

export interface ProgressView {
  update(progress: ImportProgress): void;
  stop(): void;
}

/** What the bar shows beside the bar itself. */
export interface ProgressFields {
  /** Users met so far (imported, unchanged or skipped), e.g. `12,000`. */
  readonly users: string;
  /** Users per second since the start, e.g. `6,000`. */
  readonly rate: string;
  /** Time left at the rate so far, e.g. `1m05s`; `?` until anything is read, or when the size is unknown. */
  readonly left: string;
  /** Time since the start, e.g. `12s`. */
  readonly elapsed: string;
}

const QUIET: ProgressView = { update: () => undefined, stop: () => undefined };

/** `45s`, `1m05s`, `2h03m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The bar's fields after `seconds`: the users met, their rate, and the time
 * left, from the bytes read so far over the export's size (the users' count
 * is known only at the end, and the bytes are in proportion to it).
 */
export function progressFields(progress: ImportProgress, totalBytes: number | undefined, seconds: number): ProgressFields {
  const users = progress.imported + progress.unchanged + progress.skipped;
  const rate = seconds > 0 ? users / seconds : 0;
  const known = totalBytes !== undefined && totalBytes > 0 && progress.bytesRead > 0 && seconds > 0;
  return {
    users: users.toLocaleString('en'),
    rate: Math.round(rate).toLocaleString('en'),
    left: known ? formatDuration(((totalBytes - Math.min(progress.bytesRead, totalBytes)) * seconds) / progress.bytesRead) : '?',
    elapsed: formatDuration(seconds),
  };
}

/**
 * A progress bar on `stream` when it is a terminal, else a view that prints nothing.
 * @param totalBytes the export's size, when known (not on standard input)
 * @param now the clock in milliseconds; default `performance.now`
 */
export function progressView(stream: NodeJS.WritableStream & { readonly isTTY?: boolean }, totalBytes: number | undefined, now: () => number = () => performance.now()): ProgressView {
  if (stream.isTTY !== true) return QUIET;
  const started = now();
  const known = totalBytes !== undefined && totalBytes > 0;
  const bar = new SingleBar({
    stream,
    format: known ? '{bar} {percentage}% | {users} users | {rate} users/s | ETA {left}' : '{users} users | {rate} users/s | {elapsed}',
    hideCursor: true,
    clearOnComplete: false,
    fps: 5,
  });
  const seconds = (): number => (now() - started) / 1000;
  bar.start(known ? totalBytes : 0, 0, progressFields({ imported: 0, unchanged: 0, skipped: 0, bytesRead: 0 }, totalBytes, 0));
  return {
    update(progress) {
      bar.update(known ? Math.min(progress.bytesRead, totalBytes) : 0, progressFields(progress, totalBytes, seconds()));
    },
    stop() {
      bar.stop();
    },
  };
}
