/**
 * retryFailed: the "Coupled Data Synchronization Errors" page's retry. Re-runs
 * the records whose last sync failed and, with includeSkipped, the skipped ones
 * (their flag cleared; a given direction wins any conflict).
 */
import { uuid4 } from '@temporalio/workflow';
import { DEFAULT_BATCH_SIZE } from '../common/constants';
import type { RetryFailedInput } from '../common/inputs';
import { type RunResult, type SyncDirection } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { clarify, tagRun, trackProgress, validateInput } from './run-support';
import { runPass } from './sync-pass';

export async function retryFailedWorkflow(rawInput: RetryFailedInput): Promise<RunResult> {
  const input = validateInput('retryFailed', rawInput);
  tagRun('retryFailed', input.mapping);
  const acts = proxiesFor(input.retry);
  const progress = trackProgress(input.mapping);
  try {
    const overview = await acts.control.describeMapping({ mapping: input.mapping });
    const directions: SyncDirection[] = input.direction
      ? [input.direction]
      : overview.direction === 'Bidirectional' ? ['ToIntegrationTable', 'FromIntegrationTable'] : [overview.direction as SyncDirection];
    for (const [passIndex, direction] of directions.entries()) {
      const outcome = await runPass(
        acts,
        {
          mapping: input.mapping, direction, passIndex, mode: 'failedOnly', includeSkipped: input.includeSkipped === true,
          options: { includeSkipped: input.includeSkipped === true, winner: input.includeSkipped ? input.direction : undefined },
          batchSize: DEFAULT_BATCH_SIZE, maxBatchesInFlight: 1, batchesPerRun: Number.MAX_SAFE_INTEGER,
        },
        { progress, newJobId: uuid4, batchesThisRun: { count: 0 } },
        null,
      );
      if (outcome.done) progress.finishedJobs = [...progress.finishedJobs, outcome.job];
    }
    progress.phase = 'done';
    return { mapping: input.mapping, jobs: progress.finishedJobs };
  } catch (error) {
    progress.phase = 'failed';
    throw clarify(error);
  }
}
