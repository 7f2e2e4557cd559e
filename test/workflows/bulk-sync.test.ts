/** bulkSync on the real dev server: rows on both sides, couplings, job counters and error rows. */
import { WorkflowFailedError } from '@temporalio/client';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account, customer, tick } from '../helpers/systems';
import type { Faults } from '../helpers/faulty-connector';
import { openSyncContext, type SyncContext } from '../helpers/sync-context';
import type { MappingDefinition } from '../../domain/mapping';
import { creationKey } from '../../domain/record-key';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

type Ctx = SyncContext;

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const setup = (mapping: Partial<MappingDefinition> = {}, faults: { integration?: Faults; local?: Faults } = {}): Promise<SyncContext> =>
  openSyncContext(temporal, mapping, faults);

async function accountOf(ctx: Ctx, localId: string): Promise<Record<string, unknown> | undefined> {
  const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', [localId]);
  if (!coupling) return undefined;
  return ctx.sys.integration('account').where('id', coupling.integrationId).first();
}

test('local to integration: inserts, then only the changed records, then nothing', async () => {
  const ctx = await setup();
  try {
    await ctx.sys.local('customer').insert([1, 2, 3, 4, 5].map((i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(first.jobs).toHaveLength(1);
      expect(first.jobs[0]).toMatchObject({
        status: 'succeeded',
        direction: 'ToIntegrationTable',
        counters: { inserted: 5, coupled: 5, modified: 0, failed: 0 },
      });
      const accounts = await ctx.rows('integration');
      expect(accounts).toHaveLength(5);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(5);
      expect(await accountOf(ctx, 'C3')).toMatchObject({ name: 'Customer 3', emailaddress1: 'c3@example.com', telephone1: '555-3', address1_city: 'Seattle' });

      await ctx.sys.local('customer').where('id', 'C2').update({ city: 'Atlanta', modified_on: tick() });
      await ctx.sys.local('customer').where('id', 'C4').update({ name: 'Renamed', modified_on: tick() });
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs[0].counters).toMatchObject({ inserted: 0, modified: 2, unchanged: 0, failed: 0 });
      expect(await accountOf(ctx, 'C2')).toMatchObject({ address1_city: 'Atlanta', name: 'Customer 2' });
      expect(await accountOf(ctx, 'C4')).toMatchObject({ name: 'Renamed' });

      const third = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(third.jobs[0].counters).toMatchObject({ inserted: 0, modified: 0, unchanged: 0 });
      const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(jobs.every((j) => j.workflowId === 'bulk-sync/CUSTOMER' && j.finishedAt !== null)).toBe(true);
    });
  } finally {
    await ctx.close();
  }
});

test('integration to local, and a record touched without value changes counts as unchanged and is not written', async () => {
  const ctx = await setup({ direction: 'FromIntegrationTable' });
  try {
    await ctx.sys.integration('account').insert([account('A1', { emailaddress1: 'a1@x.example' }), account('A2')]);
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(first.jobs[0]).toMatchObject({ direction: 'FromIntegrationTable', counters: { inserted: 2, coupled: 2 } });
      const customers = await ctx.rows('local');
      expect(customers.map((c) => c.name).sort()).toEqual(['Account A1', 'Account A2']);
      expect(customers.find((c) => c.name === 'Account A1')).toMatchObject({ email: 'a1@x.example' });

      const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'integration', ['A1']);
      const before = await ctx.sys.local('customer').where('id', coupling.localId).first();
      await ctx.sys.integration('account').where('id', 'A1').update({ modified_on: tick() });
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs[0].counters).toMatchObject({ unchanged: 1, modified: 0 });
      const after = await ctx.sys.local('customer').where('id', coupling.localId).first();
      expect(after.modified_on).toBe(before.modified_on);
      // Our own write stored both modified-on values, so the next run sees nothing.
      const third = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(third.jobs[0].counters).toMatchObject({ unchanged: 0, modified: 0 });
    });
  } finally {
    await ctx.close();
  }
});

