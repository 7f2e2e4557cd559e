/**
 * Idle back-off of a mapping's Schedule on the real dev server: each scheduled
 * run that finds nothing doubles the interval up to the ceiling; a live change,
 * or a scheduled run that finds work, restores the normal interval.
 */
import { Client } from '@temporalio/client';
import { adjustScheduleIntervalWith } from '../../activities/schedule-backoff';
import { SyncSchedules, scheduleIdFor } from '../../client/schedules';
import { eventually } from '../helpers/eventually';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { customer, tick } from '../helpers/systems';
import { openSyncContext } from '../helpers/sync-context';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const MAPPING = 'IDLE_BACKOFF';

test('idle scheduled runs lengthen the interval step by step up to the ceiling; a change brings it back', async () => {
  const ctx = await openSyncContext(temporal, { name: MAPPING });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await ctx.run(async ({ sync, taskQueue }) => {
      const schedules = new SyncSchedules(temporal.client, taskQueue);
      const handle = temporal.client.schedule.getHandle(scheduleIdFor(MAPPING));
      const created = await schedules.create(MAPPING, { every: '1 hour', idleUpTo: '8 hours' });
      expect(created).toMatchObject({ every: '1 hour', normalEvery: '1 hour', idleUpTo: '8 hours' });
      let runs = 0;
      /** Triggers one scheduled run and waits until it has ended and the interval is `every`. */
      const runOnce = async (every: string): Promise<void> => {
        await schedules.trigger(MAPPING);
        runs++;
        await eventually(`scheduled run ${runs}`, async () => {
          const d = await handle.describe();
          return d.info.recentActions.length >= runs && d.info.runningActions.length === 0;
        });
        await eventually(`the interval ${every} after run ${runs}`, async () => (await schedules.describe(MAPPING)).every === every);
      };
      try {
        await runOnce('1 hour'); // creates both records: work, the interval stays
        expect(await ctx.store.countCouplings(MAPPING)).toBe(2);
        await runOnce('2 hours');
        await runOnce('4 hours');
        await runOnce('8 hours');
        await runOnce('8 hours'); // the ceiling
        const jobs = await ctx.store.listJobs({ mappingName: MAPPING });
        expect(jobs.filter((j) => j.status === 'succeeded')).toHaveLength(5);

        // A live change restores the normal interval.
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Live', modified_on: tick() });
        await sync.live.notify(MAPPING, { side: 'local', ids: ['C1'] }, { debounceMs: 0 });
        await eventually('the normal interval after a live change', async () => (await schedules.describe(MAPPING)).every === '1 hour');
        await sync.live.stop(MAPPING);

        // Idle again, then a scheduled run that finds a change restores it too.
        await runOnce('2 hours');
        await ctx.sys.local('customer').where('id', 'C2').update({ name: 'Scheduled', modified_on: tick() });
        await runOnce('1 hour');
        expect((await schedules.describe(MAPPING)).normalEvery).toBe('1 hour');

        // A new interval set by hand is the one it comes back to.
        await schedules.updateInterval(MAPPING, '3 hours');
        expect(await schedules.describe(MAPPING)).toMatchObject({ every: '3 hours', normalEvery: '3 hours' });
        await runOnce('6 hours');
      } finally {
        await schedules.delete(MAPPING);
      }
    });
  } finally {
    await ctx.close();
  }
});

test('a schedule created with idleUpTo false keeps its interval', async () => {
  const schedules = new SyncSchedules(temporal.client, 'unused');
  const created = await schedules.create('FIXED_INTERVAL', { every: '1 hour', idleUpTo: false, paused: true });
  try {
    expect(created).toMatchObject({ every: '1 hour', normalEvery: null, idleUpTo: null });
  } finally {
    await schedules.delete('FIXED_INTERVAL');
  }
  await expect(schedules.create('FIXED_INTERVAL', { every: '1 hour', idleUpTo: 'forever' })).rejects.toThrow('Option "idleUpTo": "forever" is not a duration');
});

test('a pause that lands between the back-off reading the Schedule and writing it stays: the interval changes, the pause and its note are kept', async () => {
  const mapping = 'BACKOFF_VS_PAUSE';
  const schedules = new SyncSchedules(temporal.client, 'unused');
  await schedules.create(mapping, { every: '1 hour', idleUpTo: '8 hours' });
  try {
    // The administrator's pause reaches the server just before the back-off's write does.
    const service = temporal.client.connection.workflowService;
    const original = service.updateSchedule.bind(service);
    let pausedInTheWindow = false;
    const patched = Object.create(service) as typeof service;
    patched.updateSchedule = (async (request: Parameters<typeof original>[0]) => {
      if (!pausedInTheWindow) {
        pausedInTheWindow = true;
        await schedules.pause(mapping, 'maintenance');
      }
      return original(request);
    }) as typeof original;
    const connection = Object.create(temporal.client.connection) as typeof temporal.client.connection;
    Object.defineProperty(connection, 'workflowService', { value: patched });
    const client = new Client({ connection });

    const result = await adjustScheduleIntervalWith(client, { mapping, foundWork: false });
    expect(pausedInTheWindow).toBe(true);
    expect(result).toEqual({ everyMs: 2 * 3600_000, changed: true });
    expect(await schedules.describe(mapping)).toMatchObject({ every: '2 hours', normalEvery: '1 hour', paused: true, note: 'maintenance' });
  } finally {
    await schedules.delete(mapping);
  }
});
