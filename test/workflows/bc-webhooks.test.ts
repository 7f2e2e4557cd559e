/**
 * Business Central webhooks, end to end on the real dev server with the BC
 * EMULATOR: subscribing runs the validation handshake against our receiver;
 * a change in BC is delivered (batched, with the clientState) and reaches the
 * other side through live sync alone; many changes at once arrive as one
 * `collection` notification and an incremental run; a forged notification is
 * refused and starts nothing; a subscription close to expiry is renewed; a
 * notification lost on purpose is recovered by the next scheduled run.
 */
import knexFactory from 'knex';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { sqliteConfig } from '../../store/database-url';
import { startBusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { startBcWebhookReceiver } from '../../worker/receivers/bc-webhooks';
import { startBcLive } from '../../worker/receivers/bc-live';
import { sqliteDialect } from '../helpers/stores';
import { SyncSchedules } from '../../client/schedules';
import { eventually } from '../helpers/eventually';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const MAPPING = 'BC_WEBHOOK';
const SECRET = 'client-state-secret';

test('BC changes reach the other side through webhooks and live sync; forged ones are refused; the subscription is renewed', async () => {
  let clock = Date.now();
  const emu = await startBusinessCentralEmulator({
    pageSize: 20,
    now: () => new Date((clock += 1)),
    subscriptionRules: { batchDelayMs: 100, collectionThreshold: 5 },
  });
  const { store, cleanup } = await sqliteDialect.open();
  const crm = knexFactory(sqliteConfig(':memory:'));
  await crm.schema.createTable('account', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('modified_on', 32).notNullable();
    t.index(['modified_on', 'id']);
  });
  const bc = new BusinessCentralConnector(emu.connectorOptions());
  const systems = { bc, crm: new KnexTableConnector({ name: 'crm', knex: crm }) };
  await store.saveMapping({
    name: MAPPING,
    local: { system: 'bc', table: 'customers' },
    integration: { system: 'crm', table: 'account' },
    direction: 'ToIntegrationTable',
    syncOnlyCoupledRecords: false,
    fields: [{ localField: 'displayName', integrationField: 'name' }],
  });
  const [first] = emu.seed('customers', [{ displayName: 'Adatum' }]);
  try {
    await withWorker(temporal, { store, systems }, async ({ sync, taskQueue }) => {
      const receiver = await startBcWebhookReceiver({ live: sync.live, routes: [{ mapping: MAPPING, side: 'local', clientState: SECRET }] });
      try {
        await sync.bulkSync({ mapping: MAPPING });
        const accountOf = async (id: string) => {
          const [c] = await store.getCouplings(MAPPING, 'local', [id]);
          return c ? crm('account').where('id', c.integrationId).first() : undefined;
        };
        expect((await accountOf(String(first.id)))?.name).toBe('Adatum');

        // Subscribing: BC's handshake reaches the receiver, which answers it.
        const subscriptions = bc.subscriptions(() => new Date(clock));
        const created = await subscriptions.ensure({ notificationUrl: receiver.url(MAPPING), entitySet: bc.entitySetOf('customers'), clientState: SECRET });
        expect(created.action).toBe('created');
        expect(receiver.answered[200]).toBe(1);

        // A user's edit in BC: delivered, synchronized, with no Schedule and nobody calling notify.
        emu.edit('customers', String(first.id), { displayName: 'Adatum Corp.' });
        await eventually('the BC edit on the other side', async () => (await accountOf(String(first.id)))?.name === 'Adatum Corp.');

        // Many at once: one collection notification, an incremental run creates them all.
        const many = emu.seed(
          'customers',
          Array.from({ length: 8 }, (_, i) => ({ displayName: `Bulk ${i}` })),
        );
        await eventually('the collection run', async () => (await store.countCouplings(MAPPING)) === 9);
        const collection = emu.subscriptions.deliveries.find((d) => d.notifications === 1 && d.status === 202);
        expect(collection).toBeDefined();
        expect(many).toHaveLength(8);

        // Forged: the wrong clientState is refused and starts nothing.
        const before = (await sync.live.state(MAPPING)).notifications;
        const forged = await fetch(receiver.url(MAPPING), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ value: [{ clientState: 'guess', changeType: 'updated', resource: `/api/v2.0/companies(x)/customers(${String(first.id)})` }] }),
        });
        expect(forged.status).toBe(401);
        const notJson = await fetch(receiver.url(MAPPING), { method: 'POST', body: 'hello' });
        expect(notJson.status).toBe(400);
        expect((await sync.live.state(MAPPING)).notifications).toBe(before);

        // Renewal: close to expiry (the clock moved on), ensure renews it with a new expiry.
        clock += 3 * 24 * 3_600_000 - 3_600_000;
        const renewed = await subscriptions.ensure({ notificationUrl: receiver.url(MAPPING), entitySet: bc.entitySetOf('customers'), clientState: SECRET });
        expect(renewed.action).toBe('renewed');
        expect(Date.parse(renewed.subscription.expirationDateTime)).toBeGreaterThan(Date.parse(created.subscription.expirationDateTime));
        expect(renewed.subscription.subscriptionId).toBe(created.subscription.subscriptionId);
        const kept = await subscriptions.ensure({ notificationUrl: receiver.url(MAPPING), entitySet: bc.entitySetOf('customers'), clientState: SECRET });
        expect(kept.action).toBe('kept');

        // Lost: a delivery the receiver never gets (the emulator drops it); the next scheduled (incremental) run recovers it.
        await sync.live.stop(MAPPING);
        await subscriptions.ensure({ notificationUrl: receiver.url(MAPPING), entitySet: bc.entitySetOf('customers'), clientState: SECRET });
        const deliveriesBefore = emu.subscriptions.deliveries.length;
        await receiver.close();
        emu.edit('customers', String(first.id), { displayName: 'Adatum Lost' });
        await eventually('the failed deliveries', () => emu.subscriptions.deliveries.length >= deliveriesBefore + 3);
        expect((await accountOf(String(first.id)))?.name).toBe('Adatum Corp.');
        // The mapping's Schedule, the safety net: its next run (triggered here) reads what the notification would have said.
        const schedules = new SyncSchedules(temporal.client, taskQueue);
        await schedules.create(MAPPING, { every: '1 hour' });
        try {
          await schedules.trigger(MAPPING);
          await eventually('the scheduled run', async () => (await accountOf(String(first.id)))?.name === 'Adatum Lost');
        } finally {
          await schedules.delete(MAPPING);
        }
      } finally {
        await receiver.close().catch(() => undefined);
      }
    });
  } finally {
    await emu.close();
    await crm.destroy();
    await cleanup();
  }
});

