/**
 * matchBasedCoupling: couples the uncoupled local records (the given ids, or
 * all within the table filter and the caller's filter) by their match
 * criteria, one round per match priority: every batch claims, then the round
 * is resolved (the smallest local id wins a contested candidate), so the
 * result depends only on the data. A last pass creates the unmatched records
 * when asked, or writes an error row for each saying why; with
 * syncAfterCoupling the matched records are then synchronized in a job of
 * their own. The workflow carries keys, ids and counters only, and continues
 * as new between rounds of batches so a long run keeps a bounded history.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, CancelledFailure, isCancellation, uuid4, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN, DEFAULT_MAX_BATCHES_IN_FLIGHT, FAILURE_TYPES } from '../common/constants';
import type { MatchBasedCouplingInput } from '../common/inputs';
import { chunk } from '../common/collections';
import { addCounters, emptyCounters, type JobCounters, type JobStatus, type JobSummary, type RunResult } from '../common/types';
import { syncBatchOrErrorRows } from './batch-step';
import { proxiesFor, type Proxies } from './activity-proxies';
import { runPool } from './run-pool';
import { clarify, continueKeepingMemo, tagRun, trackProgress, validateInput, runLock, rootCancelled, logRunDone } from './run-support';
import type { LocalSelection, RunLease, StartCouplingJobResult, RecordKey } from '../common/protocol';

/** Where the run stands, as the continuation's `cursor` string: the phase, the round, and the position within it. */
interface Cursor {
  phase: 'claim' | 'finish' | 'sync';
  /** Round index (claim phase). */
  level: number;
  /** Keyset position (no given ids) or offset into the given ids. */
  after: RecordKey | null;
  offset: number;
  /** Coupling id (sync phase). */
  afterId: number;
}

const START: Cursor = { phase: 'claim', level: 0, after: null, offset: 0, afterId: 0 };

function isRecordKey(value: unknown): value is RecordKey {
  return typeof value === 'object' && value !== null && typeof (value as RecordKey).modifiedOn === 'string' && typeof (value as RecordKey).id === 'string';
}

function decodeCursor(text: string | null | undefined): Cursor {
  if (!text) return START;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A SyntaxError is no workflow failure: it would fail the workflow task again and again instead of the run.
  }
  const c = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<keyof Cursor, unknown>>;
  const wellFormed =
    (c.phase === 'claim' || c.phase === 'finish' || c.phase === 'sync') &&
    Number.isInteger(c.level) &&
    (c.level as number) >= 0 &&
    Number.isInteger(c.offset) &&
    (c.offset as number) >= 0 &&
    Number.isInteger(c.afterId) &&
    (c.afterId as number) >= 0 &&
    (c.after === null || isRecordKey(c.after));
  if (wellFormed) return c as Cursor;
  throw ApplicationFailure.create({
    message: 'Field "continuation.cursor" is not one this workflow wrote; it is set only when a run continues as new.',
    type: FAILURE_TYPES.invalidInput,
    nonRetryable: true,
  });
}

function failedMessage(counters: JobCounters): string | null {
  return counters.failed > 0 ? `${counters.failed} records could not be coupled; see the error rows of this job.` : null;
}

