/** singleSync, retryFailed, throttling and cancellation on the real dev server. */
import { Client, WorkflowFailedError } from '@temporalio/client';
import { CouplingSyncClient } from '../../client';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { customer, tick } from '../helpers/systems';
import type { Faults } from '../helpers/faulty-connector';
import { openSyncContext } from '../helpers/sync-context';
import type { MappingDefinition } from '../../domain/mapping';
import { creationKey } from '../../domain/record-key';

const FAST_RETRY = { maximumAttempts: 2, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const setup = (mapping: Partial<MappingDefinition> = {}, faults?: Faults) => openSyncContext(temporal, mapping, { integration: faults });

test('singleSync creates and couples an uncoupled record even when the mapping syncs only coupled ones, then pushes changes', async () => {
  const ctx = await setup({ syncOnlyCoupledRecords: true });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await ctx.run(async ({ sync }) => {
      const first = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(first.jobs[0]).toMatchObject({ direction: 'ToIntegrationTable', counters: { inserted: 1, coupled: 1 } });
      const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      expect(coupling.integrationId).toBe(creationKey('CUSTOMER', 'local', 'C1'));
      expect(await ctx.sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });

      await ctx.sys.local('customer').where('id', 'C1').update({ name: 'New name', modified_on: tick() });
      const second = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(second.jobs[0].counters).toMatchObject({ modified: 1 });
      expect(await ctx.sys.integration('account').where('id', coupling.integrationId).first()).toMatchObject({ name: 'New name' });
      const third = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(third.jobs[0].counters).toMatchObject({ modified: 0, unchanged: 1 });
    });
  } finally {
    await ctx.close();
  }
});

test('an embedded client with eagerStart gets the first workflow task in the start response, with the same result', async () => {
  const ctx = await setup({ syncOnlyCoupledRecords: true });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ taskQueue }) => {
      // The worker's own NativeConnection: what a service embedding the worker would share.
      const embedded = new CouplingSyncClient({ client: new Client({ connection: temporal.nativeConnection }), taskQueue, eagerStart: true });
      const handle = await embedded.startSingleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(handle.eagerlyStarted).toBe(true);
      const result = await handle.result();
      expect(result.jobs[0]).toMatchObject({ direction: 'ToIntegrationTable', counters: { inserted: 1, coupled: 1 } });
      // A bad input is still refused by the client before anything starts.
      await expect(embedded.startSingleSync({ mapping: 'CUSTOMER', recordId: '' })).rejects.toThrow(/recordId/);
    });
    // A client on its own gRPC connection cannot ask for it.
    const remote = new CouplingSyncClient({ client: temporal.client, eagerStart: true });
    await expect(remote.startSingleSync({ mapping: 'CUSTOMER', recordId: 'C1' })).rejects.toThrow(/NativeConnection/);
  } finally {
    await ctx.close();
  }
});

test('singleSync of a bidirectional record pulls the side that changed; both changed and no rule -> skipped until a direction is chosen', async () => {
  const ctx = await setup({ direction: 'Bidirectional' });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      await ctx.sys.integration('account').where('id', coupling.integrationId).update({ address1_city: 'Oslo', modified_on: tick() });
      const pulled = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(pulled.jobs[0]).toMatchObject({ direction: 'FromIntegrationTable', counters: { modified: 1 } });
      expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ city: 'Oslo' });

      await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Local', modified_on: tick() });
      await ctx.sys.integration('account').where('id', coupling.integrationId).update({ name: 'Remote', modified_on: tick() });
      const conflict = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1' });
      expect(conflict.jobs[0].counters).toMatchObject({ failed: 1, modified: 0 });
      const [skipped] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      expect(skipped.skipped).toBe(true);
      const errors = await ctx.store.listErrors({ jobId: conflict.jobs[0].jobId });
      expect(errors[0].message).toMatch(/changed on both sides/);

      const chosen = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1', direction: 'FromIntegrationTable' });
      expect(chosen.jobs[0]).toMatchObject({ direction: 'FromIntegrationTable', counters: { modified: 1 } });
      expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ name: 'Remote' });
      const [after] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      expect(after).toMatchObject({ skipped: false, lastFromIntegrationResult: 'Success' });
    });
  } finally {
    await ctx.close();
  }
});

