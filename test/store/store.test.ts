/** The store on every dialect: migrations, mappings, couplings that cannot double, jobs and error rows. */
import { availableDialects, type Dialect } from '../helpers/stores';
import type { Store } from '../../store/store';
import { testMapping } from '../helpers/systems';
import { emptyCounters } from '../../common/types';

const SUCCESS = { result: 'Success' as const, skipped: false, failureCount: 0, lastErrorMessage: null };

describe('store', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  const each = async (fn: (store: Store, dialect: Dialect['name']) => Promise<void>): Promise<void> => {
    expect(dialects.length).toBeGreaterThan(0);
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      try {
        await fn(store, dialect.name);
      } catch (error) {
        throw new Error(`[${dialect.name}] ${(error as Error).message}`, { cause: error });
      } finally {
        await cleanup();
      }
    }
  };

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
      const saved = await store.saveMapping(testMapping({
        direction: 'Bidirectional',
        tableFilter: [{ field: 'country', op: 'eq', value: 'us' }],
        fields: [
          { localField: 'name', integrationField: 'name', transformation: [{ type: 'trim' }, { type: 'truncate', length: 50 }], useForMatching: true, matchPriority: 2 },
          { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: 'Customer' },
        ],
      }));
      expect(saved.direction).toBe('Bidirectional');
      expect(saved.syncOnlyCoupledRecords).toBe(false);
      expect(saved.updateConflictResolution).toBe('None');
      expect(saved.tableFilter).toEqual([{ field: 'country', op: 'eq', value: 'us' }]);
      expect(saved.fields[0]).toMatchObject({ localField: 'name', direction: 'Bidirectional', enabled: true, useForMatching: true, matchPriority: 2, caseSensitiveMatching: false });
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

  test('one coupling per local record and per integration record, whatever is inserted', async () => {
    await each(async (store) => {
      const w = (localId: string, integrationId: string) => ({ localId, integrationId, lastSyncedLocalModifiedOn: 'a', lastSyncedIntegrationModifiedOn: 'b', ...SUCCESS });
      await store.insertCouplings('CUSTOMER', 'ToIntegrationTable', 'job-1', [w('L1', 'I1'), w('L2', 'I2')]);
      // Same local id to another record, same integration id from another record, and an exact repeat.
      await store.insertCouplings('CUSTOMER', 'ToIntegrationTable', 'job-2', [w('L1', 'I9'), w('L9', 'I2'), w('L2', 'I2'), w('L3', 'I3')]);
      expect(await store.countCouplings('CUSTOMER')).toBe(3);
      const [l1] = await store.getCouplings('CUSTOMER', 'local', ['L1']);
      expect(l1.integrationId).toBe('I1');
      // The unique constraints hold even against raw inserts.
      await expect(
        store.knex('couplings').insert({ mapping_name: 'CUSTOMER', local_id: 'L1', integration_id: 'I7', created_at: 'x', updated_at: 'x' }),
      ).rejects.toThrow();
      // Another mapping may couple the same ids.
      await store.insertCouplings('CONTACT', 'ToIntegrationTable', 'job-3', [w('L1', 'I1')]);
      expect(await store.countCouplings('CONTACT')).toBe(1);
      await store.updateCouplings('CUSTOMER', 'FromIntegrationTable', 'job-4', [{ ...w('L1', 'I1'), result: 'Failure', failureCount: 1, lastErrorMessage: 'boom' }]);
      const [updated] = await store.getCouplings('CUSTOMER', 'integration', ['I1']);
      expect(updated).toMatchObject({ lastFromIntegrationResult: 'Failure', lastFromIntegrationJobId: 'job-4', lastToIntegrationResult: 'Success', failureCount: 1, lastErrorMessage: 'boom' });
      expect(await store.deleteCouplings('CUSTOMER', 'local', ['L1', 'L2', 'missing'])).toBe(2);
      expect(await store.countCouplings('CUSTOMER')).toBe(1);
    });
  });

  test('job rows are created once and error rows are keyed by job and record', async () => {
    await each(async (store) => {
      const job = { id: 'job-a', mappingName: 'CUSTOMER', type: 'Synchronization' as const, direction: 'ToIntegrationTable' as const, workflowId: 'wf', runId: 'run' };
      const first = await store.createJob(job);
      const second = await store.createJob(job);
      expect(second.startedAt).toBe(first.startedAt);
      await store.updateJob('job-a', { counters: { ...emptyCounters(), inserted: 5, failed: 1 }, status: 'succeeded', finished: true });
      const [listed] = await store.listJobs({ mappingName: 'CUSTOMER' });
      expect(listed).toMatchObject({ id: 'job-a', status: 'succeeded', counters: { inserted: 5, failed: 1, modified: 0 } });
      expect(listed.finishedAt).not.toBeNull();
      const error = { jobId: 'job-a', mappingName: 'CUSTOMER', sourceRecordId: 'L1', destinationRecordId: null, message: 'first', fullMessage: 'stack', attempts: 1 };
      await store.insertErrors([error]);
      await store.insertErrors([{ ...error, message: 'second', attempts: 3 }]);
      const errors = await store.listErrors({ jobId: 'job-a' });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ message: 'second', attempts: 3, sourceRecordId: 'L1' });
    });
  });
});
