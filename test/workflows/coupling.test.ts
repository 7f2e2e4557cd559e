/** Match-based coupling, manual coupling and uncoupling on the real dev server. */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { connectTestTemporal, withWorker, type TestTemporal, type WorkerHarness } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { account, customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import { FaultyConnector, type Faults } from '../helpers/faulty-connector';
import type { Store } from '../../store/store';
import type { FieldMappingDefinition, MappingDefinition } from '../../domain/mapping';
import type { Systems } from '../../activities';
import type { StartCouplingJobInput } from '../../common/protocol';
import { createCouplingJobActivities } from '../../activities/coupling/jobs';
import { createMatchRoundActivities } from '../../activities/coupling/match-rounds';
import { creationKey } from '../../domain/record-key';
import { progressQuery } from '../../common/definitions';
import type { RunResult } from '../../common/types';
import { workflowIds } from '../../client/workflow-ids';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };

/** Email AND city at priority 0, name at priority 1; phone only synchronized. */
const MATCH_FIELDS: FieldMappingDefinition[] = [
  { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true, matchPriority: 0 },
  { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional', useForMatching: true, matchPriority: 0 },
  { localField: 'name', integrationField: 'name', direction: 'Bidirectional', useForMatching: true, matchPriority: 1 },
  { localField: 'phone', integrationField: 'telephone1', direction: 'Bidirectional' },
];

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

type WorkflowType = 'matchBasedCouplingWorkflow' | 'setUpCouplingWorkflow' | 'uncoupleWorkflow';

interface Ctx {
  store: Store;
  sys: TestSystems;
  faulty: { integration?: FaultyConnector };
  run<T>(fn: (h: WorkerHarness) => Promise<T>): Promise<T>;
  rows(side: 'local' | 'integration'): Promise<Record<string, unknown>[]>;
  couplings(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function setup(mapping: Partial<MappingDefinition> = {}, faults?: { integration?: Faults }): Promise<Ctx> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  const faulty: Ctx['faulty'] = {};
  const systems: Systems = { ...sys.systems };
  if (faults?.integration) systems.integration = faulty.integration = new FaultyConnector(sys.systems.integration, faults.integration);
  await store.saveMapping(testMapping({ fields: MATCH_FIELDS, ...mapping }));
  return {
    store,
    sys,
    faulty,
    run: (fn) => withWorker(temporal, { store, systems }, fn),
    rows: async (side) => (side === 'local' ? sys.local('customer') : sys.integration('account')).select().orderBy('id'),
    couplings: async () => {
      const page = await store.pageCouplings('CUSTOMER', { afterId: 0, limit: 100_000 });
      return Object.fromEntries(page.map((c) => [c.localId, c.integrationId]));
    },
    close: async () => {
      await sys.close();
      await cleanup();
    },
  };
}

/** Starts a workflow by name on the test's task queue, as the Web UI would, and waits for its result. */
async function start(taskQueue: string, type: WorkflowType, input: unknown, workflowId = `${type}/${randomUUID()}`) {
  return temporal.client.workflow.start(type, { taskQueue, workflowId, args: [input] });
}

async function execute(taskQueue: string, type: WorkflowType, input: unknown): Promise<RunResult> {
  return (await start(taskQueue, type, input)).result() as Promise<RunResult>;
}

async function failure(taskQueue: string, type: WorkflowType, input: unknown): Promise<string> {
  const error = await (await start(taskQueue, type, input)).result().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause?.message ?? '';
}

async function errorsOf(ctx: Ctx, jobId: string): Promise<Record<string, string>> {
  const rows = await ctx.store.listErrors({ jobId });
  return Object.fromEntries(rows.map((e) => [e.sourceRecordId, e.message]));
}

test('priorities (AND within a level, fall through on zero or several), Unicode case, white space; ambiguity couples nothing', async () => {
  const ctx = await setup();
  try {
    await ctx.sys
      .local('customer')
      .insert([
        customer(1, { email: 'ada@x.example', city: 'Oslo', name: 'Ada' }),
        customer(2, { email: 'shared@x.example', city: 'Rome', name: 'Beta' }),
        customer(3, { email: 'nobody@x.example', city: 'Rome', name: '  École Ünïcode ' }),
        customer(4, { email: 'dup@x.example', city: 'Paris', name: 'Dup' }),
        customer(5, { email: 'lonely@x.example', city: 'Nowhere', name: 'Lonely' }),
      ]);
    await ctx.sys
      .integration('account')
      .insert([
        account('A1', { emailaddress1: ' ADA@X.example ', address1_city: 'oslo', name: 'Someone else' }),
        account('A2', { emailaddress1: 'ada@x.example', address1_city: 'Bergen', name: 'Ada' }),
        account('B1', { emailaddress1: 'shared@x.example', address1_city: 'Rome', name: 'Beta' }),
        account('B2', { emailaddress1: 'shared@x.example', address1_city: 'Rome', name: 'Not Beta' }),
        account('G1', { emailaddress1: 'g@x.example', address1_city: 'Rome', name: 'ÉCOLE ÜNÏCODE\t' }),
        account('D1', { emailaddress1: 'dup@x.example', address1_city: 'paris', name: 'dup' }),
        account('D2', { emailaddress1: 'DUP@x.example', address1_city: 'PARIS', name: 'DUP' }),
      ]);
    const queries = jest.spyOn(ctx.sys.systems.integration, 'findCandidates');
    await ctx.run(async ({ taskQueue }) => {
      const handle = await start(
        taskQueue,
        'matchBasedCouplingWorkflow',
        { mapping: 'CUSTOMER' },
        `${workflowIds.matchBasedCoupling('CUSTOMER')}/${randomUUID()}`,
      );
      const result = (await handle.result()) as RunResult;
      expect(result.jobs).toHaveLength(1);
      const [job] = result.jobs;
      expect(job).toMatchObject({ type: 'Coupling', status: 'succeeded', counters: { coupled: 3, inserted: 0, failed: 2, unmatched: 2 } });
      expect(await ctx.couplings()).toEqual({ C1: 'A1', C2: 'B1', C3: 'G1' });
      const errors = await errorsOf(ctx, job.jobId);
      expect(Object.keys(errors).sort()).toEqual(['C4', 'C5']);
      expect(errors.C4).toMatch(/several candidates/);
      expect(errors.C4).toMatch(/priority 0 \(email \+ city\): several candidates D1, D2/);
      expect(errors.C4).toMatch(/priority 1 \(name\): several candidates D1, D2/);
      expect(errors.C5).toMatch(/no candidate/);
      expect(await ctx.rows('integration')).toHaveLength(7);
      const [row] = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(row).toMatchObject({ type: 'Coupling', status: 'succeeded', finishedAt: expect.any(String), counters: job.counters });
      expect(row.message).toMatch(/2 records could not be coupled/);
      expect(await handle.query(progressQuery)).toMatchObject({ phase: 'done', counters: job.counters });
      // One candidate query per priority for the whole batch, not one per record: once in the rounds, once more to explain the records left unmatched.
      expect(queries).toHaveBeenCalledTimes(4);
    });
  } finally {
    await ctx.close();
  }
});

test('case-sensitive matching with non-ASCII letters, white space ignored', async () => {
  const ctx = await setup({ fields: [{ localField: 'name', integrationField: 'name', useForMatching: true, caseSensitiveMatching: true }] });
  try {
    await ctx.sys.local('customer').insert([customer(1, { name: 'Ärzte GmbH' }), customer(2, { name: 'über ag' }), customer(3, { name: ' ÄRZTE GMBH' })]);
    await ctx.sys
      .integration('account')
      .insert([account('A1', { name: 'Ärzte GmbH  ' }), account('A2', { name: 'ÄRZTE GMBH' }), account('U1', { name: 'Über AG' })]);
    await ctx.run(async ({ taskQueue }) => {
      const {
        jobs: [job],
      } = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER' });
      expect(job.counters).toMatchObject({ coupled: 2, unmatched: 1, failed: 1 });
      expect(await ctx.couplings()).toEqual({ C1: 'A1', C3: 'A2' });
      expect((await errorsOf(ctx, job.jobId)).C2).toMatch(/no candidate/);
    });
  } finally {
    await ctx.close();
  }
});

test('already-coupled candidates are never taken, and records competing in parallel batches: the smallest id takes the candidate', async () => {
  const ctx = await setup();
  try {
    await ctx.sys
      .local('customer')
      .insert([
        customer(1, { email: 'taken@x.example', city: 'Oslo', name: 'Taken' }),
        customer(9, { email: 'other@x.example', city: 'Oslo', name: 'Owner' }),
        ...[2, 3, 4, 5].map((i) => customer(i, { email: 'same@x.example', city: 'Rome', name: `Rival ${i}` })),
      ]);
    await ctx.sys
      .integration('account')
      .insert([
        account('A9', { emailaddress1: 'taken@x.example', address1_city: 'Oslo', name: 'Taken' }),
        account('S1', { emailaddress1: 'same@x.example', address1_city: 'Rome', name: 'Shared' }),
      ]);
    await ctx.store.insertCouplings(await ctx.store.requireMapping('CUSTOMER'), null, 'manual', [
      { localId: 'C9', integrationId: 'A9', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
    ]);
    await ctx.run(async ({ taskQueue }) => {
      // One record per batch, four at once: the store, not the batch, must stop a second coupling of S1.
      const {
        jobs: [job],
      } = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', batchSize: 1, maxBatchesInFlight: 4 });
      expect(job.counters).toMatchObject({ coupled: 1, unmatched: 4, failed: 4 });
      const couplings = await ctx.couplings();
      expect(couplings.C9).toBe('A9');
      expect(couplings.C1).toBeUndefined();
      const rivals = ['C2', 'C3', 'C4', 'C5'].filter((id) => couplings[id] === 'S1');
      expect(rivals).toEqual(['C2']);
      const errors = await errorsOf(ctx, job.jobId);
      expect(errors.C1).toMatch(/candidate already coupled A9/);
      for (const id of ['C3', 'C4', 'C5']) expect(errors[id]).toMatch(/candidate S1 went to local record C2/);
    });
  } finally {
    await ctx.close();
  }
});

test('no match: created and coupled with create-new, an error row without; running twice couples nothing twice', async () => {
  const ctx = await setup();
  try {
    await ctx.sys
      .local('customer')
      .insert([
        customer(1, { email: 'ada@x.example', city: 'Oslo', name: 'Ada' }),
        customer(2, { email: 'new@x.example', city: 'Lima', name: 'Newcomer' }),
        customer(3, { email: null, city: null, name: null }),
      ]);
    await ctx.sys.integration('account').insert([account('A1', { emailaddress1: 'ada@x.example', address1_city: 'Oslo' })]);
    await ctx.run(async ({ taskQueue }) => {
      const without = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', recordIds: ['C2'] });
      expect(without.jobs[0].counters).toMatchObject({ coupled: 0, inserted: 0, failed: 1, unmatched: 1 });
      expect((await errorsOf(ctx, without.jobs[0].jobId)).C2).toMatch(/No unique uncoupled matching record \(no candidate\)/);

      const first = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', createNewIfNoMatch: true });
      expect(first.jobs[0].counters).toMatchObject({ coupled: 3, inserted: 2, unmatched: 2, failed: 0 });
      const couplings = await ctx.couplings();
      expect(couplings).toEqual({ C1: 'A1', C2: creationKey('CUSTOMER', 'local', 'C2'), C3: creationKey('CUSTOMER', 'local', 'C3') });
      expect(await ctx.sys.integration('account').where('id', couplings.C2).first()).toMatchObject({
        name: 'Newcomer',
        emailaddress1: 'new@x.example',
        address1_city: 'Lima',
      });
      expect(await ctx.store.listErrors({ jobId: first.jobs[0].jobId })).toHaveLength(0);

      const second = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', createNewIfNoMatch: true });
      expect(second.jobs[0].counters).toMatchObject({ coupled: 0, inserted: 0, unmatched: 0, failed: 0 });
      expect(await ctx.couplings()).toEqual(couplings);
      expect(await ctx.rows('integration')).toHaveLength(3);
    });
  } finally {
    await ctx.close();
  }
});

describe('sync after coupling', () => {
  test.each([
    ['ToIntegrationTable', 'None', 'local'],
    ['Bidirectional', 'GetFromIntegration', 'integration'],
  ] as const)('%s / %s: the newly coupled records are synchronized, %s values win', async (direction, updateConflictResolution, winner) => {
    const ctx = await setup({ direction, updateConflictResolution });
    try {
      await ctx.sys
        .local('customer')
        .insert([
          customer(1, { email: 'ada@x.example', city: 'Oslo', name: 'Ada', phone: '111' }),
          customer(2, { email: 'solo@x.example', city: 'Rome', phone: '333' }),
        ]);
      await ctx.sys
        .integration('account')
        .insert([account('A1', { emailaddress1: 'ada@x.example', address1_city: 'Oslo', name: 'Ada Remote', telephone1: '222' })]);
      await ctx.run(async ({ taskQueue }) => {
        const result = await execute(taskQueue, 'matchBasedCouplingWorkflow', {
          mapping: 'CUSTOMER',
          syncAfterCoupling: true,
          createNewIfNoMatch: direction === 'ToIntegrationTable',
        });
        const expectedDirection = winner === 'local' ? 'ToIntegrationTable' : 'FromIntegrationTable';
        expect(result.jobs.map((j) => [j.type, j.direction, j.status])).toEqual([
          ['Coupling', null, 'succeeded'],
          ['Synchronization', expectedDirection, 'succeeded'],
        ]);
        expect(result.jobs[1].counters).toMatchObject({ modified: 1, failed: 0 });
        const a1 = await ctx.sys.integration('account').where('id', 'A1').first();
        const c1 = await ctx.sys.local('customer').where('id', 'C1').first();
        const phone = winner === 'local' ? '111' : '222';
        expect(a1.telephone1).toBe(phone);
        expect(c1.phone).toBe(phone);
        expect(c1.name === a1.name).toBe(true);
        const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
        expect(jobs.every((j) => j.status === 'succeeded' && j.finishedAt !== null)).toBe(true);
      });
    } finally {
      await ctx.close();
    }
  });
});

test('manual coupling: couples, refuses clearly when either side is coupled or missing, syncs after when asked', async () => {
  const ctx = await setup();
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2, { phone: '999' }), customer(3)]);
    await ctx.sys.integration('account').insert([account('A1'), account('A2'), account('A3')]);
    await ctx.run(async ({ taskQueue }) => {
      const ok = await execute(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
      expect(ok.jobs).toEqual([expect.objectContaining({ type: 'Coupling', status: 'succeeded', counters: expect.objectContaining({ coupled: 1 }) })]);
      expect(await ctx.couplings()).toEqual({ C1: 'A1' });

      expect(await failure(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A2' })).toBe(
        'Cannot couple in mapping CUSTOMER: local record "C1" is already coupled to integration record "A1". Uncouple it first.',
      );
      expect(await failure(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C2', integrationId: 'A1' })).toMatch(
        /integration record "A1" is already coupled to local record "C1"/,
      );
      expect(await failure(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C2', integrationId: 'A404' })).toMatch(
        /Field "integrationId": record "A404" does not exist in integration\.account/,
      );
      expect(await failure(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C1' })).toMatch(/field "integrationId" is required/);
      expect(await ctx.couplings()).toEqual({ C1: 'A1' });
      const refused = (await ctx.store.listJobs({ mappingName: 'CUSTOMER' })).filter((j) => j.status === 'failed');
      expect(refused).toHaveLength(3);
      expect(refused.map((j) => j.message).join('\n')).toMatch(/already coupled to integration record "A1"/);

      const again = await execute(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
      expect(again.jobs[0].counters.coupled).toBe(0);

      const synced = await execute(taskQueue, 'setUpCouplingWorkflow', { mapping: 'CUSTOMER', localId: 'C2', integrationId: 'A2', syncAfter: true });
      expect(synced.jobs.map((j) => j.type)).toEqual(['Coupling', 'Synchronization']);
      expect(synced.jobs[1]).toMatchObject({ direction: 'ToIntegrationTable', counters: { modified: 1 } });
      expect(await ctx.sys.integration('account').where('id', 'A2').first()).toMatchObject({ telephone1: '999', name: 'Customer 2' });
    });
  } finally {
    await ctx.close();
  }
});

test('uncouple some (either side) and all: couplings go, records stay', async () => {
  const ctx = await setup();
  try {
    await ctx.sys.local('customer').insert([1, 2, 3, 4, 5].map((i) => customer(i)));
    await ctx.sys.integration('account').insert([1, 2, 3, 4, 5].map((i) => account(`A${i}`, { emailaddress1: `c${i}@example.com`, address1_city: 'Seattle' })));
    await ctx.run(async ({ taskQueue }) => {
      const coupled = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER' });
      expect(coupled.jobs[0].counters.coupled).toBe(5);

      const some = await execute(taskQueue, 'uncoupleWorkflow', { mapping: 'CUSTOMER', recordIds: ['C1', 'C2', 'C404'] });
      expect(some.jobs).toEqual([expect.objectContaining({ type: 'Uncoupling', status: 'succeeded', counters: expect.objectContaining({ uncoupled: 2 }) })]);
      expect(Object.keys(await ctx.couplings()).sort()).toEqual(['C3', 'C4', 'C5']);

      const bySide = await execute(taskQueue, 'uncoupleWorkflow', { mapping: 'CUSTOMER', recordIds: ['A3'], side: 'integration' });
      expect(bySide.jobs[0].counters.uncoupled).toBe(1);

      expect(await failure(taskQueue, 'uncoupleWorkflow', { mapping: 'CUSTOMER' })).toMatch(/give either "recordIds" \(a list of ids\) or "all": true/);

      const all = await execute(taskQueue, 'uncoupleWorkflow', { mapping: 'CUSTOMER', all: true });
      expect(all.jobs[0].counters.uncoupled).toBe(2);
      expect(await ctx.couplings()).toEqual({});
      expect(await ctx.rows('local')).toHaveLength(5);
      expect(await ctx.rows('integration')).toHaveLength(5);
      const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      expect(
        jobs
          .filter((j) => j.type === 'Uncoupling')
          .map((j) => j.counters.uncoupled)
          .sort(),
      ).toEqual([1, 2, 2]);

      // Matching again couples them again: uncoupling is not a tombstone.
      const again = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER' });
      expect(again.jobs[0].counters.coupled).toBe(5);
    });
  } finally {
    await ctx.close();
  }
});

test('a crash after the remote create and before the coupling write leaves no duplicate and counts each record once', async () => {
  const ctx = await setup({}, { integration: { crashAfterCreateCalls: 0 } });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 23 }, (_, i) => customer(i, { email: `u${i}@x.example`, city: 'Oslo', name: `Unique ${i}` })));
    await ctx.sys.integration('account').insert([0, 1, 2].map((i) => account(`M${i}`, { emailaddress1: `u${i}@x.example`, address1_city: 'Oslo' })));
    await ctx.run(async ({ taskQueue }) => {
      const {
        jobs: [job],
      } = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', createNewIfNoMatch: true, retry: FAST_RETRY });
      expect(ctx.faulty.integration?.calls.crashes).toBe(1);
      expect(ctx.faulty.integration?.calls.createMany).toBe(2);
      expect(job.counters).toMatchObject({ coupled: 23, inserted: 20, unmatched: 20, failed: 0 });
      expect(await ctx.rows('integration')).toHaveLength(23);
      const couplings = await ctx.couplings();
      expect(Object.keys(couplings)).toHaveLength(23);
      expect(new Set(Object.values(couplings)).size).toBe(23);
      expect([couplings.C0, couplings.C1, couplings.C2]).toEqual(['M0', 'M1', 'M2']);
    });
  } finally {
    await ctx.close();
  }
});

test('many batches: filter, bounded concurrency, continue-as-new, and sync after coupling across runs', async () => {
  const ctx = await setup({ tableFilter: [{ field: 'segment', op: 'eq', value: 'Retail' }] });
  try {
    const locals = Array.from({ length: 600 }, (_, i) =>
      customer(i, { email: `m${i}@x.example`, city: 'Oslo', phone: `L${i}`, segment: i % 10 === 0 ? 'Wholesale' : 'Retail', country: i % 2 ? 'us' : 'gb' }),
    );
    await ctx.sys.local.batchInsert('customer', locals, 200);
    await ctx.sys.integration.batchInsert(
      'account',
      Array.from({ length: 600 }, (_, i) => account(`A${i}`, { emailaddress1: `M${i}@X.EXAMPLE`, address1_city: 'oslo', telephone1: `R${i}` })),
      200,
    );
    const queries = jest.spyOn(ctx.sys.systems.integration, 'findCandidates');
    await ctx.run(async ({ taskQueue }) => {
      const handle = await start(taskQueue, 'matchBasedCouplingWorkflow', {
        mapping: 'CUSTOMER',
        filter: [{ field: 'country', op: 'eq', value: 'us' }],
        syncAfterCoupling: true,
        batchSize: 25,
        maxBatchesInFlight: 3,
        batchesPerRun: 4,
      });
      const result = (await handle.result()) as RunResult;
      // Odd ids (country us) outside segment Wholesale (every tenth, all even): 300.
      expect(result.jobs[0].counters).toMatchObject({ coupled: 300, failed: 0, unmatched: 0 });
      expect(result.jobs[1]).toMatchObject({ type: 'Synchronization', counters: { modified: 300, failed: 0 } });
      // 12 batches of 25, all matched at the first level: one query each.
      expect(queries).toHaveBeenCalledTimes(12);
      const couplings = await ctx.couplings();
      expect(Object.keys(couplings)).toHaveLength(300);
      expect(Object.entries(couplings).every(([l, a]) => l.slice(1) === a.slice(1) && Number(l.slice(1)) % 2 === 1)).toBe(true);
      expect(await ctx.sys.integration('account').where('id', 'A7').first()).toMatchObject({ telephone1: 'L7' });
      expect(await ctx.sys.integration('account').where('id', 'A8').first()).toMatchObject({ telephone1: 'R8' });
      const stored = await ctx.store.getJob(result.jobs[1].jobId);
      expect(stored?.counters).toMatchObject({ modified: 300 });
      // The run continued as new: a later run of the same workflow id finished it.
      const description = await temporal.client.workflow.getHandle(handle.workflowId).describe();
      expect(description.runId).not.toBe(handle.firstExecutionRunId);
    });
  } finally {
    await ctx.close();
  }
});

test('bad input and bad mappings fail at once with the field named, writing nothing', async () => {
  const ctx = await setup();
  try {
    await ctx.store.saveMapping(testMapping({ name: 'NOMATCH' }));
    await ctx.store.saveMapping(testMapping({ name: 'FROMONLY', direction: 'FromIntegrationTable', fields: MATCH_FIELDS }));
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ taskQueue }) => {
      expect(await failure(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', filter: [{ field: 'colour', op: 'eq', value: 'red' }] })).toMatch(
        /Field "filter\[0\]\.field": "colour" is not a column of customer/,
      );
      expect(await failure(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'NOMATCH' })).toMatch(/Mapping NOMATCH has no match criteria/);
      expect(await failure(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'FROMONLY', createNewIfNoMatch: true })).toMatch(
        /Field "createNewIfNoMatch": mapping FROMONLY is FromIntegrationTable/,
      );
      expect(await failure(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', createNew: true })).toMatch(/unknown field "createNew"/);
      expect(await failure(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'NOPE' })).toMatch(/no integration table mapping named "NOPE"/);
      expect(await ctx.store.listJobs()).toHaveLength(0);
      expect(await ctx.store.listErrors()).toHaveLength(0);
    });
  } finally {
    await ctx.close();
  }
});

