/**
 * The Knex connector's set-based updates, on SQLite and PostgreSQL: one
 * statement per chunk of rows writing the same columns, each row guarded by
 * its version, and still a result per record (conflict, missing, bad value).
 */
import type { Knex } from 'knex';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { availableDialects, onEachDialect, type Dialect } from '../helpers/stores';

let dialects: Dialect[] = [];
beforeAll(async () => {
  dialects = await availableDialects();
});

function each(fn: (knex: Knex, name: string) => Promise<void>): Promise<void> {
  return onEachDialect(dialects, async (store, name) => {
    await store.knex.schema.createTable('thing', (t) => {
      t.string('id', 64).primary();
      t.string('name', 20).nullable();
      t.integer('size').nullable();
      t.boolean('active').nullable();
      t.string('modified_on', 32).notNullable();
    });
    await fn(store.knex, name);
  });
}

const row = (i: number) => ({ id: `T${i}`, name: `thing ${i}`, size: i, active: false, modified_on: 'v1' });

test('updates rows of differing columns with typed values, each only at its version, and reports every record', async () => {
  await each(async (knex) => {
    await knex('thing').insert([row(1), row(2), row(3), row(4)]);
    const connector = new KnexTableConnector({ name: 'k', knex, now: () => 'v2' });
    const results = await connector.updateMany('thing', [
      { id: 'T1', values: { name: 'one', size: 10 }, expectedVersion: 'v1' },
      { id: 'T2', values: { active: true }, expectedVersion: 'v1' },
      { id: 'T3', values: { name: 'three', size: 30 }, expectedVersion: 'stale' },
      { id: 'T404', values: { name: 'gone', size: 1 } },
      { id: 'T4', values: { size: null } },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.kind))).toEqual(['ok', 'ok', 'conflict', 'notFound', 'ok']);
    expect(results[0]).toEqual({ ok: true, id: 'T1', modifiedOn: 'v2', version: 'v2' });
    const rows = await knex('thing').orderBy('id');
    expect(rows.map((r: Record<string, unknown>) => [r.id, r.name, r.size === null ? null : Number(r.size), Boolean(r.active), r.modified_on])).toEqual([
      ['T1', 'one', 10, false, 'v2'],
      ['T2', 'thing 2', 2, true, 'v2'],
      ['T3', 'thing 3', 3, false, 'v1'],
      ['T4', 'thing 4', null, false, 'v2'],
    ]);
  });
});

test('a batch is a few statements, not one per record; a repeated id is applied in order', async () => {
  await each(async (knex) => {
    await knex.batchInsert(
      'thing',
      Array.from({ length: 600 }, (_, i) => row(i)),
      100,
    );
    const connector = new KnexTableConnector({ name: 'k', knex, now: () => 'v2' });
    const updates: string[] = [];
    const count = (q: Knex.Sql): void => {
      if (/\bupdate\b/i.test(q.sql)) updates.push(q.sql);
    };
    knex.on('query', count);
    try {
      const results = await connector.updateMany('thing', [
        ...Array.from({ length: 600 }, (_, i) => ({ id: `T${i}`, values: { name: `n${i}` }, expectedVersion: 'v1' })),
        { id: 'T0', values: { name: 'last' } },
      ]);
      expect(results.every((r) => r.ok)).toBe(true);
    } finally {
      knex.off('query', count);
    }
    // 600 rows of one column set in one statement, the repeated id in a second.
    expect(updates).toHaveLength(2);
    expect(await knex('thing').where('id', 'T0').first()).toMatchObject({ name: 'last' });
    expect(await knex('thing').where('id', 'T599').first()).toMatchObject({ name: 'n599', modified_on: 'v2' });
  });
});

test('a value the table refuses fails that record only; the others are written', async () => {
  await each(async (knex, name) => {
    await knex('thing').insert([row(1), row(2)]);
    const connector = new KnexTableConnector({ name: 'k', knex, now: () => 'v2' });
    const results = await connector.updateMany('thing', [
      { id: 'T1', values: { name: 'fine' } },
      // Longer than the column: PostgreSQL refuses it; SQLite keeps any text, so it has nothing to refuse there.
      { id: 'T2', values: { name: 'x'.repeat(50) } },
    ]);
    expect(results[0].ok).toBe(true);
    expect(results[1].ok).toBe(name !== 'postgres');
    expect(await knex('thing').where('id', 'T1').first()).toMatchObject({ name: 'fine' });
  });
});

test('on SQLite a batch reads its rows first and finds each by its key, JSON-carried or bound', async () => {
  const { sqliteDialect } = await import('../helpers/stores');
  const { recordStatements, sqlitePlan } = await import('../helpers/query-plans');
  const { store, cleanup } = await sqliteDialect.open();
  try {
    const knex = store.knex;
    await knex.schema.createTable('thing', (t) => {
      t.string('id', 64).primary();
      t.string('name', 20).nullable();
      t.string('modified_on', 32).notNullable();
    });
    await knex.batchInsert(
      'thing',
      Array.from({ length: 3000 }, (_, i) => ({ id: `T${i}`, name: `thing ${i}`, modified_on: 'v1' })),
      300,
    );
    const connector = new KnexTableConnector({ name: 'k', knex, now: () => 'v2' });
    for (const name of ['plain', 'with a NUL \u0000 inside']) {
      const recording = recordStatements(knex);
      const results = await connector.updateMany(
        'thing',
        Array.from({ length: 1000 }, (_, i) => ({ id: `T${i * 3}`, values: { name }, expectedVersion: i === 500 ? 'stale' : 'v1' })),
      );
      const [update] = recording.stop().filter((q) => /\bupdate\b/i.test(q.sql));
      expect(/json_each/.test(update.sql)).toBe(name === 'plain');
      expect(results.filter((r) => !r.ok).map((r) => r.id)).toEqual(['T1500']);
      const plan = await sqlitePlan(knex, update);
      expect(plan.filter((line) => /^(SCAN|SEARCH) thing\b/.test(line))).toEqual([expect.stringMatching(/^SEARCH thing USING INDEX \S+ \(id=\?\)$/)]);
      expect(await knex('thing').where({ name }).count({ n: '*' })).toEqual([{ n: 999 }]);
      await knex('thing').update({ modified_on: 'v1' });
    }
  } finally {
    await cleanup();
  }
});
