/**
 * Issue #12's defects, each as the situation an administrator meets, on the
 * real dev server: no change is overwritten silently, lost, or left where no
 * command reaches it.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { CouplingSyncClient } from '../../client';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account, customer, testMapping, tick } from '../helpers/systems';
import { createCustomerTable } from '../../worker/demo/demo-data';
import type { Faults } from '../helpers/faulty-connector';
import { openSyncContext, type SyncContext } from '../helpers/sync-context';
import type { FieldMappingDefinition, MappingDefinition } from '../../domain/mapping';

const FAST_RETRY = { maximumAttempts: 2, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const setup = (mapping: Partial<MappingDefinition> = {}, faults: { integration?: Faults; local?: Faults } = {}): Promise<SyncContext> =>
  openSyncContext(temporal, mapping, faults);

async function accountOf(ctx: SyncContext, localId: string): Promise<Record<string, unknown> | undefined> {
  const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', [localId]);
  if (!coupling) return undefined;
  return ctx.sys.integration('account').where('id', coupling.integrationId).first();
}

const localRow = (ctx: SyncContext, id: string): Promise<Record<string, unknown> | undefined> => ctx.sys.local('customer').where('id', id).first();

describe('a fresh coupling counts as changed on both sides', () => {
  const fresh = async (updateConflictResolution: MappingDefinition['updateConflictResolution']) => {
    const ctx = await setup({ direction: 'Bidirectional', syncOnlyCoupledRecords: true, updateConflictResolution });
    await ctx.sys.local('customer').insert([customer(1, { name: 'Local name' })]);
    await ctx.sys
      .integration('account')
      .insert([account('A1', { name: 'Remote name', emailaddress1: 'c1@example.com', telephone1: '555-1', address1_city: 'Seattle' })]);
    return ctx;
  };

  test.each([
    ['GetFromIntegration', 'Remote name'],
    ['SendToIntegration', 'Local name'],
  ] as const)("%s after Set Up Coupling: the winner's value ends on both sides", async (resolution, winner) => {
    const ctx = await fresh(resolution);
    try {
      await ctx.run(async ({ sync }) => {
        await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(run.jobs.reduce((n, j) => n + j.counters.failed, 0)).toBe(0);
        expect(await localRow(ctx, 'C1')).toMatchObject({ name: winner });
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: winner });
      });
    } finally {
      await ctx.close();
    }
  });

  test('None: the record fails with the conflict message and neither side is overwritten; syncAfter too', async () => {
    const ctx = await fresh('None');
    try {
      await ctx.run(async ({ sync }) => {
        const coupled = await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1', syncAfter: true });
        const syncJob = coupled.jobs.find((j) => j.type === 'Synchronization');
        expect(syncJob?.counters).toMatchObject({ failed: 1, modified: 0 });
        expect((await ctx.store.listErrors({ jobId: syncJob?.jobId }))[0].message).toMatch(/changed on both sides/);
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(run.jobs.map((j) => j.counters.modified)).toEqual([0, 0]);
        expect(await localRow(ctx, 'C1')).toMatchObject({ name: 'Local name' });
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Remote name' });
      });
    } finally {
      await ctx.close();
    }
  });

  test('given ids with includeSkipped and a direction: that direction wins the conflict and the skipped flag is cleared; without, they stay skipped', async () => {
    const ctx = await fresh('None');
    try {
      await ctx.run(async ({ sync }) => {
        await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
        await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
        await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
        expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0]).toMatchObject({ skipped: true });

        const plain = await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: ['C1'], direction: 'ToIntegrationTable' });
        expect(plain.jobs[0].counters).toMatchObject({ skipped: 1, modified: 0 });

        const chosen = await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: ['C1'], direction: 'ToIntegrationTable', includeSkipped: true });
        expect(chosen.jobs[0].counters).toMatchObject({ modified: 1, failed: 0, skipped: 0 });
        expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Local name' });
        expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0]).toMatchObject({ skipped: false, lastToIntegrationResult: 'Success' });
        await expect(sync.startBulkSync({ mapping: 'CUSTOMER', includeSkipped: true })).rejects.toThrow(/includeSkipped/);
      });
    } finally {
      await ctx.close();
    }
  });

  test('values that agree are recorded as synced, and the next run writes nothing', async () => {
    const ctx = await fresh('None');
    try {
      await ctx.sys.integration('account').where('id', 'A1').update({ name: 'Local name' });
      await ctx.run(async ({ sync }) => {
        await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
        const first = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(first.jobs.map((j) => j.counters)).toEqual([
          expect.objectContaining({ unchanged: 1, modified: 0, failed: 0 }),
          expect.objectContaining({ modified: 0, failed: 0 }),
        ]);
        const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        expect(coupling).toMatchObject({ lastToIntegrationResult: 'Success', lastFromIntegrationResult: 'Success' });
        const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(second.jobs.map((j) => j.counters.modified + j.counters.failed)).toEqual([0, 0]);
      });
    } finally {
      await ctx.close();
    }
  });
});

test('a one-way change on each side inside one bidirectional run: both are carried, none is lost', async () => {
  const fields: FieldMappingDefinition[] = [
    { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
    { localField: 'city', integrationField: 'address1_city', direction: 'ToIntegrationTable' },
    { localField: 'phone', integrationField: 'telephone1', direction: 'FromIntegrationTable' },
  ];
  const ctx = await setup({ direction: 'Bidirectional', syncOnlyCoupledRecords: false, fields });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'CUSTOMER' });
      const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      await ctx.sys.local('customer').where('id', 'C1').update({ city: 'Oslo', modified_on: tick() });
      await ctx.sys.integration('account').where('id', coupling.integrationId).update({ telephone1: '999', modified_on: tick() });
      const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(run.jobs.map((j) => j.counters.modified)).toEqual([1, 1]);
      expect(await accountOf(ctx, 'C1')).toMatchObject({ address1_city: 'Oslo', telephone1: '999' });
      expect(await localRow(ctx, 'C1')).toMatchObject({ city: 'Oslo', phone: '999' });
    });
  } finally {
    await ctx.close();
  }
});

test('a conflict is skipped per direction: two runs with the same failure, not one', async () => {
  const ctx = await setup({ direction: 'Bidirectional', syncOnlyCoupledRecords: false });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'CUSTOMER' });
      const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Local edit', modified_on: tick() });
      await ctx.sys.integration('account').where('id', c1.integrationId).update({ name: 'Remote edit', modified_on: tick() });
      const first = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(first.jobs.map((j) => j.counters.failed)).toEqual([1, 1]);
      expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0].skipped).toBe(false);
      // The second run's first pass fails it a second time in its direction: skipped, so the other pass no longer retries it.
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs.map((j) => j.counters.failed)).toEqual([1, 0]);
      expect((await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']))[0]).toMatchObject({
        skipped: true,
        toIntegrationFailureCount: 2,
        fromIntegrationFailureCount: 1,
      });
      const third = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(third.jobs.map((j) => j.counters.failed)).toEqual([0, 0]);
    });
  } finally {
    await ctx.close();
  }
});

test('a failed create is retried at the start of every run and by retryFailed, and listed as pending', async () => {
  const rejectValues = (values: Record<string, unknown>): boolean => String(values.name ?? '').includes('!');
  const faults: Faults = { rejectValues };
  const ctx = await setup({ syncOnlyCoupledRecords: false }, { integration: faults });
  try {
    await ctx.sys.local('customer').insert([customer(1, { name: 'Bad!' }), customer(2)]);
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(first.jobs[0].counters).toMatchObject({ inserted: 1, failed: 1 });
      // The typed client lists it as pending.
      const client = new CouplingSyncClient({ client: temporal.client, store: ctx.store });
      expect(await client.listPendingCreates({ mapping: 'CUSTOMER' })).toEqual([
        expect.objectContaining({ side: 'local', recordId: 'C1', failureCount: 1, skipped: false }),
      ]);
      // The cause goes away; the record did not change, yet the next run creates it.
      faults.rejectValues = undefined;
      const second = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(second.jobs[0].counters).toMatchObject({ inserted: 1, coupled: 1, failed: 0 });
      expect(await accountOf(ctx, 'C1')).toMatchObject({ name: 'Bad!' });
      expect(await ctx.store.listUncoupledFailures('CUSTOMER')).toEqual([]);

      // retryFailed reaches one too; the same failure twice skips it.
      faults.rejectValues = rejectValues;
      await ctx.sys.local('customer').insert([customer(3, { name: 'Worse!' })]);
      await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      const retried = await sync.retryFailed({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(retried.jobs[0].counters).toMatchObject({ failed: 1 });
      expect(await ctx.store.listUncoupledFailures('CUSTOMER')).toEqual([expect.objectContaining({ recordId: 'C3', skipped: true })]);
      faults.rejectValues = undefined;
      const again = await sync.retryFailed({ mapping: 'CUSTOMER', includeSkipped: true, retry: FAST_RETRY });
      expect(again.jobs[0].counters).toMatchObject({ inserted: 1, failed: 0 });
    });
  } finally {
    await ctx.close();
  }
});

describe("deletions on the source side follow the mapping's rule, in both directions", () => {
  test.each([
    ['ToIntegrationTable', 'DeleteCounterpart'],
    ['ToIntegrationTable', 'RemoveCoupling'],
    ['FromIntegrationTable', 'DeleteCounterpart'],
    ['FromIntegrationTable', 'RemoveCoupling'],
  ] as const)('%s, %s', async (direction, sourceDeletion) => {
    const ctx = await setup({ direction, syncOnlyCoupledRecords: false, sourceDeletion } as Partial<MappingDefinition>);
    try {
      if (direction === 'ToIntegrationTable') await ctx.sys.local('customer').insert([customer(1), customer(2)]);
      else await ctx.sys.integration('account').insert([account('A1'), account('A2')]);
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER' });
        const sourceSide = direction === 'ToIntegrationTable' ? 'local' : 'integration';
        const sourceId = sourceSide === 'local' ? 'C1' : 'A1';
        const [coupling] = await ctx.store.getCouplings('CUSTOMER', sourceSide, [sourceId]);
        const counterpart = sourceSide === 'local' ? coupling.integrationId : coupling.localId;
        if (sourceSide === 'local') await ctx.sys.local('customer').where('id', 'C1').delete();
        else await ctx.sys.integration('account').where('id', 'A1').delete();
        const run = await sync.bulkSync({ mapping: 'CUSTOMER' });
        const destination = sourceSide === 'local' ? await ctx.rows('integration') : await ctx.rows('local');
        expect(await ctx.store.getCouplings('CUSTOMER', sourceSide, [sourceId])).toEqual([]);
        if (sourceDeletion === 'DeleteCounterpart') {
          expect(run.jobs[0].counters).toMatchObject({ deleted: 1, uncoupled: 1, failed: 0 });
          expect(destination.map((r) => r.id)).not.toContain(counterpart);
        } else {
          expect(run.jobs[0].counters).toMatchObject({ deleted: 0, uncoupled: 1, failed: 0 });
          expect(destination.map((r) => r.id)).toContain(counterpart);
        }
        expect(destination).toHaveLength(sourceDeletion === 'DeleteCounterpart' ? 1 : 2);
      });
    } finally {
      await ctx.close();
    }
  });

  test('KeepCoupling (the default): the coupling stays; a failed record whose source is gone gets an error row saying so', async () => {
    const rejectValues = (values: Record<string, unknown>): boolean => String(values.name ?? '').includes('!');
    const ctx = await setup({ syncOnlyCoupledRecords: false }, { integration: { rejectValues } });
    try {
      await ctx.sys.local('customer').insert([customer(1), customer(2)]);
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Broken!', modified_on: tick() });
        const failed = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
        expect(failed.jobs[0].counters).toMatchObject({ failed: 1 });
        await ctx.sys.local('customer').where('id', 'C1').delete();
        const run = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
        expect(run.jobs[0].counters).toMatchObject({ failed: 1, deleted: 0, uncoupled: 0 });
        const errors = await ctx.store.listErrors({ jobId: run.jobs[0].jobId });
        expect(errors).toEqual([expect.objectContaining({ sourceRecordId: 'C1' })]);
        expect(errors[0].message).toMatch(/no longer exists/);
        expect(await ctx.store.getCouplings('CUSTOMER', 'local', ['C1'])).toHaveLength(1);
        expect(await ctx.rows('integration')).toHaveLength(2);
      });
    } finally {
      await ctx.close();
    }
  });
});

describe('records outside the table filter are refused when given by id', () => {
  const filtered = { syncOnlyCoupledRecords: false, tableFilter: [{ field: 'city', op: 'ne' as const, value: 'Oslo' }] };

  test('bulkSync with recordIds', async () => {
    const ctx = await setup(filtered);
    try {
      await ctx.sys.local('customer').insert([customer(1, { city: 'Oslo' }), customer(2)]);
      await ctx.run(async ({ sync }) => {
        const run = await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: ['C1', 'C2'] });
        expect(run.jobs[0].counters).toMatchObject({ inserted: 1, failed: 1 });
        const errors = await ctx.store.listErrors({ jobId: run.jobs[0].jobId });
        expect(errors).toEqual([expect.objectContaining({ sourceRecordId: 'C1' })]);
        expect(errors[0].message).toMatch(/outside .*filter/);
        expect(await ctx.rows('integration')).toHaveLength(1);
      });
    } finally {
      await ctx.close();
    }
  });

  test('matchBasedCoupling with recordIds and setUpCoupling', async () => {
    const fields: FieldMappingDefinition[] = [{ localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true }];
    const ctx = await setup({ ...filtered, fields });
    try {
      await ctx.sys.local('customer').insert([customer(1, { city: 'Oslo' })]);
      await ctx.sys.integration('account').insert([account('A1', { emailaddress1: 'c1@example.com' })]);
      await ctx.run(async ({ sync }) => {
        const run = await sync.matchBasedCoupling({ mapping: 'CUSTOMER', recordIds: ['C1'] });
        expect(run.jobs[0].counters).toMatchObject({ coupled: 0, failed: 1 });
        expect((await ctx.store.listErrors({ jobId: run.jobs[0].jobId }))[0].message).toMatch(/outside .*filter/);
        const error = await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        expect((error as WorkflowFailedError).cause?.message).toMatch(/C1.*outside .*filter/);
        expect(await ctx.store.countCouplings('CUSTOMER')).toBe(0);
      });
    } finally {
      await ctx.close();
    }
  });
});

test('a single sync of a record that does not exist fails, naming the record, the table and the side', async () => {
  const ctx = await setup();
  try {
    await ctx.run(async ({ sync }) => {
      const error = await sync.singleSync({ mapping: 'CUSTOMER', recordId: 'C404' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(/C404.*does not exist.*customer.*local/);
    });
  } finally {
    await ctx.close();
  }
});

test('a record is coupled at most once per system and table, across mappings', async () => {
  const ctx = await setup({ syncOnlyCoupledRecords: false });
  try {
    await createCustomerTable(ctx.sys.local, 'vendor');
    await ctx.store.saveMapping(testMapping({ name: 'VENDOR', local: { system: 'local', table: 'vendor' }, syncOnlyCoupledRecords: true }));
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.sys.local('vendor').insert([customer(1, { id: 'V1' })]);
    await ctx.sys.integration('account').insert([account('A1')]);
    await ctx.run(async ({ sync }) => {
      await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
      const error = await sync.setUpCoupling({ mapping: 'VENDOR', localId: 'V1', integrationId: 'A1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(/A1.*coupled in mapping CUSTOMER/);
      expect(await ctx.store.countCouplings('VENDOR')).toBe(0);
    });
  } finally {
    await ctx.close();
  }
});