test('given ids: coupled ones are skipped, missing ones get an error row', async () => {
  const ctx = await setup();
  try {
    await ctx.sys.local('customer').insert([customer(1, { email: 'a@x.example', city: 'Oslo' }), customer(2, { email: 'b@x.example', city: 'Oslo' })]);
    await ctx.sys
      .integration('account')
      .insert([account('A1', { emailaddress1: 'a@x.example', address1_city: 'Oslo' }), account('A2', { emailaddress1: 'b@x.example', address1_city: 'Oslo' })]);
    await ctx.run(async ({ taskQueue }) => {
      const first = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', recordIds: ['C1'] });
      expect(first.jobs[0].counters).toMatchObject({ coupled: 1, failed: 0 });
      const second = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', recordIds: ['C1', 'C2', 'C404'] });
      expect(second.jobs[0].counters).toMatchObject({ coupled: 1, failed: 1, unmatched: 0 });
      expect((await errorsOf(ctx, second.jobs[0].jobId)).C404).toMatch(/Local record C404 does not exist in local\.customer/);
      expect(await ctx.couplings()).toEqual({ C1: 'A1', C2: 'A2' });
    });
  } finally {
    await ctx.close();
  }
});

test('two batches claiming one candidate at once: the smallest id holds the claim whichever arrives first, the loser tries its next priority', async () => {
  const ctx = await setup();
  try {
    await ctx.sys
      .local('customer')
      .insert([
        customer(2, { email: 'same@x.example', city: 'Rome', name: 'Rival Two' }),
        customer(3, { email: 'same@x.example', city: 'Rome', name: 'Rival Three' }),
      ]);
    await ctx.sys
      .integration('account')
      .insert([
        account('S1', { emailaddress1: 'same@x.example', address1_city: 'Rome', name: 'Shared' }),
        account('R2', { emailaddress1: 'r2@x.example', name: 'Rival Two' }),
        account('R3', { emailaddress1: 'r3@x.example', name: 'Rival Three' }),
      ]);
    const deps = { store: ctx.store, systems: ctx.sys.systems };
    const { startCouplingJob } = createCouplingJobActivities(deps);
    const { claimMatchBatch, resolveMatchLevel } = createMatchRoundActivities(deps);
    const jobId = randomUUID();
    const job: StartCouplingJobInput = { mapping: 'CUSTOMER', jobId, type: 'Coupling', workflowId: 'test', runId: 'test', matchBased: { filter: [] } };
    await new MockActivityEnvironment().run(startCouplingJob, job);
    // C3's claim reaches the store first; C2's, the smaller id, must still win.
    const claim = ctx.store.claimCandidates.bind(ctx.store);
    let c3Claimed = (): void => undefined;
    const afterC3 = new Promise<void>((resolve) => {
      c3Claimed = resolve;
    });
    jest.spyOn(ctx.store, 'claimCandidates').mockImplementation(async (id, level, claims) => {
      if (claims.some((x) => x.localId === 'C2')) await afterC3;
      await claim(id, level, claims);
      if (claims.some((x) => x.localId === 'C3')) c3Claimed();
    });
    const batch = (level: number, id: string): Promise<unknown> =>
      new MockActivityEnvironment().run(claimMatchBatch, {
        mapping: 'CUSTOMER',
        jobId,
        level,
        selection: { kind: 'ids' as const, ids: [id] },
        filter: [],
        createNewIfNoMatch: false,
      });
    await Promise.all([batch(0, 'C2'), batch(0, 'C3')]);
    await new MockActivityEnvironment().run(resolveMatchLevel, { mapping: 'CUSTOMER', jobId, level: 0 });
    expect(await ctx.couplings()).toEqual({ C2: 'S1' });
    await Promise.all([batch(1, 'C2'), batch(1, 'C3')]);
    await new MockActivityEnvironment().run(resolveMatchLevel, { mapping: 'CUSTOMER', jobId, level: 1 });
    expect(await ctx.couplings()).toEqual({ C2: 'S1', C3: 'R3' });
  } finally {
    await ctx.close();
  }
});