describe('bidirectional update conflicts', () => {
  const conflictSetup = async (updateConflictResolution: 'None' | 'SendToIntegration' | 'GetFromIntegration') => {
    const ctx = await setup({ direction: 'Bidirectional', updateConflictResolution });
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    return ctx;
  };

  test('None: the record fails in both passes and becomes skipped, with error rows; the other record syncs', async () => {
    const ctx = await conflictSetup('None');
    try {
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER' });
        const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Local edit', modified_on: tick() });
        await ctx.sys.integration('account').where('id', c1.integrationId).update({ name: 'Remote edit', modified_on: tick() });
        await ctx.sys.local('customer').where('id', 'C2').update({ city: 'Oslo', modified_on: tick() });
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(run.jobs.map((j) => j.direction)).toEqual(['ToIntegrationTable', 'FromIntegrationTable']);
        expect(run.jobs[0].counters).toMatchObject({ failed: 1, modified: 1 });
        expect(run.jobs[1].counters).toMatchObject({ failed: 1 });
        const [after] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        // Counted per direction: one failure each, not yet skipped.
        expect(after).toMatchObject({
          skipped: false,
          toIntegrationFailureCount: 1,
          fromIntegrationFailureCount: 1,
          lastToIntegrationResult: 'Failure',
          lastFromIntegrationResult: 'Failure',
        });
        // The same failure again in a direction skips it.
        const again = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(again.jobs.map((j) => j.counters.failed)).toEqual([1, 0]);
        expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0]).toMatchObject({ skipped: true, toIntegrationFailureCount: 2 });
        const errors = await ctx.store.listErrors({ mappingName: 'CUSTOMER' });
        expect(errors).toHaveLength(3);
        expect(errors.every((e) => /changed on both sides/.test(e.message) && e.sourceRecordId !== 'C2')).toBe(true);
        // Neither side was overwritten.
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Remote edit' });
        expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ name: 'Local edit' });
        expect(await accountOf(ctx, 'C2')).toMatchObject({ address1_city: 'Oslo' });
        // Skipped records are excluded and counted as skipped until retried.
        await ctx.sys.local('customer').where('id', 'C1').update({ phone: '1', modified_on: tick() });
        const next = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
        expect(next.jobs[0].counters).toMatchObject({ skipped: 1, failed: 0 });
        // retryFailed with a chosen direction clears the flag and that direction wins.
        const retried = await sync.retryFailed({ mapping: 'CUSTOMER', includeSkipped: true, direction: 'ToIntegrationTable' });
        expect(retried.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Local edit', telephone1: '1' });
        const [cleared] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        expect(cleared).toMatchObject({ skipped: false, toIntegrationFailureCount: 0, lastToIntegrationResult: 'Success' });
      });
    } finally {
      await ctx.close();
    }
  });

  test.each([
    ['SendToIntegration', 'Local edit'],
    ['GetFromIntegration', 'Remote edit'],
  ] as const)("%s: the winning side's value ends on both sides", async (resolution, winner) => {
    const ctx = await conflictSetup(resolution);
    try {
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER' });
        const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Local edit', modified_on: tick() });
        await ctx.sys.integration('account').where('id', c1.integrationId).update({ name: 'Remote edit', modified_on: tick() });
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(run.jobs.reduce((n, j) => n + j.counters.failed, 0)).toBe(0);
        expect(run.jobs.reduce((n, j) => n + j.counters.modified, 0)).toBe(1);
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: winner });
        expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ name: winner });
        expect(await ctx.store.listErrors({ mappingName: 'CUSTOMER' })).toHaveLength(0);
      });
    } finally {
      await ctx.close();
    }
  });
});

