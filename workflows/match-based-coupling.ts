/**
 * matchBasedCoupling: couples the uncoupled local records (the given ids, or
 * all within the table filter and the caller's filter) to the one integration
 * record their match criteria find, priority by priority; creates the
 * unmatched ones when asked; and with syncAfterCoupling synchronizes each
 * batch's newly coupled records right after it, in a job of their own. The
 * workflow carries keys, ids and counters only, and continues as new between
 * rounds of batches so a long run keeps a bounded history.
 */
import {
  ActivityFailure, ApplicationFailure, CancellationScope, CancelledFailure, continueAsNew, isCancellation, uuid4, workflowInfo,
} from '@temporalio/workflow';
import type { LocalSelection, StartCouplingJobResult } from '../activities/coupling-activities';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN, DEFAULT_MAX_BATCHES_IN_FLIGHT, FAILURE_TYPES } from '../common/constants';
import type { MatchBasedCouplingInput } from '../common/inputs';
import { addCounters, emptyCounters, type JobCounters, type JobStatus, type JobSummary, type RunResult } from '../common/types';
import { proxiesFor, type Proxies } from './activity-proxies';
import { runPool } from './run-pool';
import { clarify, tagRun, trackProgress, validateInput } from './run-support';

type RecordKey = { modifiedOn: string; id: string };

/** Where the run stands, as the continuation's `cursor` string. */
type Cursor = { kind: 'keys'; after: RecordKey | null } | { kind: 'ids'; offset: number };

function isRecordKey(value: unknown): value is RecordKey {
  return typeof value === 'object' && value !== null && typeof (value as RecordKey).modifiedOn === 'string' && typeof (value as RecordKey).id === 'string';
}

function decodeCursor(text: string | null | undefined, byIds: boolean): Cursor {
  if (!text) return byIds ? { kind: 'ids', offset: 0 } : { kind: 'keys', after: null };
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A SyntaxError is no workflow failure: it would fail the workflow task again and again instead of the run.
  }
  const cursor = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<{ kind: string; after: unknown; offset: unknown }>;
  if (byIds && cursor.kind === 'ids' && typeof cursor.offset === 'number') return { kind: 'ids', offset: cursor.offset };
  if (!byIds && cursor.kind === 'keys' && (cursor.after === null || isRecordKey(cursor.after))) return { kind: 'keys', after: cursor.after };
  throw ApplicationFailure.create({ message: 'Field "continuation.cursor" is not one this workflow wrote; it is set only when a run continues as new.', type: FAILURE_TYPES.invalidInput, nonRetryable: true });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function rootCancelled(): boolean {
  return CancellationScope.current().consideredCancelled;
}

function failedMessage(counters: JobCounters): string | null {
  return counters.failed > 0 ? `${counters.failed} records could not be coupled; see the error rows of this job.` : null;
}

interface NextBatches {
  selections: LocalSelection[];
  next: Cursor;
  exhausted: boolean;
}

