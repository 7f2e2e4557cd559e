/**
 * A leased run's lease lives as long as its activities work (#13 item 2): a
 * batch slower than the lease's lifetime keeps it renewed, so no other run
 * can take the mapping from a live batch; a batch of a killed worker stops
 * renewing, and its lease lapses.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SyncBatchInput } from '../../activities';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping } from '../helpers/systems';

const TTL_MS = 300;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a batch that works longer than the lease lasts keeps it: another run is refused meanwhile, and the batch writes', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping({}));
    await sys.local('customer').insert([customer(1)]);
    await store.createJob({ id: 'job', mappingName: 'CUSTOMER', type: 'Synchronization', direction: 'ToIntegrationTable', workflowId: 'bulk', runId: '1' });
    const lease = await store.acquireRunLock('CUSTOMER', 'bulk#1', TTL_MS);
    // The batch's read takes four lifetimes of the lease.
    const getMany = sys.systems.local.getMany.bind(sys.systems.local);
    jest.spyOn(sys.systems.local, 'getMany').mockImplementation(async (request) => {
      await sleep(TTL_MS * 4);
      return getMany(request);
    });
    const acts = createActivities({ store, systems: sys.systems, leaseTtlMs: TTL_MS });
    const input: SyncBatchInput = {
      mapping: 'CUSTOMER',
      direction: 'ToIntegrationTable',
      jobId: 'job',
      selection: { kind: 'ids', ids: ['C1'], side: 'local' },
      options: {},
      maxAttempts: 3,
      lease,
    };
    const batch = new MockActivityEnvironment({ attempt: 1 }).run(acts.syncBatch, input);
    await sleep(TTL_MS * 2);
    expect((await store.acquireRunLock('CUSTOMER', 'match#2', TTL_MS)).holder).toBe('bulk#1');
    await batch;
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    // Once no activity of the run works, nothing renews it: it lapses and another run may take it.
    await sleep(TTL_MS * 2);
    expect((await store.acquireRunLock('CUSTOMER', 'match#2', TTL_MS)).holder).toBe('match#2');
  } finally {
    jest.restoreAllMocks();
    await sys.close();
    await cleanup();
  }
});
