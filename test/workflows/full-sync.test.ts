/**
 * fullSynchronization on the real dev server: dependency order, mappings side
 * by side, the review before syncing into populated tables, uncoupled records
 * created for mappings that sync only coupled ones. Rows, couplings, job rows
 * and the workflows' own status are what is checked.
 */
import { randomUUID } from 'node:crypto';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account } from '../helpers/systems';
import { integrationTable, mappingOn, openFullSyncWorld, type FullSyncWorld } from '../helpers/full-sync-world';
import type { FullSynchronizationResult } from '../../common/types';
import type { JobRow } from '../../store/store';
import { childWorkflowId } from '../../workflows/full-synchronization';
import { workflowIds } from '../../client/workflow-ids';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

/** The one synchronization job a mapping's child bulk sync wrote (one pass: the test mappings go one way). */
async function syncJob(world: FullSyncWorld, mapping: string, parentId: string): Promise<JobRow> {
  const jobs = (await world.store.listJobs({ mappingName: mapping })).filter((j) => j.workflowId === childWorkflowId(parentId, mapping, 'sync'));
  expect(jobs).toHaveLength(1);
  return jobs[0];
}

const states = (result: FullSynchronizationResult): Record<string, string> => Object.fromEntries(result.mappings.map((m) => [m.mapping, m.state]));

describe('dependency order', () => {
  // C depends on B, which depends on A; D depends on nothing.
  const MAPPINGS = [mappingOn('FS_C', { dependsOn: ['FS_B'] }), mappingOn('FS_B', { dependsOn: ['FS_A'] }), mappingOn('FS_A'), mappingOn('FS_D')];
  const NAMES = ['FS_A', 'FS_B', 'FS_C', 'FS_D'];

  test('each mapping starts after what it depends on finished, independent ones side by side; everything is created once', async () => {
    const world = await openFullSyncWorld(temporal, MAPPINGS);
    try {
      for (const name of NAMES) await world.addCustomers(name, 5);
      await world.run(async ({ sync }) => {
        // Asking for C brings B and A; D is asked for by name.
        const handle = await sync.startFullSynchronization({ mappings: ['FS_D', 'FS_C'], retry: FAST_RETRY });
        expect(handle.workflowId).toBe(workflowIds.fullSynchronization(['FS_C', 'FS_D']));
        const result = await handle.result();
        expect(result.status).toBe('succeeded');
        expect(result.mappings.map((m) => m.mapping)).toEqual(['FS_A', 'FS_B', 'FS_C', 'FS_D']);
        expect(states(result)).toEqual({ FS_A: 'done', FS_B: 'done', FS_C: 'done', FS_D: 'done' });
        expect(result.mappings.find((m) => m.mapping === 'FS_C')?.dependsOn).toEqual(['FS_B']);

        for (const name of NAMES) {
          const entry = result.mappings.find((m) => m.mapping === name);
          expect(entry).toMatchObject({
            reason: null,
            review: { localRecords: 1, integrationRecords: 0, couplings: 0, needsCoupling: false },
            workflowIds: [childWorkflowId(handle.workflowId, name, 'sync')],
            counters: { inserted: 5, coupled: 5, failed: 0 },
          });
          expect(await world.count(name, 'integration')).toBe(5);
          expect(await world.store.countCouplings(name)).toBe(5);
          expect((await syncJob(world, name, handle.workflowId)).status).toBe('succeeded');
        }

        // A's job closed before B's opened, B's before C's: each waited for what it depends on.
        const [a, b, c] = await Promise.all(['FS_A', 'FS_B', 'FS_C'].map((n) => syncJob(world, n, handle.workflowId)));
        expect(a.finishedAt! <= b.startedAt).toBe(true);
        expect(b.finishedAt! <= c.startedAt).toBe(true);

        // A and D have no dependencies: both were reviewed in the run's first step, before either review finished.
        const events = (await handle.fetchHistory()).events ?? [];
        const reviews = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reviewMapping');
        const reviewIds = new Set(reviews.map((r) => Number(r.eventId)));
        const firstDone = events.findIndex((e) => reviewIds.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)));
        expect(reviews).toHaveLength(4);
        expect(events.indexOf(reviews[1])).toBeLessThan(firstDone);
        const childStarts = events
          .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
          .filter((id): id is string => typeof id === 'string');
        expect(childStarts.indexOf(childWorkflowId(handle.workflowId, 'FS_A', 'sync'))).toBeLessThan(
          childStarts.indexOf(childWorkflowId(handle.workflowId, 'FS_B', 'sync')),
        );

        // The progress query answers after the run too, for every mapping.
        const progress = await sync.fullSynchronizationProgress(handle.workflowId);
        expect(progress.phase).toBe('done');
        expect(progress.mappings.map((m) => m.state)).toEqual(['done', 'done', 'done', 'done']);

        // Again: everything is there once, so nothing is created, and every record is read (watermarks ignored).
        const again = await sync.fullSynchronization({ mappings: ['FS_C', 'FS_D'], retry: FAST_RETRY });
        expect(again.status).toBe('succeeded');
        for (const entry of again.mappings) {
          expect(entry.review).toMatchObject({ couplings: 5, localRecords: 5, integrationRecords: 5, needsCoupling: false });
          expect(entry.counters).toMatchObject({ inserted: 0, coupled: 0, modified: 0, unchanged: 5 });
          expect(await world.count(entry.mapping, 'integration')).toBe(5);
        }
      });
    } finally {
      await world.close();
    }
  });

  test('maxMappingsInFlight 1: one mapping at a time, in dependency order, started from plain JSON as the Web UI does', async () => {
    const world = await openFullSyncWorld(temporal, MAPPINGS);
    try {
      for (const name of NAMES) await world.addCustomers(name, 3);
      await world.run(async ({ taskQueue }) => {
        const workflowId = `web-ui/${randomUUID()}`;
        const handle = await temporal.client.workflow.start('fullSynchronizationWorkflow', {
          taskQueue,
          workflowId,
          args: [JSON.parse('{"maxMappingsInFlight": 1, "retry": {"maximumAttempts": 3, "initialIntervalMs": 50}}')],
        });
        const result = (await handle.result()) as FullSynchronizationResult;
        expect(result.status).toBe('succeeded');
        const jobs = await Promise.all(result.mappings.map((m) => syncJob(world, m.mapping, workflowId)));
        expect(jobs.map((j) => j.mappingName)).toEqual(['FS_A', 'FS_B', 'FS_C', 'FS_D']);
        for (let i = 1; i < jobs.length; i++) expect(jobs[i - 1].finishedAt! <= jobs[i].startedAt).toBe(true);
        for (const name of NAMES) expect(await world.count(name, 'integration')).toBe(3);
        // The children are tagged for the Web UI's filters.
        const child = await temporal.client.workflow.getHandle(childWorkflowId(workflowId, 'FS_B', 'sync')).describe();
        expect(child.searchAttributes).toMatchObject({ CouplingMapping: ['FS_B'], CouplingRunKind: ['bulkSync'] });
      });
    } finally {
      await world.close();
    }
  });
});

