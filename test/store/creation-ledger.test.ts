/**
 * The creation ledger on every dialect: batches of any size (SQLite's
 * multi-row insert is a compound SELECT of at most 500 terms; a batch of 600
 * creates once failed on it), written over by the batch that writes last.
 */
import { availableDialects, type Dialect } from '../helpers/stores';

describe('creation ledger', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  test('notes and reads back 1,200 keys in one call; a later note replaces the batch and outcome', async () => {
    expect(dialects.length).toBeGreaterThan(0);
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      try {
        const keys = Array.from({ length: 1200 }, (_, i) => `key-${i}`);
        await store.noteCreations(
          'M',
          keys.map((key) => ({ key, batchToken: 'run/1', outcome: 'pending' })),
        );
        await store.noteCreations('M', [{ key: 'key-7', batchToken: 'run/2', outcome: 'existed' }]);
        const read = await store.creationsOf('M', keys);
        expect(read.size).toBe(1200);
        expect(read.get('key-0')).toEqual({ key: 'key-0', batchToken: 'run/1', outcome: 'pending' });
        expect(read.get('key-7')).toEqual({ key: 'key-7', batchToken: 'run/2', outcome: 'existed' });
        expect((await store.creationsOf('other', keys)).size).toBe(0);
      } finally {
        await cleanup();
      }
    }
  });

  test('a claim notes pending for the keys no entry names and returns only the entries the others had', async () => {
    expect(dialects.length).toBeGreaterThan(0);
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      try {
        await store.noteCreations('M', [
          { key: 'key-3', batchToken: 'run/1', outcome: 'created' },
          { key: 'key-900', batchToken: 'run/2', outcome: 'pending' },
        ]);
        const keys = Array.from({ length: 1200 }, (_, i) => `key-${i}`);
        const before = await store.claimCreations('M', [...keys, 'key-5'], 'run/3');
        expect([...before.values()].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
          { key: 'key-3', batchToken: 'run/1', outcome: 'created' },
          { key: 'key-900', batchToken: 'run/2', outcome: 'pending' },
        ]);
        const read = await store.creationsOf('M', keys);
        expect(read.size).toBe(1200);
        expect(read.get('key-0')).toEqual({ key: 'key-0', batchToken: 'run/3', outcome: 'pending' });
        // An entry already there is left as it was: the caller decides what becomes of it.
        expect(read.get('key-3')).toEqual({ key: 'key-3', batchToken: 'run/1', outcome: 'created' });
        // The same batch claiming again (a retry) finds every key its own.
        const again = await store.claimCreations('M', keys.slice(0, 10), 'run/3');
        expect([...again.values()].filter((e) => e.batchToken === 'run/3')).toHaveLength(9);
        expect((await store.claimCreations('other', ['key-0'], 'run/4')).size).toBe(0);
      } finally {
        await cleanup();
      }
    }
  });
});
