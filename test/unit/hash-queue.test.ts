import { createHashQueue, HashQueueFullError } from '../../src/domain/hash-queue';
import type { HashQueueObserver } from '../../src/domain/hash-queue';
import type { HashScheme, PasswordHasher } from '../../src/domain/hashing';
import type { Credential } from '../../src/domain/store';
import { TemporarilyUnavailableError } from '../../src/errors';

const CREDENTIAL: Credential = { algorithm: 'bcrypt-sha256', hash: 'h', createdAt: new Date(0) };
const SCHEME: HashScheme = { algorithm: 'bcrypt', iterations: 10 };

/** A hasher whose every call waits until the test settles it; records the order calls started in. */
function manualHasher(): { hasher: PasswordHasher; started: string[]; finish(index: number, valid?: boolean): void; fail(index: number): void } {
  const started: string[] = [];
  const settle: { resolve: (valid: boolean) => void; reject: (error: Error) => void }[] = [];
  const pending = <T>(label: string, map: (valid: boolean) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      started.push(label);
      settle.push({
        resolve: (valid) => {
          resolve(map(valid));
        },
        reject,
      });
    });
  return {
    hasher: {
      hash: (password) => pending(`hash ${password}`, () => ({ ...CREDENTIAL, hash: password })),
      verify: (password) => pending(`verify ${password}`, (valid) => valid),
      needsRehash: () => false,
    },
    started,
    finish: (index, valid = true) => settle[index]?.resolve(valid),
    fail: (index) => settle[index]?.reject(new Error('bcrypt failed')),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the hash queue', () => {
  it('runs at most `concurrency` hashes at once and the waiting ones in arrival order', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, { concurrency: 2, maxWaiting: 5 });
    const results = ['a', 'b', 'c', 'd'].map((p) => queue.verify(p, CREDENTIAL));
    await tick();
    expect(inner.started).toEqual(['verify a', 'verify b']);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 2, waiting: 2 });
    inner.finish(1);
    await tick();
    expect(inner.started).toEqual(['verify a', 'verify b', 'verify c']);
    inner.finish(0, false);
    inner.finish(2);
    await tick();
    inner.finish(3);
    await expect(Promise.all(results)).resolves.toEqual([false, true, true, true]);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses at once with a 503 and Retry-After when the waiting line is full, without calling the hasher', async () => {
    const inner = manualHasher();
    const rejected: number[] = [];
    const queue = createHashQueue(inner.hasher, { concurrency: 1, maxWaiting: 1 }, { rejected: () => rejected.push(1) });
    const first = queue.verify('a', CREDENTIAL);
    const second = queue.hash('b', SCHEME);
    const refused = queue.verify('c', CREDENTIAL);
    await expect(refused).rejects.toBeInstanceOf(HashQueueFullError);
    await expect(refused).rejects.toBeInstanceOf(TemporarilyUnavailableError);
    await expect(refused).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable', retryAfterSeconds: 1 });
    expect(rejected).toHaveLength(1);
    await tick();
    expect(inner.started).toEqual(['verify a']);
    inner.finish(0);
    await tick();
    inner.finish(1);
    await expect(first).resolves.toBe(true);
    await expect(second).resolves.toMatchObject({ hash: 'b' });
    // Room again once the line moved.
    const later = queue.verify('d', CREDENTIAL);
    await tick();
    inner.finish(2);
    await expect(later).resolves.toBe(true);
  });

  it('with no waiting line, refuses everything beyond the running hashes', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, { concurrency: 1, maxWaiting: 0 });
    const first = queue.verify('a', CREDENTIAL);
    await expect(queue.verify('b', CREDENTIAL)).rejects.toBeInstanceOf(HashQueueFullError);
    inner.finish(0);
    await expect(first).resolves.toBe(true);
  });

  it('frees the slot when a hash fails, and passes the error on', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, { concurrency: 1, maxWaiting: 1 });
    const failing = queue.verify('a', CREDENTIAL);
    const next = queue.verify('b', CREDENTIAL);
    await tick();
    inner.fail(0);
    await expect(failing).rejects.toThrow('bcrypt failed');
    await tick();
    inner.finish(1);
    await expect(next).resolves.toBe(true);
    expect(queue.running).toBe(0);
  });

  it('tells the observer the depth, and how long each hash waited and ran', async () => {
    const inner = manualHasher();
    let clock = 0;
    const depths: [number, number][] = [];
    const completed: [string, number, number][] = [];
    const observer: HashQueueObserver = {
      depth: (running, waiting) => depths.push([running, waiting]),
      completed: (operation, wait, run) => completed.push([operation, wait, run]),
    };
    const queue = createHashQueue(inner.hasher, { concurrency: 1, maxWaiting: 1 }, observer, () => clock);
    const first = queue.verify('a', CREDENTIAL);
    const second = queue.hash('b', SCHEME);
    await tick();
    clock = 50;
    inner.finish(0);
    await first;
    await tick();
    clock = 120;
    inner.finish(1);
    await second;
    expect(depths).toEqual([[1, 0], [1, 1], [1, 0], [0, 0]]);
    expect(completed).toEqual([['verify', 0, 0.05], ['hash', 0.05, 0.07]]);
  });

  it('passes needsRehash through without queueing, with the scheme', () => {
    const asked: HashScheme[] = [];
    const needsRehash = (_credential: Credential, scheme: HashScheme): boolean => asked.push(scheme) > 0;
    const queue = createHashQueue({ ...manualHasher().hasher, needsRehash }, { concurrency: 1, maxWaiting: 0 });
    expect(queue.needsRehash(CREDENTIAL, SCHEME)).toBe(true);
    expect(asked).toEqual([SCHEME]);
  });

  it.each([
    [{ concurrency: 0, maxWaiting: 1 }, 'hash queue concurrency: must be an integer from 1 to 1024, got 0'],
    [{ concurrency: 1.5, maxWaiting: 1 }, 'hash queue concurrency: must be an integer from 1 to 1024, got 1.5'],
    [{ concurrency: 1, maxWaiting: -1 }, 'hash queue maxWaiting: must be an integer from 0 to 1000000, got -1'],
  ])('refuses limits %j', (limits, message) => {
    expect(() => createHashQueue(manualHasher().hasher, limits)).toThrow(message);
  });
});