export async function matchBasedCouplingWorkflow(rawInput: MatchBasedCouplingInput): Promise<RunResult> {
  const input = validateInput('matchBasedCoupling', rawInput);
  tagRun('matchBasedCoupling', input.mapping);
  const acts: Proxies = proxiesFor(input.retry);
  const info = workflowInfo();
  let cursor = START;
  const jobId = input.continuation?.jobId ?? uuid4();
  const filter = input.filter ?? [];
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxInFlight = input.maxBatchesInFlight ?? DEFAULT_MAX_BATCHES_IN_FLIGHT;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN;
  const ids = input.recordIds ? [...new Set(input.recordIds)] : null;
  let counters: JobCounters = emptyCounters();
  const progress = trackProgress(input.mapping, { jobId, counters });
  let start: StartCouplingJobResult | null = null;
  let syncCounters = emptyCounters();
  let continuation: MatchBasedCouplingInput['continuation'];
  const lock = runLock(input.mapping);
  let lease: RunLease | undefined;

  const closeJobs = async (status: JobStatus, message: string | null): Promise<JobSummary[]> => {
    const jobs: JobSummary[] = [];
    await CancellationScope.nonCancellable(async () => {
      if (lease) await acts.control.releaseRunLock(lock);
      await acts.control.clearMatchClaims({ jobId });
      counters = await acts.control.finishCouplingJob({
        mapping: input.mapping,
        jobId,
        counters,
        status,
        message: message ?? failedMessage(counters),
        recount: true,
      });
      jobs.push({ jobId, type: 'Coupling', direction: null, status, counters });
      const sync = start?.sync;
      if (sync) {
        await acts.control.finishCouplingJob({
          mapping: input.mapping,
          jobId: sync.jobId,
          counters: syncCounters,
          status,
          message: syncCounters.failed > 0 ? 'Some coupled records failed to synchronize; see the error rows of this job.' : null,
        });
        jobs.push({ jobId: sync.jobId, type: 'Synchronization', direction: sync.direction, status, counters: syncCounters });
      }
    });
    progress.finishedJobs = jobs;
    return jobs;
  };

  try {
    if (input.continuation) {
      // Where a continued run stands comes from its job row, checked to be this workflow's own and still
      // running, before anything is opened: a start from outside can resume, forge or skip nothing.
      const resumed = await acts.control.resumeRun({ jobId, workflowId: info.workflowId, firstRunId: info.firstExecutionRunId, kind: 'match' });
      cursor = decodeCursor(resumed.match?.cursor);
      counters = resumed.counters;
      Object.assign(progress, { counters, batchesCompleted: resumed.match?.batchesCompleted ?? 0 });
    }
    // One run per mapping at a time for runs over a whole mapping; every batch carries the lease's token.
    lease = await acts.control.acquireRunLock(lock);
    start = await acts.control.startCouplingJob({
      mapping: input.mapping,
      jobId,
      type: 'Coupling',
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      matchBased: { filter, createNewIfNoMatch: input.createNewIfNoMatch },
      syncAfter: input.syncAfterCoupling,
    });
    const { createNewIfNoMatch, sync, levels } = start;
    syncCounters = sync?.counters ?? emptyCounters();
    progress.phase = 'running';
    let batchesThisRun = 0;

    const inBatch = async (work: () => Promise<void>): Promise<void> => {
      if (rootCancelled()) return;
      progress.batchesInFlight++;
      try {
        // A batch started is finished even when the run is cancelled: its writes and counters stay consistent.
        await CancellationScope.nonCancellable(work);
      } finally {
        progress.batchesInFlight--;
        progress.batchesCompleted++;
        progress.counters = counters;
        batchesThisRun++;
      }
    };

    /** Runs `work` over every batch of the scope from the cursor on; false when the run must continue as new first. */
    const overScope = async (work: (selection: LocalSelection) => Promise<void>): Promise<boolean> => {
      for (;;) {
        if (rootCancelled()) return true;
        const count = maxInFlight * 2;
        let selections: LocalSelection[];
        let exhausted: boolean;
        if (ids) {
          const end = Math.min(ids.length, cursor.offset + batchSize * count);
          selections = chunk(ids.slice(cursor.offset, end), batchSize).map((part): LocalSelection => ({ kind: 'ids', ids: part }));
          cursor = { ...cursor, offset: end };
          exhausted = end >= ids.length;
        } else {
          const plan = await acts.control.planLocalBatches({ mapping: input.mapping, jobId, filter, after: cursor.after, batchSize, count, counters, lease });
          selections = plan.ranges.map((r): LocalSelection => ({ kind: 'range', after: r.after, through: r.through }));
          cursor = { ...cursor, after: plan.next };
          exhausted = plan.exhausted;
        }
        await runPool(selections, maxInFlight, (selection) => inBatch(() => work(selection)));
        if (exhausted || rootCancelled()) return true;
        if (batchesThisRun >= batchesPerRun || workflowInfo().continueAsNewSuggested) return false;
      }
    };
    const nextPhase = (phase: Cursor['phase'], level = 0): void => {
      cursor = { ...START, phase, level };
    };

    let finished = true;
    while (cursor.phase === 'claim' && cursor.level < levels && finished) {
      const level = cursor.level;
      finished = await overScope(async (selection) => {
        const result = await acts.batch.claimMatchBatch({ mapping: input.mapping, jobId, level, selection, filter, createNewIfNoMatch, lease });
        if (level === 0) progress.recordsScanned += result.scanned;
      });
      if (!finished || rootCancelled()) break;
      const round = await CancellationScope.nonCancellable(() => acts.batch.resolveMatchLevel({ mapping: input.mapping, jobId, level, lease }));
      counters = addCounters(counters, { coupled: round.coupled });
      nextPhase(level + 1 < levels ? 'claim' : 'finish', level + 1);
    }
    if (cursor.phase === 'claim' && cursor.level >= levels) nextPhase('finish');
    if (finished && !rootCancelled() && cursor.phase === 'finish') {
      finished = await overScope(async (selection) => {
        try {
          const result = await acts.batch.finishMatchBatch({
            mapping: input.mapping,
            jobId,
            selection,
            filter,
            createNewIfNoMatch,
            maxAttempts: acts.maxAttempts,
            lease,
          });
          counters = addCounters(counters, result.counters);
        } catch (error) {
          if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
          throw clarify(error);
        }
      });
      if (finished && !rootCancelled()) nextPhase('sync');
    }
    if (finished && !rootCancelled() && cursor.phase === 'sync' && sync) {
      // The matched records, synchronized in the sync job, a page at a time.
      for (;;) {
        if (rootCancelled()) break;
        const selection = { kind: 'matchedBy' as const, jobId, afterId: cursor.afterId, limit: batchSize };
        let next: number | null = null;
        await inBatch(async () => {
          const result = await syncBatchOrErrorRows(acts, {
            mapping: input.mapping,
            direction: sync.direction,
            jobId: sync.jobId,
            selection,
            options: {},
            lease,
          });
          syncCounters = addCounters(syncCounters, result.counters);
          next = result.nextAfterId;
        });
        if (next === null) break;
        cursor = { ...cursor, afterId: next };
        if (batchesThisRun >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
          finished = false;
          break;
        }
      }
    }
    if (!finished) {
      await acts.control.suspendRun({ jobId, counters, state: { cursor: JSON.stringify(cursor), batchesCompleted: progress.batchesCompleted } });
      if (sync) await acts.control.saveJobCounters({ jobId: sync.jobId, counters: syncCounters });
      continuation = { jobId };
    } else {
      if (rootCancelled()) {
        await closeJobs('cancelled', 'Cancelled; batches in flight were completed.');
        progress.phase = 'cancelled';
        throw new CancelledFailure(`Match-based coupling of ${input.mapping} was cancelled after the batches in flight; job ${jobId} is closed as cancelled.`);
      }
      progress.phase = 'finishing';
      const jobs = await closeJobs('succeeded', null);
      progress.phase = 'done';
      return logRunDone('matchBasedCoupling', { mapping: input.mapping, jobs });
    }
  } catch (error) {
    if (progress.phase === 'cancelled') throw error;
    if (isCancellation(error)) {
      if (start) await closeJobs('cancelled', 'Cancelled.');
      progress.phase = 'cancelled';
      throw error;
    }
    progress.phase = 'failed';
    const clear = clarify(error);
    if (start) await closeJobs('failed', clear instanceof Error ? clear.message : String(clear));
    else if (lease) await CancellationScope.nonCancellable(() => acts.control.releaseRunLock(lock));
    throw clear;
  }
  // Outside the try: continuing as new is not a failure to record. The next run renews the lease.
  return await continueKeepingMemo<typeof matchBasedCouplingWorkflow>({ ...input, continuation });
}
