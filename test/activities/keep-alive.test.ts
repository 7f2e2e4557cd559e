/**
 * The worker's keep-alive for control activities (activities/keep-alive.ts):
 * while one runs it heartbeats, with no details, every third of its heartbeat
 * timeout, and stops when it ends; other activities, and activities scheduled
 * with no heartbeat timeout, are left alone.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { keepAlive } from '../../activities/keep-alive';
import { CONTROL_ACTIVITIES } from '../../common/activity-groups';

function fakeContext(activityType: string, heartbeatTimeoutMs: number | undefined): { ctx: Context; beats: unknown[] } {
  const beats: unknown[] = [];
  const ctx = { info: { activityType, heartbeatTimeoutMs }, heartbeat: (details?: unknown) => beats.push(details) } as unknown as Context;
  return { ctx, beats };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const input = { args: [], headers: {} } as unknown as ActivityExecuteInput;

test('a control activity is heartbeaten while it runs, and no longer once it ends', async () => {
  const { ctx, beats } = fakeContext('planBatches', 150);
  const inbound = keepAlive(new Set<string>(CONTROL_ACTIVITIES))(ctx).inbound;
  expect(inbound?.execute).toBeDefined();
  const result = await inbound?.execute?.(input, async () => {
    await sleep(400);
    return 'planned';
  });
  expect(result).toBe('planned');
  // Every 50 ms over 400 ms; a busy machine may run fewer timers, but more than one.
  expect(beats.length).toBeGreaterThanOrEqual(2);
  expect(beats.every((d) => d === undefined)).toBe(true);
  const after = beats.length;
  await sleep(200);
  expect(beats.length).toBe(after);
});

test('a failing control activity stops its heartbeats too', async () => {
  const { ctx, beats } = fakeContext('startPass', 150);
  const inbound = keepAlive(new Set<string>(CONTROL_ACTIVITIES))(ctx).inbound;
  await expect(
    inbound?.execute?.(input, async () => {
      await sleep(120);
      throw new Error('store down');
    }),
  ).rejects.toThrow('store down');
  const after = beats.length;
  await sleep(200);
  expect(beats.length).toBe(after);
});

test('batch activities (they heartbeat their own resume point) and runs with no heartbeat timeout are left alone', () => {
  const control = new Set<string>(CONTROL_ACTIVITIES);
  expect(keepAlive(control)(fakeContext('syncBatch', 150).ctx)).toEqual({});
  expect(keepAlive(control)(fakeContext('planBatches', undefined).ctx)).toEqual({});
});
