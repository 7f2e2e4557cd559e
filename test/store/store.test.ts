/** The store on every dialect: migrations, mappings, couplings that cannot double, jobs and error rows. */
import { availableDialects, onEachDialect, type Dialect } from '../helpers/stores';
import type { Store } from '../../store/store';
import { testMapping } from '../helpers/systems';
import { emptyCounters } from '../../common/types';

const CUSTOMER = { name: 'CUSTOMER', local: { system: 'local', table: 'customer' }, integration: { system: 'integration', table: 'account' } };

describe('store', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  const each = (fn: (store: Store, dialect: Dialect['name']) => Promise<void>): Promise<void> => onEachDialect(dialects, fn);

  test('runs on SQLite and, where it answers, PostgreSQL', async () => {
    const names: string[] = [];
    await each(async (store, name) => {
      names.push(name);
      await store.migrate(); // a second migrate is a no-op
      expect(await store.listMappingNames()).toEqual([]);
    });
    expect(names[0]).toBe('sqlite');
    if (process.env.REQUIRE_POSTGRES === '1') expect(names).toContain('postgres');
    console.log(`store suite ran on: ${names.join(', ')}`);
  });

  test('saves a mapping and reads it back with defaults and watermarks', async () => {
    await each(async (store) => {
      const saved = await store.saveMapping(
        testMapping({
          direction: 'Bidirectional',
          tableFilter: [{ field: 'country', op: 'eq', value: 'us' }],
          fields: [
            {
              localField: 'name',
              integrationField: 'name',
              transformation: [{ type: 'trim' }, { type: 'truncate', length: 50 }],
              useForMatching: true,
              matchPriority: 2,
            },
            { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: 'Customer' },
          ],
        }),
      );
      expect(saved.direction).toBe('Bidirectional');
      expect(saved.syncOnlyCoupledRecords).toBe(false);
      expect(saved.updateConflictResolution).toBe('None');
      expect(saved.tableFilter).toEqual([{ field: 'country', op: 'eq', value: 'us' }]);
      expect(saved.fields[0]).toMatchObject({
        localField: 'name',
        direction: 'Bidirectional',
        enabled: true,
        useForMatching: true,
        matchPriority: 2,
        caseSensitiveMatching: false,
      });
      expect(saved.fields[0].transformation).toEqual([{ type: 'trim' }, { type: 'truncate', length: 50 }]);
      expect(saved.fields[1]).toMatchObject({ localField: undefined, integrationField: 'customertypecode', constantValue: 'Customer' });
      await store.setWatermark('CUSTOMER', 'local', '2026-11-01T10:00:00.123Z');
      await store.saveMapping(testMapping()); // replacing the definition keeps the watermark
      const again = await store.requireMapping('CUSTOMER');
      expect(again.localWatermark).toBe('2026-11-01T10:00:00.123Z');
      expect(again.fields).toHaveLength(4);
      await expect(store.requireMapping('NOPE')).rejects.toThrow(/no integration table mapping named "NOPE"; known mappings: CUSTOMER/);
      await expect(store.saveMapping({ ...testMapping(), direction: 'Sideways' as never })).rejects.toThrow(/direction/);
    });
  });

  test('one coupling per local record and per integration record, whatever is inserted, in every mapping of the tables', async () => {
    await each(async (store) => {
      const w = (localId: string, integrationId: string) => ({
        localId,
        integrationId,
        lastSyncedLocalModifiedOn: 'a',
        lastSyncedIntegrationModifiedOn: 'b',
        action: 'insert@t',
      });
      // Couplings are found by integration id through the tables of the mapping's saved row.
      await store.saveMapping(testMapping());
      await store.insertCouplings(CUSTOMER, 'ToIntegrationTable', 'job-1', [w('L1', 'I1'), w('L2', 'I2')]);
      // Same local id to another record, same integration id from another record, and an exact repeat.
      await store.insertCouplings(CUSTOMER, 'ToIntegrationTable', 'job-2', [w('L1', 'I9'), w('L9', 'I2'), w('L2', 'I2'), w('L3', 'I3')]);
      expect(await store.countCouplings('CUSTOMER')).toBe(3);
      const [l1] = await store.getCouplings('CUSTOMER', 'local', ['L1']);
      expect(l1).toMatchObject({ integrationId: 'I1', lastToIntegrationResult: 'Success', version: 0 });
      // The unique constraints hold even against raw inserts, and no coupling escapes them by lacking its integration table.
      const raw = { mapping_name: 'CUSTOMER', local_id: 'L1', integration_id: 'I7', created_at: 'x', updated_at: 'x' };
      const tables = { local_system: 'local', local_table: 'customer', integration_system: 'integration', integration_table: 'account' };
      await expect(store.knex('couplings').insert({ ...raw, ...tables })).rejects.toThrow();
      await expect(store.knex('couplings').insert({ ...raw, ...tables, local_id: 'L7', integration_id: 'I1' })).rejects.toThrow();
      await expect(store.knex('couplings').insert({ ...raw, ...tables, local_id: 'L7', integration_system: null })).rejects.toThrow();
      // Another mapping of the same integration table cannot couple I1 again; one of other tables may couple the same ids.
      await store.insertCouplings({ ...CUSTOMER, name: 'VENDOR', local: { system: 'local', table: 'vendor' } }, null, 'job-3', [w('V1', 'I1')]);
      expect(await store.countCouplings('VENDOR')).toBe(0);
      expect((await store.getRecordCouplings(CUSTOMER.integration, 'integration', ['I1']))[0]).toMatchObject({ mappingName: 'CUSTOMER', localId: 'L1' });
      await store.insertCouplings(
        { name: 'CONTACT', local: { system: 'local', table: 'contact' }, integration: { system: 'integration', table: 'contact' } },
        null,
        'job-3',
        [w('L1', 'I1')],
      );
      expect(await store.countCouplings('CONTACT')).toBe(1);

      // An update lands only on the state it was read from.
      const update = {
        ...w('L1', 'I1'),
        version: l1.version,
        result: 'Failure' as const,
        failureCount: 1,
        lastError: 'boom',
        pending: false,
        pendingOther: true,
        skipped: false,
        action: 'fail@t',
      };
      expect(await store.updateCouplings('CUSTOMER', 'FromIntegrationTable', 'job-4', [update])).toEqual([]);
      const [updated] = await store.getCouplings('CUSTOMER', 'integration', ['I1']);
      expect(updated).toMatchObject({
        lastFromIntegrationResult: 'Failure',
        lastFromIntegrationJobId: 'job-4',
        fromIntegrationFailureCount: 1,
        fromIntegrationLastError: 'boom',
        lastToIntegrationResult: 'Success',
        toIntegrationFailureCount: 0,
        toIntegrationPending: true,
        version: 1,
      });
      // The same update again (the version read is stale), or for a pair that was re-pointed: lost, nothing written.
      expect(
        await store.updateCouplings('CUSTOMER', 'FromIntegrationTable', 'job-5', [update, { ...update, localId: 'L2', integrationId: 'I9', version: 0 }]),
      ).toEqual(['L1', 'L2']);
      expect((await store.getCouplings('CUSTOMER', 'local', ['L1']))[0].lastFromIntegrationJobId).toBe('job-4');
      expect(await store.deleteCouplingPairs('CUSTOMER', [{ localId: 'L2', integrationId: 'I9' }])).toBe(0);
      expect(await store.deleteCouplings('CUSTOMER', 'local', ['L1', 'L2', 'missing'])).toBe(2);
      expect(await store.countCouplings('CUSTOMER')).toBe(1);
    });
  });

  test("a job's couplings are counted exactly, those another run removed since included", async () => {
    await each(async (store) => {
      const w = (localId: string) => ({ localId, integrationId: `I-${localId}`, lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null });
      await store.insertCouplings(CUSTOMER, 'ToIntegrationTable', 'job-a', [w('L1'), w('L2'), w('L3')]);
      expect(await store.deleteCouplings('CUSTOMER', 'local', ['L1'])).toBe(1);
      expect(
        await store.deleteCouplingPairs('CUSTOMER', [
          { localId: 'L2', integrationId: 'I-L2' },
          { localId: 'L3', integrationId: 'other' },
        ]),
      ).toBe(1);
      expect(await store.countCouplingsMadeBy('CUSTOMER', 'job-a')).toBe(3);
      expect(await store.countCouplings('CUSTOMER')).toBe(1);
    });
  });

  test('a mapping with couplings cannot be pointed at other tables', async () => {
    await each(async (store) => {
      await store.saveMapping(testMapping());
      await store.insertCouplings(CUSTOMER, null, 'job-1', [
        { localId: 'L1', integrationId: 'I1', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
      ]);
      await expect(store.saveMapping(testMapping({ local: { system: 'local', table: 'vendor' } }))).rejects.toThrow(/has 1 couplings .*uncouple them/);
      await store.deleteCouplings('CUSTOMER', 'local', ['L1']);
      await expect(store.saveMapping(testMapping({ local: { system: 'local', table: 'vendor' } }))).resolves.toMatchObject({ local: { table: 'vendor' } });
    });
  });

  test('failed uncoupled records are kept per side until deleted, and match claims keep the smallest local id', async () => {
    await each(async (store) => {
      await store.saveUncoupledFailures('CUSTOMER', 'local', 'job-1', [{ recordId: 'L1', failureCount: 1, lastError: 'x', skipped: false }]);
      await store.saveUncoupledFailures('CUSTOMER', 'local', 'job-2', [{ recordId: 'L1', failureCount: 2, lastError: 'x', skipped: true }]);
      expect(await store.listUncoupledFailures('CUSTOMER')).toEqual([
        expect.objectContaining({ side: 'local', recordId: 'L1', failureCount: 2, skipped: true, lastJobId: 'job-2' }),
      ]);
      expect(await store.pageUncoupledFailures('CUSTOMER', 'local', { afterId: 0, limit: 10 })).toEqual([]);
      expect(await store.pageUncoupledFailures('CUSTOMER', 'local', { afterId: 0, limit: 10, includeSkipped: true })).toHaveLength(1);
      await store.deleteUncoupledFailures('CUSTOMER', 'local', ['L1']);
      expect(await store.listUncoupledFailures('CUSTOMER')).toEqual([]);

      await store.claimCandidates('job-m', 0, [
        { integrationId: 'I1', localId: 'L9' },
        { integrationId: 'I2', localId: 'L5' },
      ]);
      await store.claimCandidates('job-m', 0, [
        { integrationId: 'I1', localId: 'L10' },
        { integrationId: 'I2', localId: 'L6' },
      ]);
      expect(await store.pageClaims('job-m', 0, { afterIntegrationId: null, limit: 10 })).toEqual([
        { integrationId: 'I1', localId: 'L10' },
        { integrationId: 'I2', localId: 'L5' },
      ]);
      await store.deleteClaims('job-m');
      expect(await store.pageClaims('job-m', 0, { afterIntegrationId: null, limit: 10 })).toEqual([]);
    });
  });

  test('job rows are created once and error rows are keyed by job and record', async () => {
    await each(async (store) => {
      const job = {
        id: 'job-a',
        mappingName: 'CUSTOMER',
        type: 'Synchronization' as const,
        direction: 'ToIntegrationTable' as const,
        workflowId: 'wf',
        runId: 'run',
      };
      const first = await store.createJob(job);
      const second = await store.createJob(job);
      expect(second.startedAt).toBe(first.startedAt);
      await store.updateJob('job-a', { counters: { ...emptyCounters(), inserted: 5, failed: 1 }, status: 'succeeded', finished: true });
      const [listed] = await store.listJobs({ mappingName: 'CUSTOMER' });
      expect(listed).toMatchObject({ id: 'job-a', status: 'succeeded', counters: { inserted: 5, failed: 1, modified: 0 } });
      expect(listed.finishedAt).not.toBeNull();
      const error = {
        jobId: 'job-a',
        mappingName: 'CUSTOMER',
        sourceRecordId: 'L1',
        destinationRecordId: null,
        message: 'first',
        fullMessage: 'stack',
        attempts: 1,
      };
      await store.insertErrors([error]);
      await store.insertErrors([{ ...error, message: 'second', attempts: 3 }]);
      const errors = await store.listErrors({ jobId: 'job-a' });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ message: 'second', attempts: 3, sourceRecordId: 'L1' });
    });
  });
});
