/**
 * bulkSync: synchronizes every changed record of a mapping (or the given ids,
 * or all records with fullSync), one pass per direction, each with its job row.
 * Continues as new between rounds of batches so a million-record run keeps a
 * bounded history; cancelling finishes the batches in flight and closes the job
 * as cancelled.
 */
import { CancellationScope, CancelledFailure, uuid4 } from '@temporalio/workflow';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN, DEFAULT_MAX_BATCHES_IN_FLIGHT } from '../common/constants';
import type { BulkSyncInput } from '../common/inputs';
import type { RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { clarify, continueKeepingMemo, tagRun, trackProgress, validateInput, runLock } from './run-support';
import { resumedPass, runPass } from './sync-pass';

export async function bulkSyncWorkflow(rawInput: BulkSyncInput): Promise<RunResult> {
  const input = validateInput('bulkSync', rawInput);
  tagRun('bulkSync', input.mapping);
  const acts = proxiesFor(input.retry);
  const progress = trackProgress(input.mapping);
  const lock = runLock(input.mapping);
  let continuing = false;
  try {
    const { directions } = await acts.control.planRun({ mapping: input.mapping, direction: input.direction });
    // Where a continued run stands comes from the store, never from the input.
    const resume = await resumedPass(acts, input.continuation);
    progress.finishedJobs = resume?.finishedJobs ?? [];
    // One run per mapping, however it was started (client, Web UI, schedule): every batch carries the lease's token.
    const lease = await acts.control.acquireRunLock(lock);
    const batchesThisRun = { count: 0 };
    for (let passIndex = resume?.passIndex ?? 0; passIndex < directions.length; passIndex++) {
      const outcome = await runPass(
        acts,
        {
          mapping: input.mapping,
          direction: directions[passIndex],
          passIndex,
          mode: input.recordIds ? 'ids' : input.fullSync ? 'full' : 'incremental',
          recordIds: input.recordIds,
          idsSide: input.side,
          options: { force: input.fullSync === true },
          batchSize: input.batchSize ?? DEFAULT_BATCH_SIZE,
          maxBatchesInFlight: input.maxBatchesInFlight ?? DEFAULT_MAX_BATCHES_IN_FLIGHT,
          batchesPerRun: input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN,
          lease,
        },
        { progress, newJobId: uuid4, batchesThisRun },
        resume && resume.passIndex === passIndex ? resume : null,
      );
      if (!outcome.done) {
        await acts.control.acquireRunLock(lock);
        continuing = true;
        await acts.control.suspendRun({ jobId: outcome.continuation.jobId, counters: outcome.continuation.counters, state: outcome.continuation });
        return await continueKeepingMemo<typeof bulkSyncWorkflow>({ ...input, continuation: { jobId: outcome.continuation.jobId } });
      }
      progress.finishedJobs = [...progress.finishedJobs, outcome.job];
      if (outcome.job.status === 'cancelled') {
        progress.phase = 'cancelled';
        throw new CancelledFailure(`Bulk sync of ${input.mapping} was cancelled after the batches in flight; job ${outcome.job.jobId} is closed as cancelled.`);
      }
    }
    progress.phase = 'done';
    return { mapping: input.mapping, jobs: progress.finishedJobs };
  } catch (error) {
    if (progress.phase !== 'cancelled') progress.phase = 'failed';
    throw clarify(error);
  } finally {
    if (!continuing) await CancellationScope.nonCancellable(() => acts.control.releaseRunLock(lock));
  }
}
