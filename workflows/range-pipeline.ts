/**
 * Runs key ranges through a fixed number of lanes while the next ranges are
 * planned, so the lanes never drain between rounds: planning asks for more
 * when the queue holds no more than a round of lanes, and a lane that finds
 * the queue empty waits for the plan in flight. Lanes take ranges in order
 * and every range taken is finished before this returns, so the ranges done
 * are always a prefix: `through` is where the next run goes on.
 * Deterministic in workflow code.
 */
import type { KeyRange, PlanBatchesResult, RecordKey } from '../common/protocol';

export type PipelineStop = 'continue' | 'cancel';

export interface RangePipeline {
  /** Where the ranges start (exclusive). */
  after: RecordKey | null;
  /** Ranges in flight at once. */
  lanes: number;
  /** Plans the ranges after a key. */
  plan(after: RecordKey | null): Promise<PlanBatchesResult>;
  /** Runs one range. */
  run(range: KeyRange): Promise<void>;
  /** Asked before each range is taken and after each is done: a reason to take no more, or null. */
  stop(): PipelineStop | null;
}

export interface PipelineOutcome {
  /** The end of the last range done (every range before it is done too); `after` when none was. */
  through: RecordKey | null;
  /** Why it stopped before the last range; null when every range was done. */
  stopped: PipelineStop | null;
}

export async function runRangePipeline(p: RangePipeline): Promise<PipelineOutcome> {
  const queue: KeyRange[] = [];
  let plannedThrough = p.after;
  let taken = p.after;
  let exhausted = false;
  let stopped: PipelineStop | null = null;
  let planning: Promise<void> | null = null;
  const planMore = (): Promise<void> =>
    (planning ??= p.plan(plannedThrough).then((plan) => {
      queue.push(...plan.ranges);
      const last = plan.ranges[plan.ranges.length - 1];
      if (last) plannedThrough = last.through;
      exhausted = plan.exhausted || plan.ranges.length === 0;
      planning = null;
    }));
  const lane = async (): Promise<void> => {
    for (;;) {
      stopped ??= p.stop();
      if (stopped) return;
      // Plan ahead while a round of ranges is still queued: the lanes keep working meanwhile.
      if (queue.length <= p.lanes && !exhausted && !planning) void planMore().catch(() => undefined);
      const range = queue.shift();
      if (!range) {
        if (exhausted) return;
        await planMore();
        continue;
      }
      taken = range.through;
      await p.run(range);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, p.lanes) }, lane));
  // A plan still in flight when the lanes stopped: its failure is the run's; its ranges are planned again later.
  if (planning) await planning;
  const everyRange = exhausted && queue.length === 0;
  return { through: taken, stopped: everyRange ? null : stopped };
}
