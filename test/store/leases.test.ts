/**
 * The mapping lease under contention, on every dialect: runs taking and
 * releasing it at once. A run told it holds the lease must hold it; the
 * overlap fault test once saw a bulk run whose lease vanished the moment it
 * was granted (granted while the previous holder released).
 */
import { availableDialects, type Dialect } from '../helpers/stores';

const TTL = 60_000;

describe('mapping lease', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  test('a granted lease is held: it renews until released, however acquires and releases interleave', async () => {
    expect(dialects.length).toBeGreaterThan(0);
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      try {
        const phantom: string[] = [];
        const granted = new Map<string, number>();
        const contender = async (holder: string): Promise<void> => {
          for (let round = 0; round < 150; round++) {
            const lease = await store.acquireRunLock('M', holder, TTL);
            if (lease.holder !== holder) continue;
            granted.set(holder, (granted.get(holder) ?? 0) + 1);
            // Nobody replaces or outlives a lease here, so a granted one must renew.
            if (!(await store.renewRunLock('M', lease, TTL))) phantom.push(`${dialect.name} ${holder} round ${round} token ${lease.token}`);
            await store.releaseRunLock('M', holder);
          }
        };
        await Promise.all(['bulk', 'match', 'uncouple', 'retry'].map(contender));
        expect(phantom).toEqual([]);
        expect([...granted.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      } finally {
        await cleanup();
      }
    }
  });

  test('the token rises whenever the lease changes hands, even after a release', async () => {
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      try {
        const first = await store.acquireRunLock('M', 'a', TTL);
        await store.releaseRunLock('M', 'a');
        const second = await store.acquireRunLock('M', 'b', TTL);
        expect(second.holder).toBe('b');
        // A stale batch of `a` carrying its old token must not renew b's holding, nor a later one of a.
        expect(await store.renewRunLock('M', first, TTL)).toBe(false);
        await store.releaseRunLock('M', 'b');
        const third = await store.acquireRunLock('M', 'a', TTL);
        expect(third.token).not.toBe(first.token);
        expect(await store.renewRunLock('M', first, TTL)).toBe(false);
      } finally {
        await cleanup();
      }
    }
  });
});
