/**
 * Multi-row inserts on SQLite and PostgreSQL: a batch of 1000 wide rows is one
 * statement (Knex's SQLite insert, a compound SELECT, stopped at 500 rows), a
 * conflict is ignored or merged per row, and the rows written are returned, so
 * the couplings a batch inserted need no second read.
 */
import type { Knex } from 'knex';
import { insertRows } from '../../store/multi-row-insert';
import { availableDialects, onEachDialect, type Dialect } from '../helpers/stores';
import { testMapping } from '../helpers/systems';

let dialects: Dialect[] = [];
beforeAll(async () => {
  dialects = await availableDialects();
});

const COLUMNS = Array.from({ length: 22 }, (_, i) => `c${i}`);

async function createWide(knex: Knex): Promise<void> {
  await knex.schema.createTable('wide', (t) => {
    t.string('id', 64).primary();
    for (const c of COLUMNS) t.string(c, 40).nullable();
    t.integer('n').nullable();
    t.boolean('flag').nullable();
  });
}

function counted(knex: Knex): { statements: () => number } {
  let n = 0;
  knex.on('query', () => n++);
  return { statements: () => n };
}

const wide = (i: number) => ({ id: `W${i}`, ...Object.fromEntries(COLUMNS.map((c) => [c, `${c}-${i}`])), n: i, flag: i % 2 === 0 });

test('1000 rows of 25 columns are one statement, on every dialect, with their values', async () => {
  await onEachDialect(dialects, async (store) => {
    await createWide(store.knex);
    const { statements } = counted(store.knex);
    await insertRows(
      store.knex,
      'wide',
      Array.from({ length: 1000 }, (_, i) => wide(i)),
    );
    expect(statements()).toBe(1);
    const rows: Record<string, unknown>[] = await store.knex('wide').orderBy('n');
    expect(rows).toHaveLength(1000);
    expect(rows[7]).toMatchObject({ id: 'W7', c0: 'c0-7', c21: 'c21-7' });
    expect(Number(rows[7].n)).toBe(7);
    expect(Boolean(rows[7].flag)).toBe(false);
    expect(Boolean(rows[8].flag)).toBe(true);
  });
});

test('a conflict is left or merged per row, and only the rows written are returned', async () => {
  await onEachDialect(dialects, async (store) => {
    const knex = store.knex;
    await createWide(knex);
    await insertRows(knex, 'wide', [wide(1), wide(2)]);
    const ignored = await insertRows(knex, 'wide', [{ ...wide(2), c0: 'new' }, wide(3)], { onConflict: ['id'], returning: ['id'] });
    expect(ignored.map((r) => r.id)).toEqual(['W3']);
    expect((await knex('wide').where('id', 'W2').first()).c0).toBe('c0-2');
    const merged = await insertRows(
      knex,
      'wide',
      [
        { id: 'W1', c0: 'merged' },
        { id: 'W4', c0: 'four' },
      ],
      {
        onConflict: ['id'],
        merge: ['c0'],
        returning: ['id'],
      },
    );
    expect(merged.map((r) => r.id).sort()).toEqual(['W1', 'W4']);
    const w1 = await knex('wide').where('id', 'W1').first();
    // Merged columns only: the others keep their values.
    expect([w1.c0, w1.c1]).toEqual(['merged', 'c1-1']);
    // A column a row lacks is NULL (SQLite) or its default (PostgreSQL; none here).
    expect((await knex('wide').where('id', 'W4').first()).c1).toBeNull();
    // Without onConflict a duplicate fails the statement and writes nothing of it.
    await expect(insertRows(knex, 'wide', [wide(5), wide(1)])).rejects.toThrow();
    expect(await knex('wide').where('id', 'W5').first()).toBeUndefined();
  });
});

test('insertCouplings returns the couplings it inserted, not those another run holds', async () => {
  await onEachDialect(dialects, async (store) => {
    await store.saveMapping(testMapping());
    const mapping = await store.requireMapping('CUSTOMER');
    const coupling = (l: string, i: string) => ({ localId: l, integrationId: i, lastSyncedLocalModifiedOn: 'x', lastSyncedIntegrationModifiedOn: 'y' });
    expect([...(await store.insertCouplings(mapping, 'ToIntegrationTable', 'job-1', [coupling('L1', 'I1'), coupling('L-y', 'I-y')]))].sort()).toEqual([
      'L-y',
      'L1',
    ]);
    const { statements } = counted(store.knex);
    const couplings = Array.from({ length: 1000 }, (_, i) => coupling(`L${i + 2}`, `I${i + 2}`));
    // L1 is coupled already; I-y is another coupling's integration record: neither lands.
    const landed = await store.insertCouplings(mapping, 'ToIntegrationTable', 'job-2', [coupling('L1', 'I-other'), coupling('L-x', 'I-y'), ...couplings]);
    expect(landed.size).toBe(1000);
    expect(landed.has('L1') || landed.has('L-x')).toBe(false);
    // The insert and the two deletes of failed creates left behind: no statement per row.
    expect(statements()).toBeLessThanOrEqual(3);
    expect((await store.getCouplings('CUSTOMER', 'local', ['L1']))[0].integrationId).toBe('I1');
  });
});
