import { createHashQueue, HashQueueFullError } from '../../src/domain/hash-queue';
import type { HashQueueLimits, HashQueueObserver, HashRefusal } from '../../src/domain/hash-queue';
import type { HashScheme, PasswordHasher } from '../../src/domain/hashing';
import type { Credential } from '../../src/domain/store';

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

/** Limits with a budget and interval large enough to stay out of the way. */
const roomy = (concurrency: number): HashQueueLimits => ({ concurrency, budgetMs: 60_000, intervalMs: 1_000 });

/** A queue on a clock the test moves, whose hash time is measured as `hashMs` by one calibration. */
async function clocked(concurrency: number, limits: Partial<HashQueueLimits>, hashMs: number, observer: HashQueueObserver = {}) {
  const inner = manualHasher();
  const clock = { now: 0 };
  const queue = createHashQueue(inner.hasher, { ...roomy(concurrency), ...limits }, observer, () => clock.now);
  const calibrating = queue.calibrate(SCHEME);
  await tick();
  clock.now += hashMs;
  inner.finish(0);
  await calibrating;
  inner.started.length = 0;
  // The calibration was the first hash: the test's own start at index 1.
  return { inner, clock, queue };
}

describe('the hash queue', () => {
  it('runs at most `concurrency` hashes at once and the waiting ones in arrival order', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, roomy(2));
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

  it('admits a burst while the cores finish it within the budget, and refuses the rest at once with the drain time as Retry-After', async () => {
    const rejected: HashRefusal[] = [];
    // 100 ms a hash, 2 at once: a hash waits 50 ms per hash ahead of it; a budget of 1 s takes 2 running + 20 waiting.
    const { inner, queue } = await clocked(2, { budgetMs: 1_000 }, 100, { rejected: (reason) => rejected.push(reason) });
    expect(queue.hashTimeMs).toBe(100);
    const admitted = Array.from({ length: 22 }, (_, i) => queue.verify(`p${i}`, CREDENTIAL));
    const refused = queue.verify('one too many', CREDENTIAL);
    await expect(refused).rejects.toBeInstanceOf(HashQueueFullError);
    // 22 hashes at 50 ms each: 1.1 s, so Retry-After: 2.
    await expect(refused).rejects.toMatchObject({ status: 503, code: 'temporarily_unavailable', reason: 'budget', retryAfterSeconds: 2 });
    expect(() => {
      queue.refuseIfFull();
    }).toThrow(HashQueueFullError);
    expect(rejected).toEqual(['budget', 'budget']);
    for (let i = 1; i <= 22; i++) {
      await tick();
      inner.finish(i);
    }
    await expect(Promise.all(admitted)).resolves.toHaveLength(22);
    expect(inner.started).toHaveLength(22);
    expect(queue.overloaded).toBe(false);
  });

  it('treats a burst that stopped arriving as draining, not as an overload, however long it drains', async () => {
    const { inner, clock, queue } = await clocked(1, { intervalMs: 200 }, 100);
    const burst = Array.from({ length: 10 }, (_, i) => queue.verify(`p${i}`, CREDENTIAL));
    for (let i = 1; i <= 6; i++) {
      await tick();
      clock.now += 100;
      inner.finish(i);
    }
    await tick();
    expect(queue.overloaded).toBe(false);
    // A latecomer is admitted behind the rest, served in arrival order.
    const late = queue.verify('late', CREDENTIAL);
    for (let i = 7; i <= 11; i++) {
      await tick();
      clock.now += 100;
      inner.finish(i);
    }
    await expect(Promise.all([...burst, late])).resolves.toHaveLength(11);
    expect(inner.started.at(-1)).toBe('verify late');
  });

  it('sheds a standing overload: refuses what would not start within one hash time, runs the newest first, and ends when arrivals fall back', async () => {
    const overloads: boolean[] = [];
    const { inner, clock, queue } = await clocked(1, { intervalMs: 200 }, 100, { overload: (on) => overloads.push(on) });
    const answers: Promise<unknown>[] = [];
    const refused = new Set<string>();
    const send = (label: string): Promise<unknown> => {
      const answer = queue.verify(label, CREDENTIAL).catch((error: unknown) => {
        refused.add(label);
        return error instanceof HashQueueFullError ? error.reason : error;
      });
      answers.push(answer);
      return answer;
    };
    // Three arrivals per hash time, well within the budget, for longer than the interval.
    let finished = 1;
    let sent = 0;
    for (let step = 0; step < 12 && !queue.overloaded; step++) {
      for (let k = 0; k < 3; k++) void send(`a${sent++}`);
      await tick();
      clock.now += 100;
      inner.finish(finished++);
    }
    expect(queue.overloaded).toBe(true);
    expect(overloads).toEqual([true]);
    expect(queue.waiting).toBeGreaterThan(1);
    // More than one hash time of work waits: a newcomer is refused at once.
    await expect(send('newcomer')).resolves.toBe('overload');
    // The newest of those waiting runs next.
    await tick();
    const waiting = Array.from({ length: sent }, (_, i) => `a${i}`).filter((label) => !refused.has(label) && !inner.started.includes(`verify ${label}`));
    clock.now += 100;
    inner.finish(finished++);
    await tick();
    expect(inner.started.at(-1)).toBe(`verify ${waiting.at(-1) ?? ''}`);
    expect(waiting.length).toBeGreaterThan(1);
    // Arrivals stop: the overload ends, everything admitted is answered.
    for (let i = 0; i < 40 && queue.running > 0; i++) {
      clock.now += 100;
      inner.finish(finished++);
      await tick();
    }
    expect(queue.overloaded).toBe(false);
    expect(overloads).toEqual([true, false]);
    const outcomes = await Promise.all(answers);
    expect(outcomes.filter((o) => o === true)).toHaveLength(sent - refused.size + 1);
  });

  it('drops a waiting hash whose caller went away, before it runs, and gives its turn to the next', async () => {
    const rejected: HashRefusal[] = [];
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, roomy(1), { rejected: (reason) => rejected.push(reason) });
    const running = queue.verify('a', CREDENTIAL);
    const client = new AbortController();
    const gone = queue.verify('b', CREDENTIAL, { signal: client.signal });
    const next = queue.verify('c', CREDENTIAL);
    await tick();
    client.abort();
    await expect(gone).rejects.toMatchObject({ reason: 'abandoned' });
    expect(queue.waiting).toBe(1);
    inner.finish(0);
    await tick();
    inner.finish(1);
    await expect(Promise.all([running, next])).resolves.toEqual([true, true]);
    expect(inner.started).toEqual(['verify a', 'verify c']);
    // Gone before it arrived: refused at once.
    await expect(queue.hash('d', SCHEME, { signal: client.signal })).rejects.toMatchObject({ reason: 'abandoned' });
    expect(rejected).toEqual(['abandoned', 'abandoned']);
  });

  it('refuses a hash that waited the whole budget', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, { concurrency: 1, budgetMs: 300, intervalMs: 1_000 }, {}, () => 0);
    const first = queue.verify('a', CREDENTIAL);
    const waiting = queue.verify('b', CREDENTIAL);
    await expect(waiting).rejects.toMatchObject({ reason: 'expired', status: 503 });
    expect(queue.waiting).toBe(0);
    inner.finish(0);
    await expect(first).resolves.toBe(true);
  });

  it('frees the slot when a hash fails, and passes the error on', async () => {
    const inner = manualHasher();
    const queue = createHashQueue(inner.hasher, roomy(1));
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
    const queue = createHashQueue(inner.hasher, roomy(1), observer, () => clock);
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
    const queue = createHashQueue({ ...manualHasher().hasher, needsRehash }, roomy(1));
    expect(queue.needsRehash(CREDENTIAL, SCHEME)).toBe(true);
    expect(asked).toEqual([SCHEME]);
  });

  it.each([
    [{ concurrency: 0, budgetMs: 1, intervalMs: 100 }, 'hash queue concurrency: must be an integer from 1 to 1024, got 0'],
    [{ concurrency: 1.5, budgetMs: 1, intervalMs: 100 }, 'hash queue concurrency: must be an integer from 1 to 1024, got 1.5'],
    [{ concurrency: 1, budgetMs: -1, intervalMs: 100 }, 'hash queue budgetMs: must be an integer from 0 to 600000, got -1'],
    [{ concurrency: 1, budgetMs: 1, intervalMs: 5 }, 'hash queue intervalMs: must be an integer from 10 to 600000, got 5'],
  ])('refuses limits %j', (limits, message) => {
    expect(() => createHashQueue(manualHasher().hasher, limits)).toThrow(message);
  });
});
