/**
 * No record contents and no credentials in Temporal's history: real runs of
 * every workflow over records with distinctive values, through a connector
 * configured with fake credentials whose failures quote both, then every
 * history of the test's task queue read back and searched, payloads decoded.
 */
import { randomBytes } from 'node:crypto';
import { creationKey } from '../../domain/record-key';
import { sqliteDialect } from '../helpers/stores';
import { account, customer, openTestSystems, testMapping, tick } from '../helpers/systems';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { closedRunsOn, findings, historyText, type HistoryText } from './history-text';
import { credentialValues, fakeCredentials, LeakyConnector } from './leaky-connector';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const FAST = { maximumAttempts: 2, initialIntervalMs: 10 };

test('no record value and no credential appears anywhere in the histories of real runs', async () => {
  const marker = `SECRET-VALUE-${randomBytes(6).toString('hex')}`;
  const credentials = fakeCredentials();
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  const secretCustomer = (i: number): Record<string, unknown> =>
    customer(i, { name: `${marker} name ${i}`, email: `${marker}.mail.${i}@example.com`, phone: `${marker}-phone-${i}`, city: `${marker} city` });
  try {
    await store.saveMapping(
      testMapping({
        direction: 'Bidirectional',
        updateConflictResolution: 'SendToIntegration',
        fields: [
          { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
          { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true },
          { localField: 'phone', integrationField: 'telephone1', direction: 'Bidirectional' },
          { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional' },
        ],
      }),
    );
    await sys.local('customer').insert(Array.from({ length: 30 }, (_, i) => secretCustomer(i)));
    // Ten accounts already exist with the same (secret) e-mail: match-based coupling finds them.
    await sys
      .integration('account')
      .insert(Array.from({ length: 10 }, (_, i) => account(`A${i}`, { name: `${marker} account ${i}`, emailaddress1: `${marker}.mail.${i}@example.com` })));
    // Two creates fail with messages that quote the record and every credential.
    const failKeys = new Set([creationKey('CUSTOMER', 'local', 'C20'), creationKey('CUSTOMER', 'local', 'C21')]);
    const leaky = new LeakyConnector(sys.systems.integration, credentials, { failKeys, kind: 'transient' });
    let started = 0;

    await withWorker(temporal, { store, systems: { local: sys.systems.local, integration: leaky } }, async ({ sync, taskQueue }) => {
      const run = async <T>(p: Promise<T>): Promise<T | Error> => {
        started++;
        return p.catch((e: unknown) => e as Error);
      };
      const coupled = await run(sync.matchBasedCoupling({ mapping: 'CUSTOMER', createNewIfNoMatch: true, syncAfterCoupling: true, batchSize: 5, retry: FAST }));
      expect(coupled).toMatchObject({ jobs: [{ counters: { coupled: 28, failed: 2 } }, {}] });

      // Changes on both sides, then a bulk sync that continues as new between batches (cursors carry keys only).
      await sys
        .local('customer')
        .whereIn('id', ['C1', 'C2', 'C3'])
        .update({ name: `${marker} renamed`, modified_on: tick() });
      await sys
        .integration('account')
        .whereIn('id', ['A4', 'A5'])
        .update({ telephone1: `${marker}-new-phone`, modified_on: tick() });
      const bulk = await run(sync.bulkSync({ mapping: 'CUSTOMER', fullSync: true, batchSize: 3, maxBatchesInFlight: 1, batchesPerRun: 1, retry: FAST }));
      expect(bulk).toMatchObject({ jobs: [{ direction: 'ToIntegrationTable' }, { direction: 'FromIntegrationTable' }] });

      await sys.local('customer').insert(secretCustomer(40));
      await sys.integration('account').insert(account('A40', { name: `${marker} hand-coupled` }));
      await run(sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C40', integrationId: 'A40', syncAfter: true, retry: FAST }));
      await sys
        .local('customer')
        .where({ id: 'C6' })
        .update({ city: `${marker} moved`, modified_on: tick() });
      await run(sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C6', retry: FAST }));
      await run(sync.retryFailed({ mapping: 'CUSTOMER', includeSkipped: true, retry: FAST }));
      await run(sync.uncouple({ mapping: 'CUSTOMER', recordIds: ['C7'] }));
      await run(sync.describeMapping('CUSTOMER'));
      // A full synchronization: its own history carries names, counts and its children's ids; the children sync everything again.
      const full = await run(sync.fullSynchronization({ mappings: ['CUSTOMER'], batchSize: 5, retry: FAST }));
      expect(full).toMatchObject({ mappings: [{ mapping: 'CUSTOMER', state: 'done' }] });

      // A run that fails: the driver cannot connect, and says so with the connection string and the tokens.
      leaky.faults.scanThrows = 1000;
      await sys
        .local('customer')
        .where({ id: 'C8' })
        .update({ name: `${marker} again`, modified_on: tick() });
      const failed = await run(sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST }));
      expect(failed).toBeInstanceOf(Error);
      expect(leaky.thrown.scan).toBeGreaterThan(1);

      // The error rows hold the details (the store is where they belong), with the secrets redacted.
      const errors = await store.listErrors({ mappingName: 'CUSTOMER' });
      expect(errors.length).toBeGreaterThan(0);

      const runs = await closedRunsOn(temporal.client, taskQueue, started);
      const histories: HistoryText[] = [];
      for (const r of runs) histories.push(await historyText(temporal.client, r.workflowId, r.runId));

      // The scan reads what it should: every run's history, with its payloads decoded.
      expect(new Set(runs.map((r) => r.type))).toEqual(
        new Set([
          'matchBasedCouplingWorkflow',
          'bulkSyncWorkflow',
          'setUpCouplingWorkflow',
          'singleSyncWorkflow',
          'retryFailedWorkflow',
          'uncoupleWorkflow',
          'describeMappingWorkflow',
          'fullSynchronizationWorkflow',
        ]),
      );
      expect(runs.filter((r) => r.type === 'bulkSyncWorkflow').length).toBeGreaterThan(2); // continued as new
      expect(histories.reduce((n, h) => n + h.payloads, 0)).toBeGreaterThan(100);
      expect(findings(histories, ['"localId":"C40"']).length).toBeGreaterThan(0);

      expect(findings(histories, [marker, ...credentialValues(credentials)])).toEqual([]);
      console.log(
        `history scan: ${histories.length} runs, ${histories.reduce((n, h) => n + h.events, 0)} events, ${histories.reduce((n, h) => n + h.payloads, 0)} payloads, ${histories.reduce((n, h) => n + h.texts.length, 0)} texts searched`,
      );
    });
  } finally {
    await sys.close();
    await cleanup();
  }
});
