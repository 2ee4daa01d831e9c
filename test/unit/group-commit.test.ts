import { groupCommit } from '../../src/store/mongoose/group-commit';

/** A write the test finishes by hand, recording each batch it was given. */
function manualWrite(): { write: (docs: number[]) => Promise<void>; batches: number[][]; finish(error?: Error): void } {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    batches,
    write: (docs) =>
      new Promise<void>((resolve, reject) => {
        batches.push(docs);
        pending.push({ resolve, reject });
      }),
    finish(error) {
      const next = pending.shift();
      if (!next) throw new Error('no write in flight');
      if (error) next.reject(error);
      else next.resolve();
    },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('groupCommit', () => {
  it('writes a lone document at once, and gathers those that arrive meanwhile into the next write', async () => {
    const writer = manualWrite();
    const add = groupCommit(writer.write, 10);
    const first = add(1);
    expect(writer.batches).toEqual([[1]]);
    const rest = [add(2), add(3), add(4)];
    writer.finish();
    await first;
    await settle();
    expect(writer.batches).toEqual([[1], [2, 3, 4]]);
    writer.finish();
    await Promise.all(rest);
    // Nothing in flight again: the next document goes alone, at once.
    const fifth = add(5);
    expect(writer.batches).toEqual([[1], [2, 3, 4], [5]]);
    writer.finish();
    await fifth;
  });

  it('rejects only the documents of the write that failed', async () => {
    const writer = manualWrite();
    const add = groupCommit(writer.write, 10);
    const first = add(1);
    const second = add(2);
    const third = add(3);
    writer.finish(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await settle();
    writer.finish();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
    expect(writer.batches).toEqual([[1], [2, 3]]);
  });

  it('never puts more than maxBatch documents in one write', async () => {
    const writer = manualWrite();
    const add = groupCommit(writer.write, 2);
    const all = [1, 2, 3, 4, 5, 6].map((doc) => add(doc));
    for (let i = 0; i < 4; i++) {
      writer.finish();
      await settle();
    }
    await Promise.all(all);
    expect(writer.batches).toEqual([[1], [2, 3], [4, 5], [6]]);
  });
});
