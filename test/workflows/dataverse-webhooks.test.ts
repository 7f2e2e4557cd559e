/**
 * Dataverse webhooks, end to end on the real dev server with the Dataverse
 * EMULATOR: the endpoint and its steps are registered through the Web API (and
 * kept on a second call); a user's edit and a delete in Dataverse reach the
 * other side through the posted execution context and live sync alone; a post
 * without the header, or for another table, is refused and starts nothing.
 */
import knexFactory from 'knex';
import { DataverseConnector } from '../../connectors/dataverse';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { sqliteConfig } from '../../store/database-url';
import { startDataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';
import { startDataverseWebhookReceiver } from '../../worker/receivers/dataverse-webhooks';
import { startDataverseLive } from '../../worker/receivers/dataverse-live';
import { sqliteDialect } from '../helpers/stores';
import { testMapping } from '../helpers/systems';
import { createCustomerTable } from '../../worker/demo/demo-data';
import { eventually } from '../helpers/eventually';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const MAPPING = 'DV_WEBHOOK';
const HEADER = { name: 'x-coupling-sync-key', value: 'a-long-webhook-secret-0123456789' };

test('Dataverse edits and deletes reach the other side through webhooks and live sync; unauthenticated posts are refused', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const local = knexFactory(sqliteConfig(':memory:'));
  await createCustomerTable(local);
  const emulator = await startDataverseEmulator({ webhookRules: { delayMs: 50 } });
  const dataverse = new DataverseConnector({
    name: 'dataverse',
    environmentUrl: emulator.environmentUrl,
    credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
    tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: ['name', 'emailaddress1', 'telephone1', 'address1_city'] } },
  });
  const systems = { local: new KnexTableConnector({ name: 'local', knex: local }), integration: dataverse };
  await store.saveMapping(testMapping({ name: MAPPING, direction: 'FromIntegrationTable', sourceDeletion: 'DeleteCounterpart' }));
  const [account] = emulator.put('accounts', [{ name: 'Contoso' }]);
  const accountId = String(account.accountid);
  try {
    await withWorker(temporal, { store, systems }, async ({ sync }) => {
      const receiver = await startDataverseWebhookReceiver({
        live: sync.live,
        routes: [{ mapping: MAPPING, side: 'integration', logicalName: 'account', header: HEADER }],
      });
      try {
        await sync.bulkSync({ mapping: MAPPING });
        const customerOf = async () => {
          const [c] = await store.getCouplings(MAPPING, 'integration', [accountId]);
          return c ? local('customer').where('id', c.localId).first() : undefined;
        };
        expect((await customerOf())?.name).toBe('Contoso');

        const registration = { name: `coupling-sync ${MAPPING}`, url: receiver.url(MAPPING), logicalName: 'account', header: HEADER };
        expect(await dataverse.webhooks().ensure(registration)).toMatchObject({ stepsCreated: 3 });
        expect(await dataverse.webhooks().ensure(registration)).toMatchObject({ stepsCreated: 0 });

        emulator.edit('accounts', accountId, { name: 'Contoso Ltd' });
        await eventually('the Dataverse edit on the other side', async () => (await customerOf())?.name === 'Contoso Ltd');

        const before = (await sync.live.state(MAPPING)).notifications;
        const context = JSON.stringify({ MessageName: 'Update', PrimaryEntityName: 'account', PrimaryEntityId: accountId });
        expect((await fetch(receiver.url(MAPPING), { method: 'POST', body: context })).status).toBe(401);
        expect((await fetch(receiver.url(MAPPING), { method: 'POST', headers: { [HEADER.name]: 'guess' }, body: context })).status).toBe(401);
        const otherTable = JSON.stringify({ MessageName: 'Update', PrimaryEntityName: 'contact', PrimaryEntityId: accountId });
        expect((await fetch(receiver.url(MAPPING), { method: 'POST', headers: { [HEADER.name]: HEADER.value }, body: otherTable })).status).toBe(400);
        expect((await sync.live.state(MAPPING)).notifications).toBe(before);

        // Deleted in Dataverse: the Delete step posts, and the mapping's deletion rule deletes the counterpart.
        const [coupling] = await store.getCouplings(MAPPING, 'integration', [accountId]);
        emulator.remove('accounts', accountId);
        await eventually('the counterpart deleted', async () => !(await local('customer').where('id', coupling.localId).first()));
        expect(emulator.webhooks.deliveries.filter((d) => d.status === 202).map((d) => d.message)).toEqual(['Update', 'Delete']);
        await sync.live.stop(MAPPING);

        // As the worker runs it: the endpoint and steps registered at start, a new record arriving through them.
        await expect(startDataverseLive({ live: sync.live, store, systems, mappings: [MAPPING], key: 'short' })).rejects.toThrow(/16 characters/);
        const dvLive = await startDataverseLive({ live: sync.live, store, systems, mappings: [MAPPING], key: HEADER.value });
        try {
          const [fresh] = emulator.put('accounts', [{ name: 'Northwind' }]);
          await eventually(
            'the new account on the other side',
            async () => (await store.getCouplings(MAPPING, 'integration', [String(fresh.accountid)])).length === 1,
          );
          await sync.live.stop(MAPPING);
        } finally {
          await dvLive.close();
        }
      } finally {
        await receiver.close();
      }
    });
  } finally {
    await emulator.close();
    await local.destroy();
    await cleanup();
  }
});