test('more candidates than one query returns: the level never couples on a cut list, and the next level decides', async () => {
  const ctx = await setup();
  try {
    await ctx.sys
      .local('customer')
      .insert([customer(1, { email: null, city: 'Oslo', name: 'Unique' }), customer(2, { email: null, city: 'Oslo', name: 'Nobody' })]);
    const crowd = Array.from({ length: 1001 }, (_, i) => account(`O${String(i).padStart(4, '0')}`, { address1_city: 'Oslo', name: `Crowd ${i}` }));
    await ctx.sys.integration.batchInsert('account', [...crowd, account('U1', { address1_city: 'Bergen', name: 'unique' })], 200);
    await ctx.run(async ({ taskQueue }) => {
      const {
        jobs: [job],
      } = await execute(taskQueue, 'matchBasedCouplingWorkflow', { mapping: 'CUSTOMER', recordIds: ['C1', 'C2'] });
      expect(job.counters).toMatchObject({ coupled: 1, unmatched: 1, failed: 1 });
      expect(await ctx.couplings()).toEqual({ C1: 'U1' });
      expect((await errorsOf(ctx, job.jobId)).C2).toMatch(
        /priority 0 \(email \+ city\): several candidates O0000, .* and \d+ more; priority 1 \(name\): no candidate/,
      );
    });
  } finally {
    await ctx.close();
  }
});
