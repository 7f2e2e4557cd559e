/**
 * Live sync on the real dev server: a change on either side of a coupled
 * record arrives on the other through a notification alone (no Schedule, no
 * bulk run started by hand); notifications within the debounce window are one
 * run; "many changed" is an incremental run; pause keeps changes, resume runs
 * them, stop ends the workflow; a bad notification is refused and runs nothing;
 * the workflow continues as new carrying what is pending.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { liveChangesSignal } from '../../common/definitions';
import type { LiveSyncState } from '../../common/types';
import { workflowIds } from '../../client';
import { eventually } from '../helpers/eventually';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { customer, tick } from '../helpers/systems';
import { openSyncContext, type SyncContext } from '../helpers/sync-context';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const accountOf = async (ctx: SyncContext, localId: string, mapping = 'LIVE_BOTH'): Promise<Record<string, unknown> | undefined> => {
  const [coupling] = await ctx.store.getCouplings(mapping, 'local', [localId]);
  return coupling ? ctx.sys.integration('account').where('id', coupling.integrationId).first() : undefined;
};

test('a change on either side reaches the other through a notification alone, and one window of notifications is one run', async () => {
  const ctx = await openSyncContext(temporal, { name: 'LIVE_BOTH', direction: 'Bidirectional' });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'LIVE_BOTH' });
      const live = sync.live;
      // Long enough for twenty notifications on a busy machine, short enough to wait in the worker.
      const settings = { debounceMs: 1500 };

      // Local -> integration.
      await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Changed locally', modified_on: tick() });
      await live.notify('LIVE_BOTH', { side: 'local', ids: ['C1'] }, settings);
      await eventually('the local change on the integration side', async () => (await accountOf(ctx, 'C1'))?.name === 'Changed locally');

      // Integration -> local.
      const account = await accountOf(ctx, 'C1');
      await ctx.sys.integration('account').where('id', String(account?.id)).update({ name: 'Changed remotely', modified_on: tick() });
      await live.notify('LIVE_BOTH', { side: 'integration', ids: [String(account?.id)] }, settings);
      await eventually(
        'the integration change on the local side',
        async () => (await ctx.sys.local('customer').where('id', 'C1').first())?.name === 'Changed remotely',
      );
      const afterTwo = await eventually('two runs', async () => {
        const s = await live.state('LIVE_BOTH');
        return s.runs === 2 && s.phase === 'waiting' ? s : null;
      });
      expect(afterTwo.lastRun).toMatchObject({ status: 'succeeded' });
      expect(afterTwo.lastRun?.jobs[0]).toMatchObject({ direction: 'FromIntegrationTable', counters: { modified: 1, failed: 0 } });

      // Idle costs nothing: while no change arrives the workflow has no timer, and its history does not grow.
      const handle = temporal.client.workflow.getHandle(workflowIds.liveSync('LIVE_BOTH'));
      // The windows waited in the worker (an activity each), not on server timers, which fire a second late.
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'liveDebounce').length).toBeGreaterThanOrEqual(1);
      const before = (await handle.describe()).historyLength;
      await new Promise((r) => setTimeout(r, 3000));
      expect((await handle.describe()).historyLength).toBe(before);

      // Twenty new records, each told of by a notification of its own, all within the window: one run creates them all.
      await ctx.sys.local('customer').insert(Array.from({ length: 20 }, (_, i) => customer(100 + i)));
      await Promise.all(Array.from({ length: 20 }, (_, i) => live.notify('LIVE_BOTH', { side: 'local', ids: [`C${100 + i}`] })));
      const afterBurst = await eventually('the burst run', async () => {
        const s = await live.state('LIVE_BOTH');
        return s.runs === 3 && s.phase === 'waiting' ? s : null;
      });
      expect(afterBurst.lastRun?.jobs[0]).toMatchObject({ direction: 'ToIntegrationTable', counters: { inserted: 20, coupled: 20, failed: 0 } });
      expect(afterBurst.notifications).toBe(22);
      expect(await ctx.store.countCouplings('LIVE_BOTH')).toBe(21);

      // "Many changed": an incremental run reads the changes itself.
      await ctx.sys.local('customer').whereIn('id', ['C100', 'C101', 'C102']).update({ city: 'Oslo', modified_on: tick() });
      await live.notify('LIVE_BOTH', { side: 'local', many: true });
      await eventually('the incremental run', async () => (await live.state('LIVE_BOTH')).runs === 4);
      await eventually('the cities', async () => {
        const cities = await Promise.all(['C100', 'C101', 'C102'].map(async (id) => (await accountOf(ctx, id))?.address1_city));
        return cities.every((c) => c === 'Oslo');
      });
      const final: LiveSyncState = await live.stop('LIVE_BOTH');
      expect(final).toMatchObject({ phase: 'stopped', runs: 4, refused: 0, pending: { local: 0, integration: 0, many: [] } });
    });
  } finally {
    await ctx.close();
  }
});

test('paused, changes wait; resumed, they run; a bad notification is refused and runs nothing', async () => {
  const ctx = await openSyncContext(temporal, { name: 'LIVE_PAUSE' });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await ctx.run(async ({ sync }) => {
      const live = sync.live;
      // The client refuses a bad change before anything starts, naming the field.
      await expect(live.notify('LIVE_PAUSE', { side: 'local', ids: [] })).rejects.toThrow(/ids/);
      await expect(live.notify('LIVE_PAUSE', { side: 'local', ids: ['C1'], many: true })).rejects.toThrow(/ids/);

      const handle = await live.start({ mapping: 'LIVE_PAUSE', debounceMs: 50, paused: true });
      // Sent past the client's check: the workflow refuses it and counts it.
      await handle.signal(liveChangesSignal, { side: 'sideways', ids: ['C1'] });
      await live.notify('LIVE_PAUSE', { side: 'local', ids: ['C1', 'C2'] });
      await eventually('the notifications', async () => (await live.state('LIVE_PAUSE')).notifications === 2);
      await new Promise((r) => setTimeout(r, 500));
      const paused = await live.state('LIVE_PAUSE');
      expect(paused).toMatchObject({ phase: 'paused', paused: true, runs: 0, refused: 1, pending: { local: 2 } });
      expect(await ctx.sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 0 });

      await live.resume('LIVE_PAUSE');
      await eventually('the records', async () => Number((await ctx.sys.integration('account').count({ n: '*' }).first())?.n) === 2);
      const resumed = await eventually('the run', async () => {
        const s = await live.state('LIVE_PAUSE');
        return s.runs === 1 && s.phase === 'waiting' ? s : null;
      });
      expect(resumed).toMatchObject({ paused: false, refused: 1, pending: { local: 0 } });
      await live.stop('LIVE_PAUSE');
    });
  } finally {
    await ctx.close();
  }
});

test('it continues as new after its runs, carrying the changes still pending; an unknown mapping fails it at once', async () => {
  const ctx = await openSyncContext(temporal, { name: 'LIVE_CAN' });
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 6 }, (_, i) => customer(i + 1)));
    await ctx.run(async ({ sync }) => {
      const live = sync.live;
      const handle = await live.start({ mapping: 'LIVE_CAN', debounceMs: 0, maxBatch: 2, runsPerWorkflow: 2 });
      const first = (await handle.describe()).runId;
      // Six ids at once, two per run, two runs per workflow run: three workflow runs.
      await live.notify('LIVE_CAN', { side: 'local', ids: ['C1', 'C2', 'C3', 'C4', 'C5', 'C6'] });
      await eventually('six records', async () => (await ctx.store.countCouplings('LIVE_CAN')) === 6);
      const state = await eventually('three runs', async () => {
        const s = await live.state('LIVE_CAN');
        return s.runs === 3 && s.phase === 'waiting' ? s : null;
      });
      expect(state.pending).toEqual({ local: 0, integration: 0, many: [] });
      expect((await temporal.client.workflow.getHandle(workflowIds.liveSync('LIVE_CAN')).describe()).runId).not.toBe(first);
      await live.stop('LIVE_CAN');

      const unknown = await live.start({ mapping: 'NO_SUCH_MAPPING' });
      await expect(unknown.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    });
  } finally {
    await ctx.close();
  }
});

test('a live change that finds the mapping busy with another run waits and goes ahead after it, never beside it', async () => {
  // Writes take 1.5 s: the bulk sync holds the mapping's lease meanwhile.
  const ctx = await openSyncContext(temporal, { name: 'LIVE_BUSY' }, { integration: { delayMs: 1500 } });
  try {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await ctx.run(async ({ sync }) => {
      const bulk = await sync.startBulkSync({ mapping: 'LIVE_BUSY', recordIds: ['C1'] });
      await eventually('the bulk run to hold the lease', async () => (await ctx.store.listJobs({ mappingName: 'LIVE_BUSY' })).length > 0);
      await sync.live.notify('LIVE_BUSY', { side: 'local', ids: ['C2'] }, { debounceMs: 0 });
      const busy = await eventually('a busy run', async () => {
        const s = await sync.live.state('LIVE_BUSY');
        return s.lastRun?.status === 'busy' ? s : null;
      });
      expect(busy.pending.local).toBe(1);
      expect(busy.lastRun?.message).toMatch(/already being worked on/);
      await bulk.result();
      await eventually('C2 created by live sync after the bulk run', async () => (await ctx.store.getCouplings('LIVE_BUSY', 'local', ['C2'])).length === 1);
      const done = await eventually('the live run', async () => {
        const s = await sync.live.state('LIVE_BUSY');
        return s.lastRun?.status === 'succeeded' && s.phase === 'waiting' ? s : null;
      });
      expect(done.pending.local).toBe(0);
      expect(done.lastRun?.jobs[0].counters).toMatchObject({ inserted: 1, coupled: 1 });
      await sync.live.stop('LIVE_BUSY');
    });
  } finally {
    await ctx.close();
  }
});
