/**
 * One synchronization pass (one direction, one job row), shared by bulkSync and
 * retryFailed. It carries keys, counters and ids only; batch activities run a
 * few at a time, and the caller continues as new between rounds of batches.
 */
import { ActivityFailure, CancellationScope, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { BatchSelection } from '../activities';
import type { BulkContinuation } from '../common/inputs';
import { addCounters, emptyCounters, type JobCounters, type JobSummary, type RunProgress, type SyncDirection } from '../common/types';
import type { DecisionOptions } from '../domain/sync-decision';
import type { Proxies } from './activity-proxies';
import { runPool } from './run-pool';

type RecordKey = { modifiedOn: string; id: string };

export interface PassSpec {
  mapping: string;
  direction: SyncDirection;
  passIndex: number;
  mode: 'incremental' | 'full' | 'ids' | 'failedOnly';
  recordIds?: string[];
  idsSide?: 'local' | 'integration';
  includeSkipped?: boolean;
  options: DecisionOptions;
  batchSize: number;
  maxBatchesInFlight: number;
  batchesPerRun: number;
  /** The run's lease on the mapping, renewed each round. */
  lockHolder?: string;
}

/** Where a pass stopped when the run must continue as new. */
export type PassOutcome = { done: true; job: JobSummary } | { done: false; continuation: BulkContinuation };

export interface PassHooks {
  progress: RunProgress;
  /** Job id to use for a new pass (deterministic in workflow code). */
  newJobId: () => string;
  /** Batches run so far in this workflow run, across passes. */
  batchesThisRun: { count: number };
}

function rootCancelled(): boolean {
  return CancellationScope.current().consideredCancelled;
}

export async function runPass(acts: Proxies, spec: PassSpec, hooks: PassHooks, resume: BulkContinuation | null): Promise<PassOutcome> {
  const info = workflowInfo();
  const progress = hooks.progress;
  const jobId = resume?.jobId ?? hooks.newJobId();
  // Control activities are not cancelled with the run: the job must exist and close, whatever happens.
  const start = await CancellationScope.nonCancellable(() => acts.control.startPass({
    mapping: spec.mapping,
    direction: spec.direction,
    jobId,
    type: 'Synchronization',
    workflowId: info.workflowId,
    runId: info.firstExecutionRunId,
    fullSync: spec.mode === 'full',
  }));
  let counters: JobCounters = resume?.counters ?? emptyCounters();
  let cursor: RecordKey | null = resume?.cursor ?? null;
  let phase: 'failed' | 'scan' = resume?.phase ?? 'failed';
  Object.assign(progress, {
    phase: 'running', direction: spec.direction, jobId, counters,
    recordsScanned: resume?.recordsScanned ?? 0, batchesCompleted: resume?.batchesCompleted ?? 0, batchesInFlight: 0,
  } satisfies Partial<RunProgress>);

  const runBatch = async (selection: BatchSelection): Promise<number | null> => {
    progress.batchesInFlight++;
    try {
      const result = await CancellationScope.nonCancellable(() =>
        acts.batch.syncBatch({ mapping: spec.mapping, direction: spec.direction, jobId, selection, options: spec.options, maxAttempts: acts.maxAttempts }),
      );
      counters = addCounters(counters, result.counters);
      progress.recordsScanned += result.scanned;
      return result.nextAfterCouplingId;
    } catch (error) {
      if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
      // Retries exhausted for the whole batch: error rows for its records, and the run goes on.
      const failed = await CancellationScope.nonCancellable(() =>
        acts.control.failBatch({ mapping: spec.mapping, direction: spec.direction, jobId, selection, message: error.cause?.message ?? error.message }),
      );
      counters = addCounters(counters, failed);
      return null;
    } finally {
      progress.batchesInFlight--;
      progress.batchesCompleted++;
      progress.counters = counters;
      hooks.batchesThisRun.count++;
    }
  };

  const finish = async (status: 'succeeded' | 'cancelled', largestScanned: string | null): Promise<JobSummary> => {
    const watermark = status === 'succeeded' && (spec.mode === 'incremental' || spec.mode === 'full') ? { largestScanned, startedAt: start.startedAt } : null;
    await CancellationScope.nonCancellable(() =>
      acts.control.finishPass({
        mapping: spec.mapping, direction: spec.direction, jobId, counters, status,
        message: status === 'cancelled' ? 'Cancelled; batches in flight were completed.' : null, watermark,
      }),
    );
    return { jobId, type: 'Synchronization', direction: spec.direction, status, counters };
  };

  // Records whose last sync failed are retried at the start of every run (not for explicit ids).
  if (phase === 'failed' && spec.mode !== 'ids') {
    let afterCouplingId = 0;
    for (;;) {
      if (rootCancelled()) return { done: true, job: await finish('cancelled', null) };
      const next = await runBatch({ kind: 'failed', afterCouplingId, limit: spec.batchSize, includeSkipped: spec.includeSkipped === true });
      if (next === null) break;
      afterCouplingId = next;
    }
    phase = 'scan';
  }

  if (spec.mode === 'ids') {
    const ids = spec.recordIds ?? [];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += spec.batchSize) chunks.push(ids.slice(i, i + spec.batchSize));
    await runPool(chunks, spec.maxBatchesInFlight, async (chunk) => {
      if (!rootCancelled()) await runBatch({ kind: 'ids', ids: chunk, side: spec.idsSide ?? 'local' });
    });
    return { done: true, job: await finish(rootCancelled() ? 'cancelled' : 'succeeded', null) };
  }

  if (spec.mode === 'failedOnly') return { done: true, job: await finish(rootCancelled() ? 'cancelled' : 'succeeded', null) };

  for (;;) {
    if (rootCancelled()) return { done: true, job: await finish('cancelled', cursor?.modifiedOn ?? null) };
    const plan = await CancellationScope.nonCancellable(() => acts.control.planBatches({
      mapping: spec.mapping, direction: spec.direction, jobId, since: start.since, after: cursor,
      batchSize: spec.batchSize, count: spec.maxBatchesInFlight * 2, counters, lockHolder: spec.lockHolder,
    }));
    await runPool(plan.ranges, spec.maxBatchesInFlight, async (range) => {
      await runBatch({ kind: 'range', since: start.since, after: range.after, through: range.through });
    });
    const last = plan.ranges[plan.ranges.length - 1];
    if (last) cursor = last.through;
    if (plan.exhausted) break;
    if (hooks.batchesThisRun.count >= spec.batchesPerRun || workflowInfo().continueAsNewSuggested) {
      return {
        done: false,
        continuation: {
          passIndex: spec.passIndex, jobId, phase: 'scan', cursor, counters,
          recordsScanned: progress.recordsScanned, batchesCompleted: progress.batchesCompleted,
          finishedJobs: progress.finishedJobs,
        },
      };
    }
  }
  return { done: true, job: await finish('succeeded', cursor?.modifiedOn ?? null) };
}
