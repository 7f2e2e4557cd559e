/**
 * SQLite multi-row inserts send their rows as one JSON parameter where JSON
 * carries them: every value must land exactly as a bound parameter lands it
 * (value and SQLite type), and a value JSON would change (NUL, a lone
 * surrogate, a buffer, a date, a non-finite number) sends the batch bound.
 */
import knexFactory, { type Knex } from 'knex';
import { sqliteConfig } from '../../store/database-url';
import { insertRows } from '../../store/multi-row-insert';
import { jsonTuples } from '../../store/sqlite-json-rows';
import { recordStatements } from '../helpers/query-plans';

const COLUMNS = ['a', 'b', 'c'];
let knex: Knex;

beforeAll(async () => {
  knex = knexFactory(sqliteConfig(':memory:'));
  for (const table of ['bound', 'json']) {
    await knex.schema.createTable(table, (t) => {
      t.integer('n').primary();
      t.text('a');
      t.integer('b');
      t.specificType('c', 'blob');
    });
  }
});

afterAll(async () => {
  await knex.destroy();
});

/** Every value and its SQLite type, by row. */
async function contents(table: string): Promise<unknown[]> {
  return knex(table).orderBy('n').select('n', 'a', 'b', 'c', knex.raw('typeof(a) as ta, typeof(b) as tb, typeof(c) as tc'));
}

async function compare(rows: Record<string, unknown>[], expectJson: boolean): Promise<void> {
  await knex('bound').delete();
  await knex('json').delete();
  for (const row of rows) await knex('bound').insert(row);
  const recording = recordStatements(knex);
  const returned = await insertRows(knex, 'json', rows, { returning: ['n'] });
  const [statement] = recording.stop();
  expect(returned.map((r) => r.n)).toEqual(rows.map((r) => r.n));
  expect(/json_each/.test(statement.sql)).toBe(expectJson);
  expect(await contents('json')).toEqual(await contents('bound'));
}

test('strings, numbers, booleans and nulls land as bound parameters land them, in one JSON parameter', async () => {
  const values: unknown[] = [
    'plain',
    'quote " and \\ backslash',
    "it's",
    'émoji 😀 and 中文',
    '',
    '  spaced\n\ttab ',
    0,
    -1,
    42,
    2 ** 31 - 1,
    -(2 ** 31),
    1.5,
    -0.25,
    true,
    false,
    null,
    undefined,
  ];
  const rows = values.map((v, n) => ({ n, a: v, b: v, c: v }));
  await compare(rows, true);
  expect(jsonTuples(rows.map((r) => ['n', ...COLUMNS].map((c) => (r as Record<string, unknown>)[c])))).not.toBeNull();
});

test.each([
  ['a NUL in a string', 'before\u0000after'],
  ['a lone high surrogate', 'x\ud800y'],
  ['a lone low surrogate', '\udc00'],
  ['a buffer', Buffer.from([0, 1, 2, 255])],
  ['a date', new Date('2026-12-03T10:00:00.000Z')],
  ['infinity', Number.POSITIVE_INFINITY],
  ['an integer beyond 32 bits (bound as a REAL)', 2 ** 53 - 1],
])('%s sends the batch bound, and lands as a binding lands it', async (_what, value) => {
  const rows = [
    { n: 1, a: 'ordinary', b: 1, c: null },
    { n: 2, a: value, b: 2, c: value },
  ];
  expect(jsonTuples(rows.map((r) => ['n', ...COLUMNS].map((c) => (r as Record<string, unknown>)[c])))).toBeNull();
  await compare(rows, false);
});

test('an insert that ignores conflicts skips the rows already there and returns those it wrote', async () => {
  await knex('json').delete();
  await insertRows(knex, 'json', [{ n: 1, a: 'first' }]);
  const written = await insertRows(
    knex,
    'json',
    [
      { n: 1, a: 'again' },
      { n: 2, a: 'new' },
    ],
    { onConflict: ['n'], returning: ['n'] },
  );
  expect(written.map((r) => r.n)).toEqual([2]);
  expect(await knex('json').orderBy('n').select('n', 'a')).toEqual([
    { n: 1, a: 'first' },
    { n: 2, a: 'new' },
  ]);
});