describe('deletion conflicts', () => {
  test.each(['None', 'RemoveCoupling', 'RestoreRecords'] as const)('%s', async (deletionConflictResolution) => {
    const ctx = await setup({ deletionConflictResolution });
    try {
      await ctx.sys.local('customer').insert([customer(1), customer(2)]);
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER' });
        const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        await ctx.sys.integration('account').where('id', c1.integrationId).delete();
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Changed after delete', modified_on: tick() });
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        const counters = run.jobs[0].counters;
        const [after] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        const errors = await ctx.store.listErrors({ mappingName: 'CUSTOMER' });
        if (deletionConflictResolution === 'None') {
          expect(counters).toMatchObject({ failed: 1 });
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatchObject({ sourceRecordId: 'C1', destinationRecordId: c1.integrationId });
          expect(errors[0].message).toMatch(/coupled to a deleted record/);
          expect(after.lastToIntegrationResult).toBe('Failure');
          expect(await ctx.rows('integration')).toHaveLength(1);
          // Restore record, asked for this one: created again and coupled, whatever the resolution says.
          const restored = await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: ['C1'], restoreDeleted: true });
          expect(restored.jobs[0].counters).toMatchObject({ inserted: 1, failed: 0 });
          expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Changed after delete' });
          expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0]).toMatchObject({ lastToIntegrationResult: 'Success' });
          expect(await ctx.rows('integration')).toHaveLength(2);

          // Delete record, the other answer to a deletion conflict: the record whose counterpart is gone is deleted too.
          await ctx.sys
            .integration('account')
            .where('id', (await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0].integrationId)
            .delete();
          const [c2] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C2']);
          const deleted = await sync.uncouple({ mapping: 'CUSTOMER', recordIds: ['C1', 'C2'], deleteRecords: true });
          expect(deleted.jobs[0].counters).toMatchObject({ deleted: 1, uncoupled: 1, failed: 1 });
          expect(await ctx.sys.local('customer').where('id', 'C1').first()).toBeUndefined();
          expect(await ctx.store.getCouplings('CUSTOMER', 'local', ['C1'])).toEqual([]);
          // C2's counterpart exists: neither it nor its coupling is touched, and its error row says why.
          expect(await ctx.sys.local('customer').where('id', 'C2').first()).toBeDefined();
          expect(await ctx.store.getCouplings('CUSTOMER', 'local', ['C2'])).toEqual([c2]);
          const refused = await ctx.store.listErrors({ jobId: deleted.jobs[0].jobId });
          expect(refused).toEqual([expect.objectContaining({ sourceRecordId: 'C2', destinationRecordId: c2.integrationId })]);
          expect(refused[0].message).toMatch(/still exists/);
        } else if (deletionConflictResolution === 'RemoveCoupling') {
          expect(counters).toMatchObject({ uncoupled: 1, failed: 0 });
          expect(after).toBeUndefined();
          expect(await ctx.rows('integration')).toHaveLength(1);
          expect(await ctx.rows('local')).toHaveLength(2);
        } else {
          expect(counters).toMatchObject({ inserted: 1, failed: 0 });
          expect(after).toBeDefined();
          expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Changed after delete' });
          expect(await ctx.rows('integration')).toHaveLength(2);
        }
      });
    } finally {
      await ctx.close();
    }
  });
});

