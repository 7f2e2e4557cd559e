/**
 * Runs racing each other over the same records: 100 single-record syncs of one
 * uncoupled record (through the typed client, which folds them into one
 * workflow, and as 100 raw starts with ids of their own, the way the Web UI or
 * another team's code may send them), and a bulk sync with single-record syncs
 * of the same records at the same time. Each record must end with one
 * counterpart and one coupling.
 */
import { randomUUID } from 'node:crypto';
import type { RunResult } from '../../common/types';
import { customer, tick } from '../helpers/systems';
import { openSyncContext, type SyncContext } from '../helpers/sync-context';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function count(ctx: SyncContext, side: 'local' | 'integration'): Promise<number> {
  return (await ctx.rows(side)).length;
}

test('100 concurrent singleSync starts for one uncoupled record: one create, one coupling', async () => {
  const ctx = await openSyncContext(temporal, { syncOnlyCoupledRecords: true });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await ctx.run(async ({ sync, taskQueue }) => {
      // Typed client: one workflow id per record, so the 100 starts share one run.
      const typed = await Promise.all(Array.from({ length: 100 }, () => sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' })));
      expect(typed.every((r) => r.jobs[0].status === 'succeeded')).toBe(true);
      expect(await count(ctx, 'integration')).toBe(1);

      // Raw starts, each with its own id: 100 runs really race over C2.
      const handles = await Promise.all(
        Array.from({ length: 100 }, () =>
          sync.client.workflow.start('singleSyncWorkflow', {
            taskQueue,
            workflowId: `race-${randomUUID()}`,
            args: [{ mapping: 'CUSTOMER', recordId: 'C2' }],
          }),
        ),
      );
      const results = (await Promise.all(handles.map((h) => h.result()))) as RunResult[];
      expect(results.every((r) => r.jobs.every((j) => j.status === 'succeeded' && j.counters.failed === 0))).toBe(true);
    });
    expect(await count(ctx, 'integration')).toBe(2);
    const couplings = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1', 'C2']);
    expect(couplings).toHaveLength(2);
    expect(await ctx.store.countCouplings('CUSTOMER')).toBe(2);
    expect(await ctx.store.listErrors({ mappingName: 'CUSTOMER' })).toEqual([]);
  } finally {
    await ctx.close();
  }
});

test('bulkSync and singleSync over the same records at the same time leave both sides consistent', async () => {
  const ctx = await openSyncContext(temporal, { syncOnlyCoupledRecords: false });
  const RECORDS = 600;
  try {
    for (let i = 0; i < RECORDS; i += 200) await ctx.sys.local('customer').insert(Array.from({ length: 200 }, (_, k) => customer(i + k)));
    await ctx.run(async ({ sync }) => {
      const ids = Array.from({ length: 60 }, (_, k) => `C${k * 10}`);
      const bulk = sync.bulkSync({ mapping: 'CUSTOMER', batchSize: 100 });
      const singles = Promise.all(ids.map((recordId) => sync.singleSync({ mapping: 'CUSTOMER', recordId })));
      const [bulkResult, singleResults] = await Promise.all([bulk, singles]);
      expect(bulkResult.jobs.every((j) => j.status === 'succeeded' && j.counters.failed === 0)).toBe(true);
      expect(singleResults.every((r) => r.jobs.every((j) => j.status === 'succeeded'))).toBe(true);

      // An edit while both kinds run again: the last writer is the newer value, never a duplicate.
      await ctx.sys.local('customer').whereIn('id', ids.slice(0, 10)).update({ city: 'Bergen', modified_on: tick() });
      await Promise.all([sync.bulkSync({ mapping: 'CUSTOMER' }), ...ids.slice(0, 10).map((recordId) => sync.singleSync({ mapping: 'CUSTOMER', recordId }))]);
    });
    const accounts = await ctx.rows('integration');
    expect(accounts).toHaveLength(RECORDS);
    expect(new Set(accounts.map((a) => a.name)).size).toBe(RECORDS);
    const couplings = await ctx.store.getCouplings(
      'CUSTOMER',
      'local',
      (await ctx.rows('local')).map((c) => String(c.id)),
    );
    expect(couplings).toHaveLength(RECORDS);
    expect(new Set(couplings.map((c) => c.integrationId)).size).toBe(RECORDS);
    const byId = new Map(accounts.map((a) => [String(a.id), a]));
    const locals = await ctx.rows('local');
    const mismatched = couplings.filter((c) => byId.get(c.integrationId)?.address1_city !== locals.find((l) => l.id === c.localId)?.city);
    expect(mismatched).toEqual([]);
  } finally {
    await ctx.close();
  }
});
