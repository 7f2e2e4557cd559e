/**
 * uncouple: deletes couplings, never records: those of the given ids (on
 * either side), or all of a mapping's, in batches, counted as uncoupled in a
 * job of type Uncoupling. Cancelling finishes the batches in flight.
 */
import { CancellationScope, CancelledFailure, isCancellation, uuid4, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_BATCHES_IN_FLIGHT } from '../common/constants';
import type { UncoupleInput } from '../common/inputs';
import { addCounters, type JobStatus, type JobSummary, type RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { runPool } from './run-pool';
import { clarify, tagRun, trackProgress, validateInput, runLock, rootCancelled, logRunDone } from './run-support';
import type { RunLease, UncoupleSelection } from '../common/protocol';

/** Couplings one activity removes when uncoupling a whole mapping; it heartbeats after each page. */
const COUPLINGS_PER_ACTIVITY = 20_000;

export async function uncoupleWorkflow(rawInput: UncoupleInput): Promise<RunResult> {
  const input = validateInput('uncouple', rawInput);
  tagRun('uncouple', input.mapping);
  const acts = proxiesFor(input.retry);
  const info = workflowInfo();
  const jobId = uuid4();
  const progress = trackProgress(input.mapping, { jobId });
  let started = false;

  const close = async (status: JobStatus, message: string | null): Promise<JobSummary> => {
    progress.counters = await CancellationScope.nonCancellable(() =>
      acts.control.finishCouplingJob({ mapping: input.mapping, jobId, counters: progress.counters, status, message }),
    );
    const job: JobSummary = { jobId, type: 'Uncoupling', direction: null, status, counters: progress.counters };
    progress.finishedJobs = [job];
    return job;
  };

  const runBatch = async (selection: UncoupleSelection): Promise<boolean> => {
    progress.batchesInFlight++;
    try {
      const result = await CancellationScope.nonCancellable(() => acts.batch.uncoupleBatch({ mapping: input.mapping, jobId, selection, lease }));
      progress.counters = addCounters(progress.counters, result.counters);
      return result.done;
    } finally {
      progress.batchesInFlight--;
      progress.batchesCompleted++;
    }
  };

  const lock = runLock(input.mapping);
  let lease: RunLease | undefined;
  try {
    // Uncoupling a whole mapping holds its lease: no bulk run or match writes couplings under it meanwhile.
    if (input.all) lease = await acts.control.acquireRunLock(lock);
    await acts.control.startCouplingJob({ mapping: input.mapping, jobId, type: 'Uncoupling', workflowId: info.workflowId, runId: info.firstExecutionRunId });
    started = true;
    progress.phase = 'running';
    if (input.recordIds) {
      const side = input.side ?? 'local';
      const chunks: string[][] = [];
      for (let i = 0; i < input.recordIds.length; i += DEFAULT_BATCH_SIZE) chunks.push(input.recordIds.slice(i, i + DEFAULT_BATCH_SIZE));
      progress.recordsScanned = input.recordIds.length;
      await runPool(chunks, DEFAULT_MAX_BATCHES_IN_FLIGHT, async (ids) => {
        if (!rootCancelled()) await runBatch({ kind: 'ids', ids, side, ...(input.deleteRecords ? { deleteRecords: true } : {}) });
      });
    } else {
      // One page at a time: each batch takes the mapping's first couplings, so batches in parallel would race.
      let done = false;
      while (!done && !rootCancelled()) done = await runBatch({ kind: 'all', maxCouplings: COUPLINGS_PER_ACTIVITY });
    }
    if (rootCancelled()) {
      await close('cancelled', 'Cancelled; batches in flight were completed.');
      progress.phase = 'cancelled';
      throw new CancelledFailure(`Uncoupling of ${input.mapping} was cancelled after the batches in flight; job ${jobId} is closed as cancelled.`);
    }
    progress.phase = 'finishing';
    const job = await close('succeeded', null);
    progress.phase = 'done';
    return logRunDone('uncouple', { mapping: input.mapping, jobs: [job] });
  } catch (error) {
    if (progress.phase === 'cancelled') throw error;
    const cancelled = isCancellation(error);
    progress.phase = cancelled ? 'cancelled' : 'failed';
    const clear = clarify(error);
    if (started) await close(cancelled ? 'cancelled' : 'failed', clear instanceof Error ? clear.message : String(clear));
    throw clear;
  } finally {
    if (lease) await CancellationScope.nonCancellable(() => acts.control.releaseRunLock(lock));
  }
}
