/**
 * A synchronization pass's bookkeeping: opening its job row, planning its
 * batches as key ranges (the workflow carries no record contents), and
 * closing it, moving the watermark only while the run holds its lease.
 */
import { type JobCounters, type JobStatus } from '../../common/types';
import { waitOutThrottling } from '../throttle-wait';
import { sidesOf } from '../../domain/field-plan';
import { nextWatermark } from '../../domain/modified-on';
import { readFailure } from '../failure-policy';
import { leaseTtl, requireLease } from '../run-lease';
import type { JobRow } from '../../store/store';
import type { ActivityDeps } from '../deps';
import { loadPass, type LoadedPass } from '../pass-loader';
import type { FinishPassInput, KeyRange, PlanBatchesInput, PlanBatchesResult, StartPassInput, StartPassResult } from '../../common/protocol';
import { PLAN_THROTTLE_BUDGET_MS } from '../defaults';
import { logJobClosed } from '../job-log';
import { resolveGivenIds } from './selection';

/** Validates the mapping for this direction and opens the job row (once, whatever the retries). */
export async function openPassJob(
  deps: ActivityDeps,
  input: Omit<StartPassInput, 'fullSync'>,
): Promise<{ pass: LoadedPass; job: JobRow & { openedNow: boolean } }> {
  const pass = await loadPass(deps, input.mapping, input.direction);
  const job = await deps.store.createJob({
    id: input.jobId,
    mappingName: input.mapping,
    type: input.type,
    direction: input.direction,
    workflowId: input.workflowId,
    runId: input.runId,
  });
  return { pass, job };
}

export function createPassActivities(deps: ActivityDeps) {
  return {
    /** Validates the mapping for this direction and opens the job row (once, whatever the retries). */
    async startPass(input: StartPassInput): Promise<StartPassResult> {
      const { pass, job } = await openPassJob(deps, input);
      // The watermark is read fresh: the cached mapping may predate the last run's finish.
      const fresh = await deps.store.requireMapping(input.mapping);
      const since = input.fullSync ? null : pass.plan.sourceSide === 'local' ? fresh.localWatermark : fresh.integrationWatermark;
      // Read only, so a retry resolves again from the same state: nothing is written before the pass's first batch.
      const given =
        input.given && input.given.side !== pass.plan.sourceSide ? await resolveGivenIds(pass, deps.store, input.given.side, input.given.ids) : undefined;
      return { jobId: job.id, since, startedAt: job.startedAt, sweep: pass.mapping.sourceDeletion !== 'KeepCoupling', ...(given ? { given } : {}) };
    },

    /** Finds the boundaries of the next batches: keys only, so the workflow carries no record contents. */
    async planBatches(input: PlanBatchesInput): Promise<PlanBatchesResult> {
      const { mapping, plan, source } = await loadPass(deps, input.mapping, input.direction);
      await deps.store.updateJob(input.jobId, { counters: input.counters });
      await requireLease(deps, input.mapping, input.lease);
      const keys = await waitOutThrottling(
        () =>
          source.scanKeys({
            table: plan.sourceSide === 'local' ? mapping.local.table : mapping.integration.table,
            filter: plan.sourceSide === 'local' ? mapping.tableFilter : mapping.integrationTableFilter,
            since: input.since,
            after: input.after,
            limit: input.batchSize * input.count,
          }),
        PLAN_THROTTLE_BUDGET_MS,
      ).catch((error: unknown) => {
        throw readFailure(source.name, error);
      });
      const ranges: KeyRange[] = [];
      let after = input.after;
      for (let i = 0; i < keys.length; i += input.batchSize) {
        const part = keys.slice(i, i + input.batchSize);
        const through = part[part.length - 1];
        ranges.push({ after, through, size: part.length });
        after = through;
      }
      return { ranges, exhausted: keys.length < input.batchSize * input.count };
    },

    /** Closes the job row and moves the watermark of the side that was read. */
    async finishPass(input: FinishPassInput): Promise<{ status: JobStatus; counters: JobCounters }> {
      return closePassJob(deps, input, await deps.store.countUncoupledBy(input.jobId));
    },
  };
}

/** Closes a pass's job; `uncoupledTally`: the couplings the store says the job removed, over all its attempts. */
export async function closePassJob(deps: ActivityDeps, input: FinishPassInput, uncoupledTally: number): Promise<{ status: JobStatus; counters: JobCounters }> {
  let { status, message } = input;
  // A batch killed after removing couplings and before its heartbeat counted none of them; the store's tally did.
  const counters = { ...input.counters, uncoupled: Math.max(input.counters.uncoupled, uncoupledTally) };
  const moves = input.watermark !== null && status === 'succeeded';
  // A run that lost the lease must not move the watermark past what the new holder reads: its job fails, saying so.
  if (moves && input.lease && !(await deps.store.renewRunLock(input.mapping, input.lease, leaseTtl(deps)))) {
    status = 'failed';
    message = `Another run took mapping ${input.mapping} before this pass ended; its watermark was left for that run.`;
  }
  await deps.store.updateJob(input.jobId, { counters, status, message, finished: true });
  await deps.store.forgetUncoupled(input.jobId);
  if (input.watermark && status === 'succeeded') {
    const mapping = await deps.store.requireMapping(input.mapping);
    const side = sidesOf(input.direction).sourceSide;
    const previous = side === 'local' ? mapping.localWatermark : mapping.integrationWatermark;
    const next = nextWatermark(previous, input.watermark.largestScanned, input.watermark.startedAt);
    if (next !== previous) await deps.store.setWatermark(input.mapping, side, next);
  }
  logJobClosed(deps, { jobId: input.jobId, mapping: input.mapping, direction: input.direction, status, counters });
  return { status, counters };
}