export async function matchBasedCouplingWorkflow(rawInput: MatchBasedCouplingInput): Promise<RunResult> {
  const input = validateInput('matchBasedCoupling', rawInput);
  tagRun('matchBasedCoupling', input.mapping);
  const acts: Proxies = proxiesFor(input.retry);
  const info = workflowInfo();
  const resume = input.continuation ?? null;
  // Decoded before the job is opened: a cursor this workflow did not write must fail the run without writing a row.
  let cursor = decodeCursor(resume?.cursor, input.recordIds !== undefined);
  const jobId = resume?.jobId ?? uuid4();
  const filter = input.filter ?? [];
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxInFlight = input.maxBatchesInFlight ?? DEFAULT_MAX_BATCHES_IN_FLIGHT;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN;
  let counters: JobCounters = resume?.counters ?? emptyCounters();
  const progress = trackProgress(input.mapping, { jobId, counters, batchesCompleted: resume?.batchesCompleted ?? 0 });
  let start: StartCouplingJobResult | null = null;
  let syncCounters = emptyCounters();
  let continuation: MatchBasedCouplingInput['continuation'];

  const closeJobs = async (status: JobStatus, message: string | null): Promise<JobSummary[]> => {
    const jobs: JobSummary[] = [{ jobId, type: 'Coupling', direction: null, status, counters }];
    await CancellationScope.nonCancellable(async () => {
      await acts.control.finishCouplingJob({ mapping: input.mapping, jobId, counters, status, message: message ?? failedMessage(counters) });
      const sync = start?.sync;
      if (sync) {
        await acts.control.finishCouplingJob({ mapping: input.mapping, jobId: sync.jobId, counters: syncCounters, status, message: syncCounters.failed > 0 ? 'Some coupled records failed to synchronize; see the error rows of this job.' : null });
        jobs.push({ jobId: sync.jobId, type: 'Synchronization', direction: sync.direction, status, counters: syncCounters });
      }
    });
    progress.finishedJobs = jobs;
    return jobs;
  };

  try {
    start = await acts.control.startCouplingJob({
      mapping: input.mapping, jobId, type: 'Coupling', workflowId: info.workflowId, runId: info.firstExecutionRunId,
      matchBased: { filter, createNewIfNoMatch: input.createNewIfNoMatch }, syncAfter: input.syncAfterCoupling,
    });
    const { createNewIfNoMatch, sync } = start;
    syncCounters = sync?.counters ?? emptyCounters();
    progress.phase = 'running';

    /** The newly coupled records of one batch, synchronized in the sync job; a batch out of retries gets error rows there. */
    const synchronize = async (ids: string[]): Promise<void> => {
      if (!sync || ids.length === 0) return;
      const selection = { kind: 'ids' as const, ids, side: 'local' as const };
      try {
        const result = await acts.batch.syncBatch({ mapping: input.mapping, direction: sync.direction, jobId: sync.jobId, selection, options: {}, maxAttempts: acts.maxAttempts });
        syncCounters = addCounters(syncCounters, result.counters);
      } catch (error) {
        if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
        const failed = await acts.control.failBatch({ mapping: input.mapping, direction: sync.direction, jobId: sync.jobId, selection, message: error.cause?.message ?? error.message });
        syncCounters = addCounters(syncCounters, failed);
      }
    };

    let batchesThisRun = 0;
    const runBatch = async (selection: LocalSelection): Promise<void> => {
      if (rootCancelled()) return;
      progress.batchesInFlight++;
      try {
        // A batch started is finished even when the run is cancelled: its writes and counters stay consistent.
        await CancellationScope.nonCancellable(async () => {
          const result = await acts.batch.matchBatch({
            mapping: input.mapping, jobId, selection, filter, createNewIfNoMatch, returnCoupledIds: sync !== null, maxAttempts: acts.maxAttempts,
          });
          counters = addCounters(counters, result.counters);
          progress.recordsScanned += result.scanned;
          await synchronize(result.coupledLocalIds);
        });
      } finally {
        progress.batchesInFlight--;
        progress.batchesCompleted++;
        progress.counters = counters;
        batchesThisRun++;
      }
    };

    const nextBatches = async (cursor: Cursor): Promise<NextBatches> => {
      const count = maxInFlight * 2;
      if (cursor.kind === 'ids') {
        const ids = input.recordIds ?? [];
        const end = Math.min(ids.length, cursor.offset + batchSize * count);
        const selections = chunk(ids.slice(cursor.offset, end), batchSize).map((part): LocalSelection => ({ kind: 'ids', ids: part }));
        return { selections, next: { kind: 'ids', offset: end }, exhausted: end >= ids.length };
      }
      const plan = await acts.control.planLocalBatches({ mapping: input.mapping, jobId, filter, after: cursor.after, batchSize, count, counters });
      const selections = plan.ranges.map((r): LocalSelection => ({ kind: 'range', after: r.after, through: r.through }));
      return { selections, next: { kind: 'keys', after: plan.next }, exhausted: plan.exhausted };
    };

    for (;;) {
      if (rootCancelled()) break;
      const round = await nextBatches(cursor);
      await runPool(round.selections, maxInFlight, runBatch);
      cursor = round.next;
      if (round.exhausted || rootCancelled()) break;
      if (batchesThisRun >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
        await acts.control.saveJobCounters({ jobId, counters });
        if (sync) await acts.control.saveJobCounters({ jobId: sync.jobId, counters: syncCounters });
        continuation = { cursor: JSON.stringify(cursor), jobId, counters, batchesCompleted: progress.batchesCompleted };
        break;
      }
    }
    if (!continuation) {
      if (rootCancelled()) {
        await closeJobs('cancelled', 'Cancelled; batches in flight were completed.');
        progress.phase = 'cancelled';
        throw new CancelledFailure(`Match-based coupling of ${input.mapping} was cancelled after the batches in flight; job ${jobId} is closed as cancelled.`);
      }
      progress.phase = 'finishing';
      const jobs = await closeJobs('succeeded', null);
      progress.phase = 'done';
      return { mapping: input.mapping, jobs };
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
    throw clear;
  }
  // Outside the try: continuing as new is not a failure to record.
  return await continueAsNew<typeof matchBasedCouplingWorkflow>({ ...input, continuation });
}