test("the worker's BC live sync subscribes each watched mapping's table and synchronizes what BC notifies", async () => {
  const emu = await startBusinessCentralEmulator({ subscriptionRules: { batchDelayMs: 50 } });
  const { store, cleanup } = await sqliteDialect.open();
  const crm = knexFactory(sqliteConfig(':memory:'));
  await crm.schema.createTable('account', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('modified_on', 32).notNullable();
  });
  const systems = { bc: new BusinessCentralConnector(emu.connectorOptions()), crm: new KnexTableConnector({ name: 'crm', knex: crm }) };
  await store.saveMapping({
    name: 'BC_LIVE',
    local: { system: 'crm', table: 'account' },
    integration: { system: 'bc', table: 'customers' },
    direction: 'FromIntegrationTable',
    syncOnlyCoupledRecords: false,
    sourceDeletion: 'DeleteCounterpart',
    fields: [{ localField: 'name', integrationField: 'displayName' }],
  });
  try {
    await withWorker(temporal, { store, systems }, async ({ sync }) => {
      await expect(startBcLive({ live: sync.live, store, systems, mappings: ['BC_LIVE'], clientState: 'short' })).rejects.toThrow(/16 characters/);
      const live = await startBcLive({ live: sync.live, store, systems, mappings: ['BC_LIVE'], clientState: SECRET, warn: (m) => console.warn(m) });
      try {
        expect(Object.keys(live.urls)).toEqual(['BC_LIVE']);
        const [created] = emu.seed('customers', [{ displayName: 'Fabrikam' }]);
        await eventually(
          'the BC record created on the other side',
          async () => (await store.getCouplings('BC_LIVE', 'integration', [String(created.id)])).length === 1,
        );
        expect((await crm('account').first())?.name).toBe('Fabrikam');
        // Deleted in BC: the notification says so, and the mapping's deletion rule deletes the counterpart.
        emu.remove('customers', String(created.id));
        await eventually('the counterpart deleted', async () => (await crm('account').count({ n: '*' }).first())?.n === 0);
        expect(await store.getCouplings('BC_LIVE', 'integration', [String(created.id)])).toEqual([]);
        await sync.live.stop('BC_LIVE');
      } finally {
        await live.close();
      }
    });
  } finally {
    await emu.close();
    await crm.destroy();
    await cleanup();
  }
});