describe('review of populated tables', () => {
  const MATCHED = [
    { localField: 'name', integrationField: 'name', direction: 'ToIntegrationTable' as const },
    { localField: 'email', integrationField: 'emailaddress1', direction: 'ToIntegrationTable' as const, useForMatching: true },
  ];
  const MAPPINGS = [
    mappingOn('POP', { fields: MATCHED, direction: 'ToIntegrationTable' }),
    // Depends on POP: not started when POP stops.
    mappingOn('POP_AFTER', { dependsOn: ['POP'] }),
  ];

  /** Six customers, five of which already have an account with their e-mail (in another letter case), and one account of no customer. */
  async function populate(world: FullSyncWorld): Promise<void> {
    await world.addCustomers('POP', 6);
    await world.sys
      .integration(integrationTable('POP'))
      .insert([...[0, 1, 2, 3, 4].map((i) => account(`A${i}`, { name: `Old ${i}`, emailaddress1: `C${i}@EXAMPLE.com` })), account('A-only')]);
    await world.addCustomers('POP_AFTER', 2);
  }

  test('onPopulated "stop": the mapping stops, saying why, its dependant is not started, and nothing is written', async () => {
    const world = await openFullSyncWorld(temporal, MAPPINGS);
    try {
      await populate(world);
      await world.run(async ({ sync }) => {
        const result = await sync.fullSynchronization({ mappings: ['POP_AFTER'], onPopulated: 'stop', retry: FAST_RETRY });
        expect(result.status).toBe('incomplete');
        const [pop, after] = result.mappings;
        expect(pop).toMatchObject({
          mapping: 'POP',
          state: 'failed',
          review: { localRecords: 1, integrationRecords: 1, couplings: 0, countedUpTo: 1, needsCoupling: true },
          workflowIds: [],
          jobs: [],
        });
        expect(pop.reason).toMatch(/^Mapping POP: both tables already hold records .* only 0 are coupled, so syncing would create duplicates/);
        expect(pop.reason).toContain('onPopulated "couple"');
        expect(after).toMatchObject({ mapping: 'POP_AFTER', state: 'notStarted', reason: 'Not started: it depends on POP, which failed.', workflowIds: [] });
      });
      expect(await world.count('POP', 'integration')).toBe(6);
      expect(await world.count('POP', 'local')).toBe(6);
      expect(await world.count('POP_AFTER', 'integration')).toBe(0);
      expect(await world.store.countCouplings('POP')).toBe(0);
      expect(await world.store.listJobs({})).toEqual([]);
    } finally {
      await world.close();
    }
  });

  test('onPopulated "couple" (the default): matched by e-mail first, the unmatched one created, then synced; nothing is doubled', async () => {
    const world = await openFullSyncWorld(temporal, MAPPINGS);
    try {
      await populate(world);
      await world.run(async ({ sync }) => {
        const handle = await sync.startFullSynchronization({ mappings: ['POP_AFTER'], retry: FAST_RETRY });
        const result = await handle.result();
        expect(states(result)).toEqual({ POP: 'done', POP_AFTER: 'done' });
        const pop = result.mappings[0];
        expect(pop.workflowIds).toEqual([childWorkflowId(handle.workflowId, 'POP', 'couple'), childWorkflowId(handle.workflowId, 'POP', 'sync')]);
        expect(pop.jobs.map((j) => [j.type, j.status])).toEqual([
          ['Coupling', 'succeeded'],
          ['Synchronization', 'succeeded'],
        ]);
        // C5 found no account: the coupling job created it (create-new: the mapping writes to the integration side); the sync
        // then updated the five matched accounts in place.
        expect(pop.jobs[0].counters).toMatchObject({ coupled: 6, inserted: 1, unmatched: 1, failed: 0 });
        expect(pop.jobs[1].counters).toMatchObject({ inserted: 0, coupled: 0, modified: 5, unchanged: 1, failed: 0 });
      });
      const accounts = await world.rows('POP', 'integration');
      expect(accounts).toHaveLength(7);
      const emails = accounts.map((a) => String(a.emailaddress1).toLowerCase());
      expect(new Set(emails).size).toBe(7);
      for (let i = 0; i < 6; i++) expect(emails.filter((e) => e === `c${i}@example.com`)).toHaveLength(1);
      // The matched accounts were updated in place, not duplicated.
      expect(accounts.find((a) => a.id === 'A3')).toMatchObject({ name: 'Customer 3' });
      expect(await world.count('POP', 'local')).toBe(6);
      expect(await world.store.countCouplings('POP')).toBe(6);
      expect(await world.count('POP_AFTER', 'integration')).toBe(2);
      // No error row for a record that was then created.
      expect(await world.store.listErrors({ mappingName: 'POP' })).toEqual([]);
    } finally {
      await world.close();
    }
  });
});

