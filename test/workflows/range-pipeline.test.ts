/**
 * The scan's range pipeline, as plain async code: lanes stay busy across
 * rounds (the next round is planned while one is still queued), never more
 * than `lanes` ranges run at once, and whatever stops it, the ranges done are
 * a prefix, so `through` is where the next run goes on.
 */
import type { KeyRange, PlanBatchesResult, RecordKey } from '../../common/protocol';
import { runRangePipeline, type PipelineStop } from '../../workflows/range-pipeline';

const key = (i: number): RecordKey => ({ modifiedOn: `t${String(i).padStart(4, '0')}`, id: `R${i}` });

/** A source of `total` ranges, `perPlan` at a time, each plan taking `planMs`. */
function source(total: number, perPlan: number, planMs = 5) {
  const plans: (RecordKey | null)[] = [];
  return {
    plans,
    async plan(after: RecordKey | null): Promise<PlanBatchesResult> {
      plans.push(after);
      await new Promise((r) => setTimeout(r, planMs));
      const start = after ? Number(after.id.slice(1)) + 1 : 0;
      const ranges: KeyRange[] = [];
      for (let i = start; i < Math.min(total, start + perPlan); i++) ranges.push({ after: i === 0 ? null : key(i - 1), through: key(i), size: 1 });
      return { ranges, exhausted: start + perPlan >= total };
    },
  };
}

test('every range once, in order taken, at most `lanes` at once, and the lanes never drain between rounds', async () => {
  const src = source(40, 8);
  const done: number[] = [];
  let running = 0;
  let peak = 0;
  let lowAfterStart = Infinity;
  const outcome = await runRangePipeline({
    after: null,
    lanes: 4,
    plan: (after) => src.plan(after),
    async run(range) {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      // Once the first round is under way, a lane finishing its range should find the next one queued.
      if (done.length >= 4 && done.length < 36) lowAfterStart = Math.min(lowAfterStart, running);
      done.push(Number(range.through.id.slice(1)));
      running--;
    },
    stop: () => null,
  });
  expect(done.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  expect(peak).toBe(4);
  expect(lowAfterStart).toBe(4);
  expect(outcome).toEqual({ through: key(39), stopped: null });
  // Each plan starts where the one before ended: no range is planned twice.
  expect(src.plans).toEqual([null, key(7), key(15), key(23), key(31)]);
});

test.each<PipelineStop>(['continue', 'cancel'])('stopped (%s), the ranges done are a prefix and `through` is its end', async (reason) => {
  const src = source(100, 8);
  const done = new Set<number>();
  const outcome = await runRangePipeline({
    after: key(9),
    lanes: 3,
    plan: (after) => src.plan(after),
    async run(range) {
      const i = Number(range.through.id.slice(1));
      // Uneven durations: ranges finish out of order.
      await new Promise((r) => setTimeout(r, (i % 3) * 7));
      done.add(i);
    },
    stop: () => (done.size >= 13 ? reason : null),
  });
  expect(outcome.stopped).toBe(reason);
  const through = Number(outcome.through?.id.slice(1));
  expect([...done].sort((a, b) => a - b)).toEqual(Array.from({ length: through - 9 }, (_, i) => 10 + i));
});

test('a plan that fails fails the pipeline, even one planned ahead', async () => {
  let plans = 0;
  await expect(
    runRangePipeline({
      after: null,
      lanes: 2,
      async plan() {
        plans++;
        if (plans === 2) throw new Error('store down');
        return { ranges: Array.from({ length: 4 }, (_, i) => ({ after: i ? key(i - 1) : null, through: key(i), size: 1 })), exhausted: false };
      },
      run: () => new Promise((r) => setTimeout(r, 5)),
      stop: () => null,
    }),
  ).rejects.toThrow('store down');
});

test('nothing to plan: no range runs, and `through` stays where it started', async () => {
  const outcome = await runRangePipeline({
    after: key(3),
    lanes: 4,
    plan: async () => ({ ranges: [], exhausted: true }),
    run: () => Promise.reject(new Error('no range should run')),
    stop: () => null,
  });
  expect(outcome).toEqual({ through: key(3), stopped: null });
});
