/**
 * fullSynchronization when things do not go through: refused plans (a cycle,
 * an unsaved dependency, an unknown mapping) write nothing; a mapping whose
 * child fails stops its dependants only; cancelling the run cancels its
 * children, whose jobs close as cancelled.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account } from '../helpers/systems';
import { integrationTable, mappingOn, openFullSyncWorld } from '../helpers/full-sync-world';
import { childWorkflowId } from '../../workflows/full-synchronization';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

/** The failure message of a run that failed, or a description of what it did instead. */
async function failureOf(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    (r) => new Error(`completed: ${JSON.stringify(r).slice(0, 300)}`),
    (e: unknown) => e,
  );
  if (!(error instanceof WorkflowFailedError)) return `not a workflow failure: ${String(error)}`;
  return error.cause?.message ?? error.message;
}

describe('refused before anything starts', () => {
  test('a cycle stored past the save check, an unsaved dependency and an unknown mapping each fail the run naming them; nothing is written', async () => {
    const world = await openFullSyncWorld(temporal, [
      mappingOn('CY_A'),
      mappingOn('CY_B', { dependsOn: ['CY_A'] }),
      mappingOn('LOOSE', { dependsOn: ['NEVER_SAVED'] }),
      mappingOn('FINE'),
    ]);
    try {
      for (const name of ['CY_A', 'CY_B', 'LOOSE', 'FINE']) await world.addCustomers(name, 2);
      // Written by hand, as an older version or a direct edit might have: saves refuse this.
      await world.store
        .knex('integration_table_mappings')
        .where('name', 'CY_A')
        .update({ depends_on: JSON.stringify(['CY_B']) });
      await world.run(async ({ sync }) => {
        expect(await failureOf(sync.fullSynchronization({ mappings: ['CY_B', 'FINE'], retry: FAST_RETRY }))).toBe(
          'Full synchronization refused: The mappings depend on each other in a cycle: CY_A -> CY_B -> CY_A.',
        );
        expect(await failureOf(sync.fullSynchronization({ mappings: ['LOOSE', 'FINE'], retry: FAST_RETRY }))).toBe(
          'Full synchronization refused: Mapping LOOSE depends on NEVER_SAVED, which is not a saved mapping.',
        );
        expect(await failureOf(sync.fullSynchronization({ mappings: ['FINE', 'NOPE'], retry: FAST_RETRY }))).toBe(
          'Field "mappings": no integration table mapping named "NOPE"; known mappings: CY_A, CY_B, FINE, LOOSE.',
        );
        // All mappings: both problems are among them; the unsaved dependency is named first.
        expect(await failureOf(sync.fullSynchronization({ retry: FAST_RETRY }))).toMatch(/LOOSE depends on NEVER_SAVED/);
      });
      expect(await world.store.listJobs({})).toEqual([]);
      for (const name of ['CY_A', 'CY_B', 'LOOSE', 'FINE']) expect(await world.count(name, 'integration')).toBe(0);
    } finally {
      await world.close();
    }
  });
});

test("a mapping whose child fails stops its dependants, with the child's reason; independent mappings finish", async () => {
  // NO_MATCH has records on both sides and no match fields: its match-based coupling is refused.
  const world = await openFullSyncWorld(temporal, [mappingOn('NO_MATCH'), mappingOn('NO_MATCH_AFTER', { dependsOn: ['NO_MATCH'] }), mappingOn('BESIDE')]);
  try {
    await world.addCustomers('NO_MATCH', 3);
    await world.sys.integration(integrationTable('NO_MATCH')).insert([account('A1')]);
    await world.addCustomers('NO_MATCH_AFTER', 2);
    await world.addCustomers('BESIDE', 2);
    await world.run(async ({ sync }) => {
      const handle = await sync.startFullSynchronization({ retry: FAST_RETRY });
      const result = await handle.result();
      expect(result.status).toBe('incomplete');
      const byName = Object.fromEntries(result.mappings.map((m) => [m.mapping, m]));
      expect(byName.NO_MATCH).toMatchObject({ state: 'failed', workflowIds: [childWorkflowId(handle.workflowId, 'NO_MATCH', 'couple')] });
      expect(byName.NO_MATCH.reason).toMatch(/^Mapping NO_MATCH has no match criteria/);
      expect(byName.NO_MATCH_AFTER).toMatchObject({ state: 'notStarted', reason: 'Not started: it depends on NO_MATCH, which failed.' });
      expect(byName.BESIDE).toMatchObject({ state: 'done', counters: { inserted: 2 } });
      const child = await temporal.client.workflow.getHandle(childWorkflowId(handle.workflowId, 'NO_MATCH', 'couple')).describe();
      expect(child.status.name).toBe('FAILED');
    });
    expect(await world.count('NO_MATCH', 'integration')).toBe(1);
    expect(await world.count('NO_MATCH_AFTER', 'integration')).toBe(0);
    expect(await world.count('BESIDE', 'integration')).toBe(2);
  } finally {
    await world.close();
  }
});

test('cancelling the run cancels the running child, which closes its job as cancelled; its dependant is not started', async () => {
  const world = await openFullSyncWorld(temporal, [mappingOn('SLOW'), mappingOn('SLOW_AFTER', { dependsOn: ['SLOW'] })], {
    integration: { delayMs: 100 },
  });
  try {
    await world.addCustomers('SLOW', 300);
    await world.addCustomers('SLOW_AFTER', 2);
    await world.run(async ({ sync }) => {
      const handle = await sync.startFullSynchronization({ mappings: ['SLOW_AFTER'], batchSize: 10, maxBatchesInFlight: 1, retry: FAST_RETRY });
      const childId = childWorkflowId(handle.workflowId, 'SLOW', 'sync');
      // Cancelled once the child has written something (polled, not timed: a loaded machine gets there later).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const p = await sync.fullSynchronizationProgress(handle.workflowId);
        const syncing = p.mappings[0]?.state === 'syncing';
        if (syncing && (await sync.progress(childId).catch(() => null))?.counters.inserted) break;
        if (Date.now() > deadline) throw new Error(`the child never got going: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await sync.cancel(handle.workflowId);
      expect(await handle.result().catch((e: unknown) => e)).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      expect((await temporal.client.workflow.getHandle(childId).describe()).status.name).toBe('CANCELLED');

      const progress = await sync.fullSynchronizationProgress(handle.workflowId);
      expect(progress.phase).toBe('cancelled');
      expect(progress.mappings.map((m) => [m.mapping, m.state])).toEqual([
        ['SLOW', 'cancelled'],
        ['SLOW_AFTER', 'notStarted'],
      ]);
      expect(progress.mappings[1]).toMatchObject({ reason: 'Not started: it depends on SLOW, which was cancelled.', workflowIds: [] });
    });
    const [job] = await world.store.listJobs({ mappingName: 'SLOW' });
    expect(job.status).toBe('cancelled');
    const created = await world.count('SLOW', 'integration');
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(300);
    // What the cancelled job counts is what it wrote.
    expect(job.counters.inserted).toBe(created);
    expect(await world.store.countCouplings('SLOW')).toBe(created);
    expect(await world.store.listJobs({ mappingName: 'SLOW_AFTER' })).toEqual([]);
    expect(await world.count('SLOW_AFTER', 'integration')).toBe(0);
  } finally {
    await world.close();
  }
});
