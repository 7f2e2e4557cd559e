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
});
