/**
 * A batch's coupling writes never land on couplings another run changed
 * between the batch's read and its write (#13 item 1): an uncouple-all is not
 * undone, a coupling re-pointed by uncouple-and-match is not re-pointed back.
 * The batch's lost writes are retried, reading the couplings again.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SyncBatchInput } from '../../activities';
import type { SyncBatchResult } from '../../common/protocol';
import type { Coupling, Store } from '../../store/store';
import { sqliteDialect } from '../helpers/stores';
import { account, customer, openTestSystems, testMapping, tick } from '../helpers/systems';

/** Runs `meanwhile` right after the engine's first read of the batch's couplings, as another run would. */
function interleave(store: Store, meanwhile: () => Promise<void>): void {
  const read = store.getCouplings.bind(store);
  let done = false;
  jest.spyOn(store, 'getCouplings').mockImplementation(async (...args): Promise<Coupling[]> => {
    const rows = await read(...args);
    if (!done) {
      done = true;
      await meanwhile();
    }
    return rows;
  });
}

async function setup() {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  await store.saveMapping(testMapping({ syncOnlyCoupledRecords: true }));
  const mapping = await store.requireMapping('CUSTOMER');
  await sys.local('customer').insert([customer(1, { name: 'Edited' })]);
  await sys.integration('account').insert([account('A1', { name: 'Customer 1' }), account('A2', { name: 'Other' })]);
  await store.insertCouplings(mapping, 'ToIntegrationTable', 'earlier', [
    {
      localId: 'C1',
      integrationId: 'A1',
      lastSyncedLocalModifiedOn: 'old',
      lastSyncedIntegrationModifiedOn: String((await sys.integration('account').where('id', 'A1').first()).modified_on),
    },
  ]);
  await store.createJob({ id: 'job', mappingName: 'CUSTOMER', type: 'Synchronization', direction: 'ToIntegrationTable', workflowId: 'w', runId: 'r' });
  const acts = createActivities({ store, systems: sys.systems });
  const input: SyncBatchInput = {
    mapping: 'CUSTOMER',
    direction: 'ToIntegrationTable',
    jobId: 'job',
    selection: { kind: 'ids', ids: ['C1'], side: 'local' },
    options: {},
    maxAttempts: 3,
  };
  /** The batch as Temporal runs it: a retryable failure is retried with the heartbeat it left. */
  const runBatch = async (): Promise<void> => {
    let heartbeat: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const env = new MockActivityEnvironment({ attempt, heartbeatDetails: heartbeat });
      env.on('heartbeat', (d: unknown) => {
        heartbeat = d;
      });
      try {
        await env.run(acts.syncBatch, input);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  };
  return {
    store,
    sys,
    mapping,
    runBatch,
    close: async () => {
      jest.restoreAllMocks();
      await sys.close();
      await cleanup();
    },
  };
}

test("an uncouple-all landing between a batch's read and its write is not undone", async () => {
  const t = await setup();
  try {
    interleave(t.store, async () => {
      await t.store.deleteCouplings('CUSTOMER', 'local', ['C1']);
    });
    await t.runBatch();
    expect(await t.store.countCouplings('CUSTOMER')).toBe(0);
  } finally {
    await t.close();
  }
});

test('a coupling re-pointed (uncoupled, then matched to another record) meanwhile is not pointed back, and the retry syncs the new pair', async () => {
  const t = await setup();
  try {
    interleave(t.store, async () => {
      await t.store.deleteCouplings('CUSTOMER', 'local', ['C1']);
      await t.store.insertCouplings(t.mapping, null, 'match', [
        {
          localId: 'C1',
          integrationId: 'A2',
          lastSyncedLocalModifiedOn: null,
          lastSyncedIntegrationModifiedOn: null,
          coupledAction: 'matched',
          pending: { toIntegration: true, fromIntegration: false },
        },
      ]);
      await t.sys.local('customer').where('id', 'C1').update({ modified_on: tick() });
    });
    await t.runBatch();
    const [coupling] = await t.store.getCouplings('CUSTOMER', 'local', ['C1']);
    expect(coupling.integrationId).toBe('A2');
    expect(coupling.coupledByJobId).toBe('match');
    // The record went to the pair as it is now; the old partner keeps what it had.
    expect(await t.sys.integration('account').where('id', 'A2').first()).toMatchObject({ name: 'Edited' });
  } finally {
    await t.close();
  }
});

test('a record coupled by a match while the batch created its counterpart keeps the match: the created record is removed and not counted', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping({}));
    const mapping = await store.requireMapping('CUSTOMER');
    await sys.local('customer').insert([customer(2, { name: 'Second' })]);
    await sys.integration('account').insert([account('A2', { name: 'Second' })]);
    await store.createJob({ id: 'job', mappingName: 'CUSTOMER', type: 'Synchronization', direction: 'ToIntegrationTable', workflowId: 'w', runId: 'r' });
    // The match lands after the batch created the account and before it writes the coupling.
    const insert = store.insertCouplings.bind(store);
    let matched = false;
    jest.spyOn(store, 'insertCouplings').mockImplementation(async (...args) => {
      if (!matched) {
        matched = true;
        await insert(mapping, null, 'match', [
          { localId: 'C2', integrationId: 'A2', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null, coupledAction: 'matched' },
        ]);
      }
      return insert(...args);
    });
    const acts = createActivities({ store, systems: sys.systems });
    const env = new MockActivityEnvironment({ attempt: 1 });
    const input: SyncBatchInput = {
      mapping: 'CUSTOMER',
      direction: 'ToIntegrationTable',
      jobId: 'job',
      selection: { kind: 'ids', ids: ['C2'], side: 'local' },
      options: {},
      maxAttempts: 3,
    };
    const result: SyncBatchResult = await env.run(acts.syncBatch, input);
    const [coupling] = await store.getCouplings('CUSTOMER', 'local', ['C2']);
    expect(coupling).toMatchObject({ integrationId: 'A2', coupledByJobId: 'match' });
    expect((await sys.integration('account').select('id')).map((r: { id: string }) => r.id)).toEqual(['A2']);
    expect(result.counters).toMatchObject({ inserted: 0, coupled: 0 });
  } finally {
    jest.restoreAllMocks();
    await sys.close();
    await cleanup();
  }
});
