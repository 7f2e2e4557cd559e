/**
 * Live sync from a PostgreSQL Knex table on the real dev server: the change
 * trigger notifies, the worker's listener tells the live sync, nobody polls
 * and no Schedule runs. A listener cut off catches up on what changed while
 * it was away; a table with no trigger is refused at start.
 */
import { randomBytes } from 'node:crypto';
import { installChangeTrigger } from '../../connectors/knex-change-trigger';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { PgChangeListener } from '../../worker/receivers/pg-listen';
import { createCustomerTable } from '../../worker/demo/demo-data';
import { eventually } from '../helpers/eventually';
import { openPostgresSchema, sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping, tick } from '../helpers/systems';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

test('a change to a PostgreSQL table arrives on the other side through its trigger; a listener cut off catches up', async () => {
  const pg = await openPostgresSchema('live_listen');
  if (!pg) return;
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  const channel = `cs_live_${randomBytes(4).toString('hex')}`;
  try {
    await createCustomerTable(pg.knex);
    await createCustomerTable(pg.knex, 'no_trigger');
    await installChangeTrigger(pg.knex, { table: 'customer', channel });
    const systems = { local: new KnexTableConnector({ name: 'local', knex: pg.knex }), integration: sys.systems.integration };
    await store.saveMapping(testMapping({ name: 'PG_LIVE', sourceDeletion: 'DeleteCounterpart' }));
    await store.saveMapping(testMapping({ name: 'PG_BARE', local: { system: 'local', table: 'no_trigger' } }));
    await pg.knex('customer').insert([customer(1), customer(2)]);
    await withWorker(temporal, { store, systems }, async ({ sync }) => {
      await sync.bulkSync({ mapping: 'PG_LIVE' });
      const accountOf = async (id: string): Promise<Record<string, unknown> | undefined> => {
        const [coupling] = await store.getCouplings('PG_LIVE', 'local', [id]);
        return coupling ? sys.integration('account').where('id', coupling.integrationId).first() : undefined;
      };
      const warnings: string[] = [];
      const options = { live: sync.live, store, systems, knexes: { local: pg.knex }, channel, reconnectMs: 300, warn: (m: string) => warnings.push(m) };

      const bare = new PgChangeListener({ ...options, mappings: ['PG_BARE'] });
      await expect(bare.start()).rejects.toThrow(/table local\.no_trigger has no change trigger; add it with installChangeTrigger/);
      await bare.stop();

      const listener = new PgChangeListener({ ...options, mappings: ['PG_LIVE'] });
      await listener.start();
      try {
        expect(listener.watching).toEqual(['PG_LIVE local local.customer']);
        await pg.knex('customer').where('id', 'C1').update({ name: 'Heard', modified_on: tick() });
        await eventually('the update', async () => (await accountOf('C1'))?.name === 'Heard');
        await pg.knex('customer').insert(customer(3));
        await eventually('the insert', async () => (await accountOf('C3'))?.name === 'Customer 3');
        const gone = (await store.getCouplings('PG_LIVE', 'local', ['C2']))[0].integrationId;
        await pg.knex('customer').where('id', 'C2').delete();
        await eventually('the delete', async () => (await sys.integration('account').where('id', gone).first()) === undefined);

        // Cut the listener off and change a record while it is away: PostgreSQL keeps nothing for it.
        const cut = await pg.knex.raw(`select pg_terminate_backend(pid) as done from pg_stat_activity where query = ?`, [`listen "${channel}"`]);
        expect(cut.rows).toHaveLength(1);
        await pg.knex('customer').where('id', 'C3').update({ city: 'While away', modified_on: tick() });
        await eventually('the change made while away', async () => (await accountOf('C3'))?.address1_city === 'While away');
        expect(warnings.some((w) => /Listening to local: .*connecting again in 300 ms/.test(w))).toBe(true);

        const state = await sync.live.state('PG_LIVE');
        expect(state.refused).toBe(0);
        expect(state.runs).toBeGreaterThanOrEqual(4);
      } finally {
        await listener.stop();
        await sync.live.stop('PG_LIVE');
      }
    });
  } finally {
    await sys.close();
    await cleanup();
    await pg.drop();
  }
});
