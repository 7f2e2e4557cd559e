/**
 * A job's counters say what the job did, even when an attempt that did it was
 * cut short (a killed worker) before it could count: the overlap fault test
 * found a single sync that created and coupled a record, was killed, and
 * counted nothing inserted on its retry; and an uncouple-all killed after
 * removing a page of couplings and before its heartbeat, whose retry counted
 * that page as never removed. Then jobs that counted a record created again
 * after an uncouple-all as inserted (it was written over), which the creation
 * ledger must not confuse with a batch's own create retried after a kill.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SyncSingleRecordInput, type UncoupleBatchInput, type UncoupleBatchResult } from '../../activities';
import type { JobSummary } from '../../common/types';
import type { Store } from '../../store/store';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';

class Killed extends Error {}

interface World {
  store: Store;
  sys: TestSystems;
  acts: ReturnType<typeof createActivities>;
  /** A single sync of C1 from the local side, as job `jobId`. */
  single(jobId?: string): SyncSingleRecordInput;
}

/** The CUSTOMER mapping on SQLite with customers C1..Cn, the activities, and a clean-up whatever the test did. */
async function withWorld(customers: number, test: (w: World) => Promise<void>): Promise<void> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping({}));
    if (customers > 0) await sys.local('customer').insert(Array.from({ length: customers }, (_, i) => customer(i + 1)));
    const acts = createActivities({ store, systems: sys.systems });
    const single = (jobId = 'job'): SyncSingleRecordInput => ({
      mapping: 'CUSTOMER',
      recordId: 'C1',
      side: 'local',
      direction: null,
      jobId,
      workflowId: jobId === 'job' ? 'single' : jobId,
      runId: '1',
      maxAttempts: 3,
    });
    await test({ store, sys, acts, single });
  } finally {
    jest.restoreAllMocks();
    await sys.close();
    await cleanup();
  }
}

/** Makes the first call of `method` fail after it ran, as a worker killed right after the write would. */
function killAfterFirst<K extends 'updateJob' | 'deleteCouplings'>(store: Store, method: K): void {
  const real = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
  let calls = 0;
  jest.spyOn(store, method).mockImplementation((async (...args: unknown[]) => {
    const result = await real(...args);
    if (++calls === 1) throw new Killed('worker killed');
    return result;
  }) as never);
}

test('a single sync that created and coupled the record, then was cut short, counts the create on its retry', async () => {
  await withWorld(1, async ({ store, sys, acts, single }) => {
    const input = single();
    // The close of the job is the last write: the attempt dies having created and coupled the record.
    const updateJob = store.updateJob.bind(store);
    let closes = 0;
    jest.spyOn(store, 'updateJob').mockImplementation(async (id, patch) => {
      await updateJob(id, patch);
      if (patch.finished && ++closes === 1) throw new Killed('worker killed');
    });
    await expect(new MockActivityEnvironment({ attempt: 1 }).run(acts.syncSingleRecord, input)).rejects.toThrow(Killed);
    const summary: JobSummary = await new MockActivityEnvironment({ attempt: 2 }).run(acts.syncSingleRecord, input);
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(summary.counters).toMatchObject({ inserted: 1, coupled: 1, unchanged: 0, modified: 0 });
    expect((await store.getJob('job'))?.counters).toMatchObject({ inserted: 1, coupled: 1, unchanged: 0, modified: 0 });
  });
});

