/** The PostgreSQL change trigger: what a listener hears for each kind of statement, on a real PostgreSQL. */
import knexFactory, { type Knex } from 'knex';
import { Client as PgClient } from 'pg';
import { randomBytes } from 'node:crypto';
import {
  changePayloadSchema,
  hasChangeTrigger,
  installChangeTrigger,
  MAX_NOTIFIED_IDS,
  removeChangeTrigger,
  type ChangePayload,
} from '../../connectors/knex-change-trigger';
import { createCustomerTable } from '../../worker/demo/demo-data';
import { sqliteConfig } from '../../store/database-url';
import { openPostgresSchema, POSTGRES_URL } from '../helpers/stores';
import { customer } from '../helpers/systems';
import { eventually } from '../helpers/eventually';

let pg: Awaited<ReturnType<typeof openPostgresSchema>>;
let listener: PgClient;
const heard: ChangePayload[] = [];
const channel = `cs_test_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  pg = await openPostgresSchema('change_trigger');
  if (!pg) return;
  await createCustomerTable(pg.knex);
  listener = new PgClient({ connectionString: POSTGRES_URL });
  await listener.connect();
  listener.on('notification', (m) => heard.push(changePayloadSchema.parse(JSON.parse(m.payload ?? ''))));
  await listener.query(`listen "${channel}"`);
});

afterAll(async () => {
  await listener?.end();
  await pg?.drop();
});

/** What was heard after `act`, once a marker statement's notification shows everything before it arrived. */
async function hear(knex: Knex, act: () => Promise<unknown>): Promise<ChangePayload[]> {
  heard.length = 0;
  await act();
  const marker = `marker-${randomBytes(3).toString('hex')}`;
  await knex('customer').insert(customer(0, { id: marker }));
  await eventually('the marker', async () => heard.some((p) => 'ids' in p && p.ids.includes(marker)));
  await knex('customer').where('id', marker).delete();
  await eventually('the marker deleted', async () => heard.filter((p) => 'ids' in p && p.ids.includes(marker)).length === 2);
  return heard.filter((p) => !('ids' in p && p.ids.includes(marker)));
}

test('each statement is one notification naming the ids it inserted, updated or deleted; past the limit it says many', async () => {
  if (!pg) return;
  const { knex, schema } = pg;
  expect(await hasChangeTrigger(knex, { table: 'customer', channel })).toBe(false);
  await installChangeTrigger(knex, { table: 'customer', channel });
  await installChangeTrigger(knex, { table: 'customer', channel }); // safe to run again
  expect(await hasChangeTrigger(knex, { table: 'customer', channel })).toBe(true);

  expect(await hear(knex, () => knex('customer').insert([customer(1), customer(2)]))).toEqual([{ schema, table: 'customer', ids: ['C1', 'C2'] }]);
  expect(await hear(knex, () => knex('customer').where('id', 'C2').update({ name: 'Two' }))).toEqual([{ schema, table: 'customer', ids: ['C2'] }]);
  expect(await hear(knex, () => knex('customer').where('id', 'C1').delete())).toEqual([{ schema, table: 'customer', ids: ['C1'] }]);
  // A statement that touches no row says nothing.
  expect(await hear(knex, () => knex('customer').whereIn('id', ['C404']).update({ name: 'nobody' }))).toEqual([]);

  const many = Array.from({ length: MAX_NOTIFIED_IDS + 1 }, (_, i) => customer(100 + i));
  expect(await hear(knex, () => knex.batchInsert('customer', many, 1000))).toEqual([{ schema, table: 'customer', many: true }]);
  // Ids too long for one payload are many too.
  const long = Array.from({ length: 120 }, (_, i) => customer(1000 + i, { id: `C${'x'.repeat(60)}${i}` }));
  expect(await hear(knex, () => knex('customer').insert(long))).toEqual([{ schema, table: 'customer', many: true }]);

  // A rolled-back change says nothing.
  const rolledBack = await hear(knex, () =>
    knex
      .transaction(async (trx) => {
        await trx('customer').insert(customer(3));
        throw new Error('roll back');
      })
      .catch(() => undefined),
  );
  expect(rolledBack).toEqual([]);

  await removeChangeTrigger(knex, { table: 'customer', channel });
  expect(await hasChangeTrigger(knex, { table: 'customer', channel })).toBe(false);
  heard.length = 0;
  await knex('customer').insert(customer(4));
  await new Promise((r) => setTimeout(r, 300));
  expect(heard).toEqual([]);
});

test('refused: SQLite, and names that are not plain identifiers', async () => {
  const sqlite = knexFactory(sqliteConfig(':memory:'));
  try {
    await expect(installChangeTrigger(sqlite, { table: 'customer' })).rejects.toThrow(/PostgreSQL only .*LIVE_SYNC_FEED/);
  } finally {
    await sqlite.destroy();
  }
  if (!pg) return;
  await expect(installChangeTrigger(pg.knex, { table: 'customer"; drop table customer; --' })).rejects.toThrow(/table .* must be a plain SQL identifier/);
  await expect(installChangeTrigger(pg.knex, { table: 'customer', channel: "x'); select 1; --" })).rejects.toThrow(/channel .* must be a plain SQL identifier/);
  expect(await pg.knex.schema.hasTable('customer')).toBe(true);
});
