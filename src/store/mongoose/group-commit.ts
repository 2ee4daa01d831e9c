/**
 * Writes that arrive while one is under way go together: they gather for the
 * next write, so under load one database round trip stores many documents (at
 * most `maxBatch`), and at low load each is written at once, as it would be
 * alone. No timer, no added wait.
 *
 * @returns `add(doc)`, which resolves when that document's write succeeded and
 *   rejects with the error of the write that failed it
 */
export function groupCommit<T>(write: (docs: T[]) => Promise<void>, maxBatch: number): (doc: T) => Promise<void> {
  interface Waiting {
    readonly doc: T;
    readonly resolve: () => void;
    readonly reject: (error: unknown) => void;
  }
  const waiting: Waiting[] = [];
  let writing = false;
  const drain = async (): Promise<void> => {
    writing = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, maxBatch);
      try {
        await write(batch.map((entry) => entry.doc));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    writing = false;
  };
  return (doc) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ doc, resolve, reject });
      if (!writing) void drain();
    });
}