test('singleSync refuses a direction the mapping does not allow, naming the field', async () => {
  const ctx = await setup({ direction: 'ToIntegrationTable' });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      const error = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1', direction: 'FromIntegrationTable' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(/Field "direction": mapping CUSTOMER is ToIntegrationTable/);
      expect(await ctx.store.listJobs()).toHaveLength(0);
    });
  } finally {
    await ctx.close();
  }
});

test('retryFailed re-runs failed records once the cause is gone', async () => {
  const badKey = creationKey('CUSTOMER', 'local', 'C2');
  const failIds = new Set([badKey]);
  const ctx = await setup({}, { failIds });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2), customer(3)]);
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(first.jobs[0].counters).toMatchObject({ inserted: 2, failed: 1 });
      // The record could not be created, so it has no coupling yet: make it a coupled record failing an update instead.
      failIds.clear();
      await sync.bulkSync({ mapping: 'CUSTOMER', fullSync: true });
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(3);
      failIds.add(badKey);
      await ctx.sys.local('customer').where('id', 'C2').update({ name: 'Will fail', modified_on: tick() });
      const failing = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(failing.jobs[0].counters).toMatchObject({ failed: 1 });
      const [failed] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C2']);
      expect(failed).toMatchObject({ lastToIntegrationResult: 'Failure', toIntegrationFailureCount: 1, skipped: false });

      failIds.clear();
      const retried = await sync.retryFailed({ mapping: 'CUSTOMER' });
      expect(retried.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
      expect(await ctx.sys.integration('account').where('id', badKey).first()).toMatchObject({ name: 'Will fail' });
      const [fixed] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C2']);
      expect(fixed).toMatchObject({ lastToIntegrationResult: 'Success', toIntegrationFailureCount: 0 });
    });
  } finally {
    await ctx.close();
  }
});

test('throttling waits for Retry-After and never becomes an error row', async () => {
  const ctx = await setup({}, { throttle: { calls: 3, retryAfterMs: 400 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 30 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const started = Date.now();
      // Two attempts only: the three throttled attempts must not count against them.
      const result = await sync.bulkSync({ mapping: 'CUSTOMER', retry: { maximumAttempts: 2, initialIntervalMs: 20 } });
      const elapsed = Date.now() - started;
      expect(ctx.faulty.integration?.calls.throttled).toBe(3);
      expect(elapsed).toBeGreaterThanOrEqual(3 * 400);
      expect(result.jobs[0].counters).toMatchObject({ inserted: 30, failed: 0 });
      expect(await ctx.store.listErrors()).toHaveLength(0);
    });
  } finally {
    await ctx.close();
  }
});

test('cancelling a bulk run finishes the batches in flight and closes the job as cancelled', async () => {
  const ctx = await setup({}, { delayMs: 250 });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 200 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const handle = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 10, maxBatchesInFlight: 2 });
      // Cancel once some batches are done (polled, not timed: a loaded machine takes longer to get there).
      let progress = await sync.progress(handle.workflowId);
      for (let waited = 0; progress.counters.inserted === 0 && waited < 60_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        progress = await sync.progress(handle.workflowId);
      }
      expect(progress.phase).toBe('running');
      expect(progress.counters.inserted).toBeGreaterThan(0);
      await sync.cancel(handle.workflowId);
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      const [job] = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(job.status).toBe('cancelled');
      const created = Number((await ctx.sys.integration('account').count({ n: '*' }).first())?.n);
      expect(created).toBeLessThan(200);
      // Counters match what was really written: nothing half-done, nothing lost.
      expect(job.counters.inserted).toBe(created);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(created);
    });
  } finally {
    await ctx.close();
  }
});

test('singleSync of a record that keeps failing ends with an error row after its attempts, not a failed workflow', async () => {
  const ctx = await setup({}, { failIds: new Set([creationKey('CUSTOMER', 'local', 'C1')]) });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      const result = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C1', retry: { maximumAttempts: 3, initialIntervalMs: 20 } });
      expect(result.jobs[0].counters).toMatchObject({ failed: 1, inserted: 0 });
      const errors = await ctx.store.listErrors({ jobId: result.jobs[0].jobId });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ sourceRecordId: 'C1', attempts: 3 });
      expect(ctx.faulty.integration?.calls.createMany).toBe(3);
    });
  } finally {
    await ctx.close();
  }
});