test('an uncouple-all cut short after removing couplings counts them on its retry', async () => {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  try {
    await store.saveMapping(testMapping({}));
    const mapping = await store.requireMapping('CUSTOMER');
    await store.insertCouplings(
      mapping,
      null,
      'seed',
      Array.from({ length: 5 }, (_, i) => ({
        localId: `C${i}`,
        integrationId: `A${i}`,
        lastSyncedLocalModifiedOn: null,
        lastSyncedIntegrationModifiedOn: null,
      })),
    );
    await store.createJob({ id: 'uncouple', mappingName: 'CUSTOMER', type: 'Uncoupling', direction: null, workflowId: 'uncouple', runId: '1' });
    const acts = createActivities({ store, systems: sys.systems });
    const input: UncoupleBatchInput = { mapping: 'CUSTOMER', jobId: 'uncouple', selection: { kind: 'all', maxCouplings: 1000 } };
    killAfterFirst(store, 'deleteCouplings');
    await expect(new MockActivityEnvironment({ attempt: 1 }).run(acts.uncoupleBatch, input)).rejects.toThrow(Killed);
    const retried: UncoupleBatchResult = await new MockActivityEnvironment({ attempt: 2 }).run(acts.uncoupleBatch, input);
    const counters = await acts.finishCouplingJob({ mapping: 'CUSTOMER', jobId: 'uncouple', counters: retried.counters, status: 'succeeded', message: null });
    expect(await store.countCouplings('CUSTOMER')).toBe(0);
    expect(counters.uncoupled).toBe(5);
  } finally {
    jest.restoreAllMocks();
    await sys.close();
    await cleanup();
  }
});

test('a record created again after its coupling was removed is counted modified, not inserted: the key named the record already there', async () => {
  await withWorld(1, async ({ store, sys, acts, single }) => {
    const input = single;
    const first: JobSummary = await new MockActivityEnvironment({ activityId: 'first' }).run(acts.syncSingleRecord, input('first'));
    expect(first.counters).toMatchObject({ inserted: 1, coupled: 1 });
    await store.deleteCouplings('CUSTOMER', 'local', ['C1'], 'uncouple');
    const again: JobSummary = await new MockActivityEnvironment({ activityId: 'again' }).run(acts.syncSingleRecord, input('again'));
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(again.counters).toMatchObject({ inserted: 0, modified: 1, coupled: 1 });
    expect(await store.countCouplings('CUSTOMER')).toBe(1);
  });
});

test('a batch cut short between creating a record and coupling it counts the create on its retry, once', async () => {
  await withWorld(2, async ({ store, sys, acts, single }) => {
    const input = single();
    // The attempt dies right after the create, before any coupling is written.
    const insertCouplings = store.insertCouplings.bind(store);
    let calls = 0;
    jest.spyOn(store, 'insertCouplings').mockImplementation(async (...args) => {
      if (++calls === 1) throw new Killed('worker killed');
      return insertCouplings(...args);
    });
    await expect(new MockActivityEnvironment({ attempt: 1 }).run(acts.syncSingleRecord, input)).rejects.toThrow('worker killed');
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    const summary: JobSummary = await new MockActivityEnvironment({ attempt: 2 }).run(acts.syncSingleRecord, input);
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(summary.counters).toMatchObject({ inserted: 1, coupled: 1, modified: 0 });
  });
});

test('a re-create cut short between writing over the record and noting it still counts modified on its retry, not inserted', async () => {
  await withWorld(1, async ({ store, sys, acts, single }) => {
    const first: JobSummary = await new MockActivityEnvironment({ activityId: 'first' }).run(acts.syncSingleRecord, single('first'));
    expect(first.counters).toMatchObject({ inserted: 1 });
    await store.deleteCouplings('CUSTOMER', 'local', ['C1'], 'uncouple');
    // The attempt dies right after the create call, before it notes what the create found (found in the overlap fault test).
    const note = store.noteCreations.bind(store);
    let calls = 0;
    jest.spyOn(store, 'noteCreations').mockImplementation(async (...args) => {
      if (++calls === 2) throw new Killed('worker killed');
      return note(...args);
    });
    const input = single('again');
    await expect(new MockActivityEnvironment({ activityId: 'again', attempt: 1 }).run(acts.syncSingleRecord, input)).rejects.toThrow('worker killed');
    const again: JobSummary = await new MockActivityEnvironment({ activityId: 'again', attempt: 2 }).run(acts.syncSingleRecord, input);
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(again.counters).toMatchObject({ inserted: 0, modified: 1, coupled: 1 });
  });
});
