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

const QUIET: ProgressView = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar on `stream` when it is a terminal, else a view that prints nothing.
 * @param totalBytes the export's size, when known (not on standard input)
 */
export function progressView(stream: NodeJS.WriteStream, totalBytes: number | undefined): ProgressView {
  if (!stream.isTTY) return QUIET;
  const started = performance.now();
  const known = totalBytes !== undefined && totalBytes > 0;
  // The users' count is known only at the end; the bar follows the bytes read, which are in proportion to it.
  const bar = new SingleBar(
    {
      stream,
      format: known ? '{bar} {percentage}% | {users} users | {rate} users/s | ETA {eta_formatted}' : '{users} users | {rate} users/s | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
  );
  bar.start(known ? totalBytes : 0, 0, { users: 0, rate: 0 });
  return {
    update(progress) {
      const users = progress.imported + progress.unchanged + progress.skipped;
      const seconds = (performance.now() - started) / 1000;
      bar.update(known ? progress.bytesRead : 0, { users: users.toLocaleString('en'), rate: seconds > 0 ? Math.round(users / seconds).toLocaleString('en') : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
