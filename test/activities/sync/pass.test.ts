/**
 * A pass's bookkeeping as activities (activities/sync/pass.ts): the job row
 * opens once whatever the retries, batches are planned as key ranges that
 * cover the scan exactly, and the watermark moves only for a run that still
 * holds the mapping's lease.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type FinishPassInput, type KeyRange, type PlanBatchesResult, type StartPassInput, type StartPassResult } from '../../../activities';
import { emptyCounters } from '../../../common/types';
import { sqliteDialect } from '../../helpers/stores';
import { customer, openTestSystems, testMapping } from '../../helpers/systems';

async function world(customers: number) {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  await store.saveMapping(testMapping({ direction: 'ToIntegrationTable' }));
  await sys.local('customer').insert(Array.from({ length: customers }, (_, i) => customer(i + 1)));
  const acts = createActivities({ store, systems: sys.systems });
  const close = async (): Promise<void> => {
    await sys.close();
    await cleanup();
  };
  return { store, acts, close };
}

const start: StartPassInput = {
  mapping: 'CUSTOMER',
  direction: 'ToIntegrationTable',
  jobId: 'job',
  type: 'Synchronization',
  workflowId: 'w',
  runId: 'r',
  fullSync: false,
};

test('the job opens once; 25 records plan as ranges of 10, 10 and 5 that chain and end the scan', async () => {
  const { store, acts, close } = await world(25);
  try {
    const env = new MockActivityEnvironment();
    const opened: StartPassResult = await env.run(acts.startPass, start);
    const again: StartPassResult = await env.run(acts.startPass, start);
    expect(again).toEqual(opened);
    expect(await store.listJobs({ mappingName: 'CUSTOMER' })).toHaveLength(1);
    const plan: PlanBatchesResult = await env.run(acts.planBatches, {
      ...start,
      since: opened.since,
      after: null,
      batchSize: 10,
      count: 5,
      counters: emptyCounters(),
    });
    expect(plan.ranges.map((r: KeyRange) => r.size)).toEqual([10, 10, 5]);
    expect(plan.ranges[0].after).toBeNull();
    expect(plan.ranges[1].after).toEqual(plan.ranges[0].through);
    expect(plan.ranges[2].after).toEqual(plan.ranges[1].through);
    expect(plan.exhausted).toBe(true);
  } finally {
    await close();
  }
});

test('finishPass moves the watermark for the lease holder; a run whose lease was taken fails its job and leaves the watermark', async () => {
  const { store, acts, close } = await world(3);
  try {
    const env = new MockActivityEnvironment();
    const lost = await store.acquireRunLock('CUSTOMER', 'old#1', 60_000);
    await store.releaseRunLock('CUSTOMER', 'old#1');
    await store.acquireRunLock('CUSTOMER', 'new#1', 60_000);
    const opened: StartPassResult = await env.run(acts.startPass, start);
    const watermark = { largestScanned: '2026-01-01T00:00:00.000Z', startedAt: opened.startedAt };
    const refused: { status: string } = await env.run(acts.finishPass, {
      ...start,
      counters: emptyCounters(),
      status: 'succeeded' as const,
      message: null,
      watermark,
      lease: lost,
    } satisfies FinishPassInput);
    expect(refused.status).toBe('failed');
    expect((await store.requireMapping('CUSTOMER')).localWatermark).toBeNull();
    expect((await store.getJob('job'))?.message).toContain('Another run took mapping CUSTOMER');

    const held = await store.acquireRunLock('CUSTOMER', 'new#1', 60_000);
    const moved: { status: string } = await env.run(acts.finishPass, {
      ...start,
      jobId: 'job2',
      counters: emptyCounters(),
      status: 'succeeded' as const,
      message: null,
      watermark,
      lease: held,
    });
    expect(moved.status).toBe('succeeded');
    expect((await store.requireMapping('CUSTOMER')).localWatermark).not.toBeNull();
  } finally {
    await close();
  }
});
