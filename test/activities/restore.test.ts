/**
 * RestoreRecords replaces a coupling (the deleted counterpart's) with the
 * restored record's: a failure between the two writes must not leave the
 * record uncoupled, where a mapping that syncs only coupled records would
 * never reach it again (#13 item 4).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SyncBatchResult } from '../../activities';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping, tick } from '../helpers/systems';

test('a restore that fails between removing the old coupling and writing the new one leaves the record coupled, and the retry restores it once', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping({ syncOnlyCoupledRecords: true, deletionConflictResolution: 'RestoreRecords' }));
    const acts = createActivities({ store, systems: sys.systems });
    const mapping = await store.requireMapping('CUSTOMER');
    await sys.local('customer').insert([customer(1)]);
    await sys.integration('account').insert([{ id: 'A1', name: 'Customer 1', modified_on: tick() }]);
    await store.insertCouplings(mapping, null, 'set-up', [
      { localId: 'C1', integrationId: 'A1', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
    ]);
    await sys.integration('account').where('id', 'A1').delete();
    await sys.local('customer').where('id', 'C1').update({ name: 'Changed', modified_on: tick() });

    const input = {
      mapping: 'CUSTOMER',
      direction: 'ToIntegrationTable' as const,
      jobId: 'job-restore',
      selection: { kind: 'ids' as const, ids: ['C1'], side: 'local' as const },
      options: {},
      maxAttempts: 3,
    };
    await store.createJob({
      id: 'job-restore',
      mappingName: 'CUSTOMER',
      type: 'Synchronization',
      direction: 'ToIntegrationTable',
      workflowId: 'w',
      runId: 'r',
    });
    // The second write fails in the database itself (as a dropped connection would), after the first succeeded.
    await store.knex.raw(`create trigger fail_coupling before insert on couplings when new.local_id = 'C1' begin select raise(fail, 'connection lost'); end`);
    await expect(new MockActivityEnvironment({ attempt: 1 }).run(acts.syncBatch, input)).rejects.toThrow(/connection lost/);
    await store.knex.raw('drop trigger fail_coupling');
    // Whatever the failure left, the record is still coupled to something a run will reach.
    expect(await store.getCouplings('CUSTOMER', 'local', ['C1'])).toHaveLength(1);

    const result: SyncBatchResult = await new MockActivityEnvironment({ attempt: 2 }).run(acts.syncBatch, input);
    expect(result.counters).toMatchObject({ inserted: 1, failed: 0 });
    const [coupling] = await store.getCouplings('CUSTOMER', 'local', ['C1']);
    const accounts = await sys.integration('account').select();
    expect(accounts).toHaveLength(1);
    expect(coupling.integrationId).toBe(accounts[0].id);
    expect(accounts[0]).toMatchObject({ name: 'Changed' });
  } finally {
    await sys.close();
    await cleanup();
  }
});
