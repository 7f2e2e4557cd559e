/**
 * One writer per mapping (#13 items 2 and 3): the runs that page through a
 * whole mapping (bulk sync, retryFailed, match-based coupling, uncouple-all)
 * hold its lease; single syncs and Set Up Coupling use conditional writes and
 * run beside them. A run whose lease was taken stops before its next write; a
 * terminated holder is replaced at once, and the job rows it left open are
 * closed as abandoned.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account, customer } from '../helpers/systems';
import { openSyncContext } from '../helpers/sync-context';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const causeOf = async (run: Promise<unknown>): Promise<string> => {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause?.message ?? '';
};

test('while a bulk run holds the mapping, match, uncouple-all and retryFailed are refused naming it; single syncs and Set Up Coupling go on', async () => {
  const ctx = await openSyncContext(temporal, { syncOnlyCoupledRecords: false }, { integration: { delayMs: 300 } });
  try {
    await ctx.sys.local('customer').insert([...Array.from({ length: 8 }, (_, i) => customer(i)), customer(90, { email: 'x@example.com' })]);
    await ctx.sys.integration('account').insert([account('A90')]);
    await ctx.run(async ({ sync }) => {
      const bulk = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 1, maxBatchesInFlight: 1 });
      await waitFor(async () => (await sync.progress(bulk.workflowId)).batchesCompleted > 0);
      const busy = /Mapping CUSTOMER is already being worked on by workflow bulk-sync\/CUSTOMER/;
      expect(await causeOf(sync.matchBasedCoupling({ mapping: 'CUSTOMER' }))).toMatch(busy);
      expect(await causeOf(sync.uncouple({ mapping: 'CUSTOMER', all: true }))).toMatch(busy);
      expect(await causeOf(sync.retryFailed({ mapping: 'CUSTOMER' }))).toMatch(busy);
      const single = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C7' });
      expect(single.jobs[0].counters.failed).toBe(0);
      const coupled = await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C90', integrationId: 'A90' });
      expect(coupled.jobs[0].counters.coupled).toBe(1);
      const result = await bulk.result();
      expect(result.jobs[0].status).toBe('succeeded');
      // Every customer has one account: the single sync's create and the bulk run's were one.
      expect(await ctx.rows('integration')).toHaveLength(9);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(9);
    });
  } finally {
    await ctx.close();
  }
});

test('a run whose lease was taken by another stops before its next write, and its job says so', async () => {
  const ctx = await openSyncContext(temporal, { syncOnlyCoupledRecords: false }, { integration: { delayMs: 200 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 12 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const bulk = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 1, maxBatchesInFlight: 1 });
      await waitFor(async () => (await sync.progress(bulk.workflowId)).batchesCompleted >= 2);
      // Another run takes the mapping (as after an expired lease): a new holder and a new token.
      await ctx.store
        .knex('mapping_run_locks')
        .where('mapping_name', 'CUSTOMER')
        .update({ holder: 'other-run#r1', token: ctx.store.knex.raw('token + 1') });
      const written = (await ctx.rows('integration')).length;
      expect(await causeOf(bulk.result())).toMatch(/Mapping CUSTOMER was taken over by workflow other-run .*stopped before writing/);
      // At most the one batch that was writing when the lease went.
      expect((await ctx.rows('integration')).length).toBeLessThanOrEqual(written + 1);
      const [job] = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(job).toMatchObject({ status: 'failed' });
      expect(job.message).toMatch(/taken over by workflow other-run/);
      expect(await ctx.store.listErrors({ jobId: job.id })).toEqual([]);
      expect((await ctx.store.requireMapping('CUSTOMER')).localWatermark).toBeNull();
    });
  } finally {
    await ctx.close();
  }
});

test('a terminated run is replaced at once, not after its lease expires, and its open job is closed as abandoned', async () => {
  const ctx = await openSyncContext(temporal, { syncOnlyCoupledRecords: false }, { integration: { delayMs: 200 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 10 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const first = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 1, maxBatchesInFlight: 1 });
      await waitFor(async () => (await sync.progress(first.workflowId)).batchesCompleted > 0);
      await first.terminate('an operator stopped it');
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs[0]).toMatchObject({ status: 'succeeded' });
      const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      const abandoned = jobs.find((j) => j.id !== second.jobs[0].jobId);
      expect(abandoned).toMatchObject({ status: 'abandoned' });
      expect(abandoned?.finishedAt).not.toBeNull();
      expect(await ctx.rows('integration')).toHaveLength(10);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(10);
    });
  } finally {
    await ctx.close();
  }
});
