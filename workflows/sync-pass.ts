/**
 * One synchronization pass (one direction, one job row), shared by bulkSync and
 * retryFailed. Phases: the retry phase (couplings that need this direction,
 * then failed uncoupled records), the scan (or the given ids), and the
 * deletion sweep. It carries keys, counters and ids only; batch activities run
 * a few at a time, and the caller continues as new between rounds of batches.
 */
import { type ActivityFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import type { BulkContinuation, Continuation } from '../common/inputs';
import { addCounters, emptyCounters, type JobCounters, type JobSummary, type RunProgress, type SyncDirection } from '../common/types';
import type { Proxies } from './activity-proxies';
import { syncBatchOrErrorRows } from './batch-step';
import { runPool } from './run-pool';
import { runRangePipeline } from './range-pipeline';
import { leaseLost, rootCancelled } from './run-support';
import type { BatchSelection, DecisionOptions, RunLease, RecordKey } from '../common/protocol';

type Phase = BulkContinuation['phase'];

export interface PassSpec {
  mapping: string;
  direction: SyncDirection;
  passIndex: number;
  /** retryOnly: the retry phase alone (retryFailed). */
  mode: 'incremental' | 'full' | 'ids' | 'retryOnly';
  recordIds?: string[];
  idsSide?: 'local' | 'integration';
  includeSkipped?: boolean;
  options: DecisionOptions;
  batchSize: number;
  maxBatchesInFlight: number;
  batchesPerRun: number;
  /** The run's lease on the mapping: every batch checks and renews it before it writes. */
  lease?: RunLease;
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

/** Where a continued pass stands, read from its job row (checked to be this workflow's own, still running). */
export async function resumedPass(acts: Proxies, continuation: Continuation | undefined): Promise<BulkContinuation | null> {
  if (!continuation) return null;
  const info = workflowInfo();
  const resumed = await acts.control.resumeRun({ jobId: continuation.jobId, workflowId: info.workflowId, firstRunId: info.firstExecutionRunId, kind: 'pass' });
  return resumed.pass;
}

const PHASES: readonly Phase[] = ['retry', 'retryUncoupled', 'scan', 'sweep'];

/** The patch marking runs whose scan plans ahead (workflows/range-pipeline.ts) instead of in rounds. */
const PIPELINED_SCAN = 'pipelined-scan';

export async function runPass(acts: Proxies, spec: PassSpec, hooks: PassHooks, resume: BulkContinuation | null): Promise<PassOutcome> {
  const info = workflowInfo();
  const progress = hooks.progress;
  const jobId = resume?.jobId ?? hooks.newJobId();
  // Control activities are not cancelled with the run: the job must exist and close, whatever happens.
  const start = await CancellationScope.nonCancellable(() =>
    acts.control.startPass({
      mapping: spec.mapping,
      direction: spec.direction,
      jobId,
      type: 'Synchronization',
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      fullSync: spec.mode === 'full',
      // Resolved once, when the pass starts; a resumed pass has them from its job row.
      ...(spec.mode === 'ids' && spec.idsSide && !resume ? { given: { side: spec.idsSide, ids: [...new Set(spec.recordIds ?? [])] } } : {}),
    }),
  );
  const given = resume?.given ?? start.given;
  let counters: JobCounters = resume?.counters ?? emptyCounters();
  let cursor: RecordKey | null = resume?.cursor ?? null;
  let afterId = resume?.afterId ?? 0;
  Object.assign(progress, {
    phase: 'running',
    direction: spec.direction,
    jobId,
    counters,
    recordsScanned: resume?.recordsScanned ?? 0,
    batchesCompleted: resume?.batchesCompleted ?? 0,
    batchesInFlight: 0,
  } satisfies Partial<RunProgress>);

  const runBatch = async (selection: BatchSelection): Promise<number | null> => {
    progress.batchesInFlight++;
    try {
      // Batches in flight complete even when the run is cancelled: what they wrote is counted.
      const result = await CancellationScope.nonCancellable(() =>
        syncBatchOrErrorRows(acts, { mapping: spec.mapping, direction: spec.direction, jobId, selection, options: spec.options, lease: spec.lease }),
      );
      counters = addCounters(counters, result.counters);
      progress.recordsScanned += result.scanned;
      // A page that could not be read cannot say where the next one starts: the next run retries it.
      return result.nextAfterId;
    } finally {
      progress.batchesInFlight--;
      progress.batchesCompleted++;
      progress.counters = counters;
      hooks.batchesThisRun.count++;
    }
  };

  const finish = async (status: 'succeeded' | 'cancelled' | 'failed', largestScanned: string | null, message: string | null = null): Promise<JobSummary> => {
    const watermark = status === 'succeeded' && (spec.mode === 'incremental' || spec.mode === 'full') ? { largestScanned, startedAt: start.startedAt } : null;
    const closed = await CancellationScope.nonCancellable(() =>
      acts.control.finishPass({
        mapping: spec.mapping,
        direction: spec.direction,
        jobId,
        counters,
        status,
        message: message ?? (status === 'cancelled' ? 'Cancelled; batches in flight were completed.' : null),
        watermark,
        lease: spec.lease,
      }),
    );
    return { jobId, type: 'Synchronization', direction: spec.direction, status: closed.status, counters: closed.counters };
  };

  const continuation = (phase: Phase): PassOutcome => ({
    done: false,
    continuation: {
      passIndex: spec.passIndex,
      jobId,
      phase,
      afterId,
      cursor,
      counters,
      recordsScanned: progress.recordsScanned,
      batchesCompleted: progress.batchesCompleted,
      finishedJobs: progress.finishedJobs,
      ...(given ? { given } : {}),
    },
  });
  const mustContinue = (): boolean => hooks.batchesThisRun.count >= spec.batchesPerRun || workflowInfo().continueAsNewSuggested;

  /** Pages through a paged selection one batch at a time; the outcome when the run must stop or continue as new. */
  const pageThrough = async (phase: Phase, selection: (afterId: number) => BatchSelection): Promise<PassOutcome | null> => {
    for (;;) {
      if (rootCancelled()) return { done: true, job: await finish('cancelled', null) };
      const next = await runBatch(selection(afterId));
      if (next === null) break;
      afterId = next;
      if (mustContinue()) return continuation(phase);
    }
    afterId = 0;
    return null;
  };

  try {
    const phases = spec.mode === 'ids' ? (['scan', 'sweep'] as const) : PHASES;
    const from = Math.max(0, phases.indexOf(resume?.phase ?? phases[0]));
    for (const phase of phases.slice(from)) {
      const includeSkipped = spec.includeSkipped === true;
      if (phase === 'retry') {
        // Records whose last sync failed, or that a pass left pending, are retried at the start of every run.
        const stop = await pageThrough(phase, (after) => ({ kind: 'retry', afterId: after, limit: spec.batchSize, includeSkipped }));
        if (stop) return stop;
      } else if (phase === 'retryUncoupled') {
        const stop = await pageThrough(phase, (after) => ({ kind: 'retryUncoupled', afterId: after, limit: spec.batchSize, includeSkipped }));
        if (stop) return stop;
      } else if (phase === 'scan' && spec.mode === 'ids') {
        // Each record once, however often it was given; a round of batches at a time, `afterId` the offset reached.
        const ids = given ? given.sourceIds : [...new Set(spec.recordIds ?? [])];
        const side = given ? given.side : (spec.idsSide ?? 'local');
        if (afterId === 0 && given && given.absent.length > 0) {
          const absent: string[][] = [];
          for (let i = 0; i < given.absent.length; i += spec.batchSize) absent.push(given.absent.slice(i, i + spec.batchSize));
          await runPool(absent, spec.maxBatchesInFlight, async (part) => {
            if (!rootCancelled()) await runBatch({ kind: 'ids', ids: [], side, absent: part });
          });
        }
        while (afterId < ids.length) {
          if (rootCancelled()) return { done: true, job: await finish('cancelled', null) };
          const end = Math.min(ids.length, afterId + spec.batchSize * spec.maxBatchesInFlight * 2);
          const chunks: string[][] = [];
          for (let i = afterId; i < end; i += spec.batchSize) chunks.push(ids.slice(i, Math.min(end, i + spec.batchSize)));
          await runPool(chunks, spec.maxBatchesInFlight, async (chunk) => {
            if (!rootCancelled()) await runBatch({ kind: 'ids', ids: chunk, side });
          });
          afterId = end;
          if (afterId < ids.length && mustContinue()) return continuation('scan');
        }
        afterId = 0;
      } else if (phase === 'scan' && spec.mode !== 'retryOnly' && patched(PIPELINED_SCAN)) {
        const scanned = await runRangePipeline({
          after: cursor,
          lanes: spec.maxBatchesInFlight,
          plan: (after) =>
            CancellationScope.nonCancellable(() =>
              acts.control.planBatches({
                mapping: spec.mapping,
                direction: spec.direction,
                jobId,
                since: start.since,
                after,
                batchSize: spec.batchSize,
                count: spec.maxBatchesInFlight * 2,
                counters,
                lease: spec.lease,
              }),
            ),
          run: async (range) => {
            await runBatch({ kind: 'range', since: start.since, after: range.after, through: range.through });
          },
          stop: () => (rootCancelled() ? 'cancel' : mustContinue() ? 'continue' : null),
        });
        cursor = scanned.through;
        if (scanned.stopped === 'cancel') return { done: true, job: await finish('cancelled', cursor?.modifiedOn ?? null) };
        if (scanned.stopped === 'continue') return continuation('scan');
      } else if (phase === 'scan' && spec.mode !== 'retryOnly') {
        // Histories from before the pipelined scan: rounds of batches, planned between rounds.
        for (;;) {
          if (rootCancelled()) return { done: true, job: await finish('cancelled', cursor?.modifiedOn ?? null) };
          const plan = await CancellationScope.nonCancellable(() =>
            acts.control.planBatches({
              mapping: spec.mapping,
              direction: spec.direction,
              jobId,
              since: start.since,
              after: cursor,
              batchSize: spec.batchSize,
              count: spec.maxBatchesInFlight * 2,
              counters,
              lease: spec.lease,
            }),
          );
          await runPool(plan.ranges, spec.maxBatchesInFlight, async (range) => {
            await runBatch({ kind: 'range', since: start.since, after: range.after, through: range.through });
          });
          const last = plan.ranges[plan.ranges.length - 1];
          if (last) cursor = last.through;
          if (plan.exhausted) break;
          if (mustContinue()) return continuation('scan');
        }
      } else if (phase === 'sweep' && start.sweep && (spec.mode === 'incremental' || spec.mode === 'full')) {
        // Deleted source records: every coupling's source is checked, a page at a time.
        const stop = await pageThrough(phase, (after) => ({ kind: 'sweep', afterId: after, limit: spec.batchSize }));
        if (stop) return stop;
      }
    }
    if (rootCancelled()) return { done: true, job: await finish('cancelled', cursor?.modifiedOn ?? null) };
    return { done: true, job: await finish('succeeded', cursor?.modifiedOn ?? null) };
  } catch (error) {
    if (!leaseLost(error)) throw error;
    // Closed as failed, saying why; the error still fails the run, which must not go on writing.
    await finish('failed', null, (error as ActivityFailure).cause?.message ?? 'The mapping was taken over by another run.');
    throw error;
  }
}