test('sync only coupled records, table filters, per-field direction, constants and transformations', async () => {
  const ctx = await setup({
    direction: 'Bidirectional',
    syncOnlyCoupledRecords: true,
    // Couplings made by hand were never synced: both sides count as changed, and local values win.
    updateConflictResolution: 'SendToIntegration',
    tableFilter: [{ field: 'country', op: 'in', value: ['us', 'gb'] }],
    fields: [
      {
        localField: 'name',
        integrationField: 'name',
        direction: 'Bidirectional',
        transformation: [{ type: 'trim' }, { type: 'titleCase' }],
        transformationDirection: 'ToIntegrationTable',
      },
      {
        localField: 'email',
        integrationField: 'emailaddress1',
        direction: 'ToIntegrationTable',
        transformation: [{ type: 'lowercase' }, { type: 'regexReplace', pattern: '@old\\.example$', replaceWith: '@new.example' }],
      },
      { localField: 'phone', integrationField: 'telephone1', direction: 'FromIntegrationTable' },
      {
        localField: 'city',
        integrationField: 'address1_city',
        direction: 'ToIntegrationTable',
        transformation: [{ type: 'uppercase' }, { type: 'truncate', length: 3 }, { type: 'replace', find: 'SEA', replaceWith: 'SEA-' }],
      },
      { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: 'Customer' },
      { localField: 'segment', integrationField: 'address1_country', direction: 'ToIntegrationTable', enabled: false },
    ],
  });
  try {
    await ctx.sys
      .local('customer')
      .insert([
        customer(1, { name: '  ada LOVELACE ', email: 'Ada@OLD.example', country: 'us' }),
        customer(2, { country: 'de' }),
        customer(3, { country: 'gb' }),
      ]);
    await ctx.sys.integration('account').insert([account('A1', { telephone1: '+44 1' }), account('A2'), account('A3')]);
    // Couple C1 and C2 by hand; C3 stays uncoupled and must be ignored.
    await ctx.store.insertCouplings(await ctx.store.requireMapping('CUSTOMER'), null, 'manual', [
      { localId: 'C1', integrationId: 'A1', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
      { localId: 'C2', integrationId: 'A2', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
    ]);
    await ctx.run(async ({ sync }) => {
      const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(run.jobs[0].counters).toMatchObject({ modified: 1, inserted: 0 });
      // The never-synced pair is then pending from the integration side, which carries its one-way field.
      expect(run.jobs[1].counters).toMatchObject({ modified: 1, inserted: 0 });
      const a1 = await ctx.sys.integration('account').where('id', 'A1').first();
      expect(a1).toMatchObject({
        name: 'Ada Lovelace',
        emailaddress1: 'ada@new.example',
        address1_city: 'SEA-',
        customertypecode: 'Customer',
        address1_country: null,
        telephone1: '+44 1',
      });
      // C2 is outside the filter, C3 is not coupled: neither is touched.
      expect(await ctx.sys.integration('account').where('id', 'A2').first()).toMatchObject({ name: 'Account A2', customertypecode: null });
      expect(await ctx.rows('integration')).toHaveLength(3);
      // The from-integration pass brought A1's phone, and the name as A1 has it (the transformation is To-only).
      expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ phone: '+44 1', name: 'Ada Lovelace' });
      // Both writes were recorded: nothing comes back.
      const quiet = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(quiet.jobs.map((j) => j.counters.modified)).toEqual([0, 0]);
      // A change on A1: only From and Bidirectional fields come back, untransformed (the rule is To-only).
      await ctx.sys.integration('account').where('id', 'A1').update({ telephone1: '+44 2', emailaddress1: 'ignored@x.example', modified_on: tick() });
      const back = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(back.jobs[1]).toMatchObject({ direction: 'FromIntegrationTable', counters: { modified: 1 } });
      const c1 = await ctx.sys.local('customer').where('id', 'C1').first();
      expect(c1).toMatchObject({ phone: '+44 2', name: 'Ada Lovelace', email: 'Ada@OLD.example', city: 'Seattle' });
    });
  } finally {
    await ctx.close();
  }
});

test('retries exhausted on one record of a batch of 50: one error row, 49 synced, workflow completed', async () => {
  const badKey = creationKey('CUSTOMER', 'local', 'C17');
  const ctx = await setup({}, { integration: { failIds: new Set([badKey]) } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 50 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const handle = await sync.startBulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      const result = await handle.result();
      expect(result.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 49, coupled: 49, failed: 1 } });
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await ctx.rows('integration')).toHaveLength(49);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(49);
      const errors = await ctx.store.listErrors({ mappingName: 'CUSTOMER' });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ sourceRecordId: 'C17', attempts: 3, jobId: result.jobs[0].jobId });
      expect(errors[0].message).toMatch(/locked by another user/);
      // The 49 were applied once: one create call for the batch, then retries of the failing record only.
      expect(ctx.faulty.integration?.calls.createMany).toBe(3);
      const [job] = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(job.counters).toMatchObject({ inserted: 49, failed: 1 });
    });
  } finally {
    await ctx.close();
  }
});

test('a crash after the remote create and before the coupling write creates nothing twice', async () => {
  const ctx = await setup({}, { integration: { crashAfterCreateCalls: 0 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 20 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const result = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(ctx.faulty.integration?.calls.crashes).toBe(1);
      expect(ctx.faulty.integration?.calls.createMany).toBe(2);
      expect(result.jobs[0].counters).toMatchObject({ inserted: 20, coupled: 20, failed: 0 });
      expect(await ctx.rows('integration')).toHaveLength(20);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(20);
      const names = (await ctx.rows('integration')).map((r) => r.name);
      expect(new Set(names).size).toBe(20);
    });
  } finally {
    await ctx.close();
  }
});