test('a mapping that syncs only coupled records still gets its uncoupled records created by a full synchronization', async () => {
  const world = await openFullSyncWorld(temporal, [mappingOn('ONLY_COUPLED', { syncOnlyCoupledRecords: true })]);
  try {
    await world.addCustomers('ONLY_COUPLED', 4);
    await world.run(async ({ sync }) => {
      // A bulk sync, even of all records, leaves them: the mapping syncs only coupled records.
      const bulk = await sync.bulkSync({ mapping: 'ONLY_COUPLED', fullSync: true });
      expect(bulk.jobs[0].counters).toMatchObject({ inserted: 0, coupled: 0 });
      expect(await world.count('ONLY_COUPLED', 'integration')).toBe(0);

      const result = await sync.fullSynchronization({ mappings: ['ONLY_COUPLED'], retry: FAST_RETRY });
      expect(result.mappings[0]).toMatchObject({ state: 'done', counters: { inserted: 4, coupled: 4, failed: 0 } });
      expect(await world.count('ONLY_COUPLED', 'integration')).toBe(4);
      expect(await world.store.countCouplings('ONLY_COUPLED')).toBe(4);

      // Only for that run: a record added later is left to Set Up Coupling or the next full synchronization again.
      await world.addCustomers('ONLY_COUPLED', 1, 10);
      const later = await sync.bulkSync({ mapping: 'ONLY_COUPLED' });
      expect(later.jobs[0].counters).toMatchObject({ inserted: 0 });
      expect(await world.count('ONLY_COUPLED', 'integration')).toBe(4);
    });
  } finally {
    await world.close();
  }
});
