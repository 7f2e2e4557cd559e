/** Every way a run starts: the typed client, a team's own worker through the plugin, and Schedules. */
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import { FaultyConnector } from '../helpers/faulty-connector';
import { CouplingSyncPlugin } from '../../plugin';
import { CouplingSyncClient } from '../../client';
import { SyncSchedules, scheduleIdFor } from '../../client/schedules';
import type { Store } from '../../store/store';

let temporal: TestTemporal;
let store: Store;
let cleanup: () => Promise<void>;
let sys: TestSystems;

beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});
beforeEach(async () => {
  ({ store, cleanup } = await sqliteDialect.open());
  sys = await openTestSystems();
  await store.saveMapping(testMapping());
  await sys.local('customer').insert(Array.from({ length: 20 }, (_, i) => customer(i)));
});
afterEach(async () => {
  await sys.close();
  await cleanup();
});

const waitFor = async (check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
};

test('a team adds the plugin to its own worker and keeps its own workflows', async () => {
  const taskQueue = `team-${Date.now()}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/team-workflows'),
    plugins: [new CouplingSyncPlugin({ store, systems: sys.systems })],
  });
  await worker.runUntil(async () => {
    const hello = await temporal.client.workflow.execute('teamHelloWorkflow', { taskQueue, workflowId: `hello-${Date.now()}`, args: ['team'] });
    expect(hello).toBe('hello team');
    const sync = new CouplingSyncClient({ client: temporal.client, taskQueue, store });
    const result = await sync.bulkSync({ mapping: 'CUSTOMER' });
    expect(result.jobs[0].counters).toMatchObject({ inserted: 20 });
    const [job] = await sync.listJobs({ mapping: 'CUSTOMER' });
    expect(job).toMatchObject({ id: result.jobs[0].jobId, status: 'succeeded' });
    expect(await sync.listErrors({ mapping: 'CUSTOMER' })).toEqual([]);
  });
  expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 20 });
});

test('a run started another way while one is going fails at once naming the running one; nothing runs twice', async () => {
  const slow = { ...sys.systems, integration: new FaultyConnector(sys.systems.integration, { delayMs: 400 }) };
  await withWorker(temporal, { store, systems: slow }, async ({ sync, taskQueue }) => {
    const first = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 5, maxBatchesInFlight: 1 });
    await waitFor(async () => (await sync.progress(first.workflowId)).batchesCompleted > 0, 10_000);
    // As the Web UI would: any workflow id.
    const other = await temporal.client.workflow.start('bulkSyncWorkflow', { taskQueue, workflowId: `ui-${Date.now()}`, args: [{ mapping: 'CUSTOMER' }] });
    const error = await other.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toBe(
      'Mapping CUSTOMER is already being worked on by workflow bulk-sync/CUSTOMER; wait for it to finish or cancel it.',
    );
    await first.result();
    expect(await store.listJobs({ mappingName: 'CUSTOMER' })).toHaveLength(1);
    // The lease is released at the end: the next run goes.
    const next = await temporal.client.workflow.execute('bulkSyncWorkflow', { taskQueue, workflowId: `ui2-${Date.now()}`, args: [{ mapping: 'CUSTOMER' }] });
    expect(next).toMatchObject({ mapping: 'CUSTOMER' });
  });
});

test('a schedule fires, writes job rows, stops when paused and is gone when deleted', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const schedules = new SyncSchedules(temporal.client, taskQueue);
    const created = await schedules.create('CUSTOMER', { every: '2s' });
    try {
      expect(created).toMatchObject({ scheduleId: scheduleIdFor('CUSTOMER'), paused: false, every: '2 seconds' });
      await waitFor(async () => (await store.listJobs({ mappingName: 'CUSTOMER' })).filter((j) => j.status === 'succeeded').length >= 2, 20_000);
      expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 20 });
      const jobs = await store.listJobs({ mappingName: 'CUSTOMER' });
      expect(jobs.every((j) => j.workflowId?.startsWith('bulk-sync/CUSTOMER'))).toBe(true);

      await schedules.pause('CUSTOMER', 'maintenance');
      expect(await schedules.describe('CUSTOMER')).toMatchObject({ paused: true, note: 'maintenance' });
      await new Promise((r) => setTimeout(r, 1500)); // let a run already started finish
      const whilePaused = (await store.listJobs({ mappingName: 'CUSTOMER' })).length;
      await new Promise((r) => setTimeout(r, 4500));
      expect((await store.listJobs({ mappingName: 'CUSTOMER' })).length).toBe(whilePaused);

      await schedules.updateInterval('CUSTOMER', '1 hour');
      expect((await schedules.describe('CUSTOMER')).every).toBe('1 hour');
      await schedules.resume('CUSTOMER');
      await schedules.trigger('CUSTOMER');
      await waitFor(async () => (await store.listJobs({ mappingName: 'CUSTOMER' })).length > whilePaused, 15_000);
      expect((await schedules.list()).map((s) => s.mapping)).toContain('CUSTOMER');
    } finally {
      await schedules.delete('CUSTOMER');
    }
    expect((await schedules.list()).map((s) => s.mapping)).not.toContain('CUSTOMER');
    await expect(schedules.describe('CUSTOMER')).rejects.toThrow();
  });
});
