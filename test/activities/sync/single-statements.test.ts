/**
 * What one single-record sync costs in statements: every statement is a round
 * trip inside the workflow's one local activity, so its latency above an empty
 * workflow is mostly their count. A coupled, changed record: 10 (it was 14,
 * before the job's insert returned its row and the job's tallies became one
 * read, and 11 while the first attempt also read the tallies it had counted).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { createActivities } from '../../../activities';
import type { JobSummary } from '../../../common/types';
import { sqliteDialect } from '../../helpers/stores';
import { customer, openTestSystems, testMapping, tick } from '../../helpers/systems';

function count(knexes: readonly Knex[]): { statements: string[] } {
  const seen = { statements: [] as string[] };
  for (const k of knexes) k.on('query', (q: { sql: string }) => seen.statements.push(q.sql));
  return seen;
}

test('a single sync of a coupled, changed record is at most 10 statements, and counts it modified', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping());
    const acts = createActivities({ store, systems: sys.systems });
    const mapping = await store.requireMapping('CUSTOMER');
    await sys.local('customer').insert([customer(1)]);
    const synced = tick();
    await sys.integration('account').insert([{ id: 'A1', name: 'Customer 1', modified_on: synced }]);
    const [local] = await sys.local('customer').where('id', 'C1').select('modified_on');
    await store.insertCouplings(mapping, null, 'set-up', [
      { localId: 'C1', integrationId: 'A1', lastSyncedLocalModifiedOn: String(local.modified_on), lastSyncedIntegrationModifiedOn: synced },
    ]);
    await sys.local('customer').where('id', 'C1').update({ name: 'Changed', modified_on: tick() });
    const input = { mapping: 'CUSTOMER', recordId: 'C1', side: 'local' as const, direction: null, jobId: 'job-1', workflowId: 'w', runId: 'r', maxAttempts: 3 };
    // The mapping is read once per worker and cached: warm it as a running worker has.
    await store.requireMapping('CUSTOMER');
    const seen = count([store.knex, sys.local, sys.integration]);
    const job: JobSummary = await new MockActivityEnvironment({ attempt: 1 }).run(acts.syncSingleRecord, input);
    // What a running worker reads once (the mapping, the tables' columns) and transaction brackets aside.
    const roundTrips = seen.statements.filter((s) => !/integration_(table|field)_mappings|^PRAGMA|^BEGIN|^COMMIT/i.test(s));
    expect(job.counters).toMatchObject({ modified: 1, failed: 0, coupled: 0 });
    expect((await sys.integration('account').where('id', 'A1').first()).name).toBe('Changed');
    expect(roundTrips.length).toBeLessThanOrEqual(10);
    expect((await store.getJob('job-1'))?.status).toBe('succeeded');
  } finally {
    await sys.close();
    await cleanup();
  }
});