test('one bulk run per mapping: two starts at once get the same run', async () => {
  const ctx = await setup({}, { integration: { delayMs: 300 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 10 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const [a, b] = await Promise.all([sync.startBulkSync({ mapping: 'CUSTOMER' }), sync.startBulkSync({ mapping: 'CUSTOMER' })]);
      expect(a.workflowId).toBe(b.workflowId);
      expect(a.firstExecutionRunId).toBe(b.firstExecutionRunId);
      await a.result();
      expect(await ctx.store.listJobs({ mappingName: 'CUSTOMER' })).toHaveLength(1);
      expect(await ctx.rows('integration')).toHaveLength(10);
    });
  } finally {
    await ctx.close();
  }
});

test('a start that finds its run already going joins it only for the same request; another request is refused, naming the run', async () => {
  const ctx = await setup({}, { integration: { delayMs: 300 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 10 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      const request = { mapping: 'CUSTOMER', recordIds: ['C1', 'C2', 'C3', 'C4'], batchSize: 1, maxBatchesInFlight: 1, batchesPerRun: 2 };
      const running = await sync.startBulkSync(request);
      // All records is another request: joining would report the four-record run as if it had synced everything.
      const other = await sync.startBulkSync({ mapping: 'CUSTOMER' }).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(Error);
      expect((other as Error).message).toMatch(/bulk-sync\/CUSTOMER is already running another request/);
      // The same request joins, also once the run has continued as new.
      await waitFor(async () => (await running.describe()).runId !== running.firstExecutionRunId);
      const again = await sync.startBulkSync({ ...request, retry: { maximumAttempts: 2 } });
      expect(again.firstExecutionRunId).toBe(running.firstExecutionRunId);
      await running.result();
      expect(await ctx.rows('integration')).toHaveLength(4);
    });
  } finally {
    await ctx.close();
  }
});

test('ids of the other side are resolved once, when the pass starts, and carried across continue-as-new', async () => {
  const ctx = await setup({}, { integration: { delayMs: 50 } });
  try {
    await ctx.sys.local('customer').insert([1, 2, 3, 4].map((i) => customer(i)));
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'CUSTOMER' });
      const ids: string[] = [];
      for (const id of ['C1', 'C2', 'C3', 'C4']) {
        await ctx.sys
          .local('customer')
          .where('id', id)
          .update({ city: `City of ${id}`, modified_on: tick() });
        ids.push(String((await accountOf(ctx, id))?.id));
      }
      // The missing id comes last: a resumed run that resolved the given list again would refuse it twice.
      const handle = await sync.startBulkSync({
        mapping: 'CUSTOMER',
        direction: 'ToIntegrationTable',
        recordIds: [...ids, 'A-missing'],
        side: 'integration',
        batchSize: 1,
        maxBatchesInFlight: 1,
        batchesPerRun: 2,
      });
      const result = await handle.result();
      expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
      expect(result.jobs).toHaveLength(1);
      expect(result.jobs[0].counters).toMatchObject({ modified: 4, failed: 1, inserted: 0, unchanged: 0 });
      for (const id of ['C1', 'C2', 'C3', 'C4']) expect(await accountOf(ctx, id)).toMatchObject({ address1_city: `City of ${id}` });
      const errors = await ctx.store.listErrors({ jobId: result.jobs[0].jobId });
      expect(errors.map((e) => [e.sourceRecordId, e.message])).toEqual([['A-missing', expect.stringMatching(/integration record A-missing does not exist/)]]);
    });
  } finally {
    await ctx.close();
  }
});

