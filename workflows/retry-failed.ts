/**
 * retryFailed: the "Coupled Data Synchronization Errors" page's retry. Re-runs
 * the records whose last sync failed or that a pass left pending, and the
 * failed uncoupled records; with includeSkipped, the skipped ones too (their
 * flag cleared; a given direction wins any conflict). Continues as new
 * between pages, so a long list keeps a bounded history.
 */
import { CancellationScope, uuid4 } from '@temporalio/workflow';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN } from '../common/constants';
import type { RetryFailedInput } from '../common/inputs';
import type { RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { clarify, continueKeepingMemo, tagRun, trackProgress, validateInput, runLock } from './run-support';
import { resumedPass, runPass } from './sync-pass';

export async function retryFailedWorkflow(rawInput: RetryFailedInput): Promise<RunResult> {
  const input = validateInput('retryFailed', rawInput);
  tagRun('retryFailed', input.mapping);
  const acts = proxiesFor(input.retry);
  const progress = trackProgress(input.mapping);
  const lock = runLock(input.mapping);
  let continuing = false;
  try {
    const { directions } = await acts.control.planRun({ mapping: input.mapping, direction: input.direction });
    // Where a continued run stands comes from the store, never from the input.
    const resume = await resumedPass(acts, input.continuation);
    progress.finishedJobs = resume?.finishedJobs ?? [];
    // A retry of a whole mapping's failures holds its lease, as a bulk run does.
    const lease = await acts.control.acquireRunLock(lock);
    const batchesThisRun = { count: 0 };
    for (let passIndex = resume?.passIndex ?? 0; passIndex < directions.length; passIndex++) {
      const outcome = await runPass(
        acts,
        {
          mapping: input.mapping, direction: directions[passIndex], passIndex, mode: 'retryOnly', includeSkipped: input.includeSkipped === true,
          options: { includeSkipped: input.includeSkipped === true, winner: input.includeSkipped ? input.direction : undefined },
          batchSize: DEFAULT_BATCH_SIZE, maxBatchesInFlight: 1, batchesPerRun: DEFAULT_BATCHES_PER_RUN, lease,
        },
        { progress, newJobId: uuid4, batchesThisRun },
        resume && resume.passIndex === passIndex ? resume : null,
      );
      if (!outcome.done) {
        continuing = true;
        await acts.control.suspendRun({ jobId: outcome.continuation.jobId, counters: outcome.continuation.counters, state: outcome.continuation });
        return await continueKeepingMemo<typeof retryFailedWorkflow>({ ...input, continuation: { jobId: outcome.continuation.jobId } });
      }
      progress.finishedJobs = [...progress.finishedJobs, outcome.job];
    }
    progress.phase = 'done';
    return { mapping: input.mapping, jobs: progress.finishedJobs };
  } catch (error) {
    progress.phase = 'failed';
    throw clarify(error);
  } finally {
    if (!continuing) await CancellationScope.nonCancellable(() => acts.control.releaseRunLock(lock));
  }
}