test('a start cannot resume, forge or skip anything through a continuation: only the run that wrote it may continue its job', async () => {
  const ctx = await setup({}, { integration: { delayMs: 200 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 6 }, (_, i) => customer(i)));
    await ctx.run(async ({ sync, taskQueue }) => {
      const running = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 1, maxBatchesInFlight: 1, batchesPerRun: 2 });
      await waitFor(async () => (await ctx.store.listJobs({ mappingName: 'CUSTOMER' })).length > 0);
      const [job] = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      // Another workflow (a Web UI start) naming the running job.
      const forged = await temporal.client.workflow.start('bulkSyncWorkflow', {
        taskQueue,
        workflowId: `forged-${job.id}`,
        args: [{ mapping: 'CUSTOMER', continuation: { jobId: job.id } }],
      });
      const error = await forged.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(new RegExp(`Field "continuation": job ${job.id} belongs to another run`));
      const result = await running.result();
      expect(result.jobs[0].counters).toMatchObject({ inserted: 6, coupled: 6, failed: 0 });
      // Once finished, not even its own workflow id can continue it.
      const late = await temporal.client.workflow.start('bulkSyncWorkflow', {
        taskQueue,
        workflowId: running.workflowId,
        args: [{ mapping: 'CUSTOMER', continuation: { jobId: job.id } }],
      });
      expect(((await late.result().catch((e: unknown) => e)) as WorkflowFailedError).cause?.message).toMatch(
        /belongs to another run|is succeeded, not running/,
      );
      expect(await ctx.store.getJob(job.id)).toMatchObject({ status: 'succeeded', counters: { inserted: 6 } });
    });
  } finally {
    await ctx.close();
  }
});

test('10,000 records in batches, continuing as new, with no field values in any history', async () => {
  const ctx = await setup();
  try {
    const rows = Array.from({ length: 10_000 }, (_, i) => customer(i, { name: `Secret Name ${i}`, email: `secret${i}@private.example` }));
    await ctx.sys.local.batchInsert('customer', rows, 500);
    await ctx.run(async ({ sync }) => {
      const handle = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 500, batchesPerRun: 8 });
      const result = await handle.result();
      expect(result.jobs[0].counters).toMatchObject({ inserted: 10_000, coupled: 10_000, failed: 0 });
      expect(await ctx.sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 10_000 });
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(10_000);
      // Walk the continue-as-new chain: every run's history is small and holds no record contents.
      let runId: string | undefined = handle.firstExecutionRunId;
      let runs = 0;
      while (runId) {
        const history: Awaited<ReturnType<ReturnType<typeof temporal.client.workflow.getHandle>['fetchHistory']>> = await temporal.client.workflow
          .getHandle(handle.workflowId, runId)
          .fetchHistory();
        const events = history.events ?? [];
        const text = JSON.stringify(history);
        expect(text).not.toMatch(/Secret Name|secret\d+@private/);
        expect(events.length).toBeLessThan(1000);
        runs++;
        const last = events.length ? events[events.length - 1] : undefined;
        runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      expect(runs).toBeGreaterThan(1);
    });
  } finally {
    await ctx.close();
  }
});

test('bad input fails at once, naming the field, and writes nothing', async () => {
  const ctx = await setup();
  try {
    await ctx.run(async ({ taskQueue }) => {
      const cases: [unknown, RegExp][] = [
        [{}, /field "mapping" is required/],
        [{ mapping: 'CUSTOMER', direction: 'Both' }, /field "direction" must be one of "ToIntegrationTable", "FromIntegrationTable"/],
        [{ mapping: 'CUSTOMER', batchSize: 'big' }, /field "batchSize"/],
        [{ mapping: 'CUSTOMER', colour: 'red' }, /unknown field "colour"/],
        [{ mapping: 'NOPE' }, /Field "mapping": no integration table mapping named "NOPE"/],
      ];
      for (const [input, message] of cases) {
        const handle = await temporal.client.workflow.start('bulkSyncWorkflow', { taskQueue, workflowId: `bad-${Math.random()}`, args: [input] });
        const error = await handle.result().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        expect((error as WorkflowFailedError).cause?.message).toMatch(message);
      }
      expect(await ctx.store.listJobs()).toHaveLength(0);
      expect(await ctx.store.listErrors()).toHaveLength(0);
    });
  } finally {
    await ctx.close();
  }
});
