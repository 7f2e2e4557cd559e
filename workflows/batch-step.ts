/**
 * The one step every synchronizing workflow takes per batch: sync it, and when
 * its retries are exhausted for the whole batch, write an error row for each
 * record it would have handled, so the run goes on and nothing is dropped.
 */
import { ActivityFailure, isCancellation } from '@temporalio/workflow';
import type { SyncBatchInput, SyncBatchResult } from '../common/protocol';
import type { Proxies } from './activity-proxies';
import { leaseLost } from './run-support';

export interface BatchStepResult extends SyncBatchResult {
  /** The batch gave up and its records got error rows; `nextAfterId` is then null (the next run retries the page). */
  gaveUp: boolean;
}

export async function syncBatchOrErrorRows(acts: Proxies, input: Omit<SyncBatchInput, 'maxAttempts'>): Promise<BatchStepResult> {
  try {
    return { ...(await acts.batch.syncBatch({ ...input, maxAttempts: acts.maxAttempts })), gaveUp: false };
  } catch (error) {
    // A cancellation or a lost lease ends the run; any other activity failure means the batch's retries are exhausted.
    if (!(error instanceof ActivityFailure) || isCancellation(error) || leaseLost(error)) throw error;
    const { mapping, direction, jobId, selection, lease } = input;
    const counters = await acts.control.failBatch({ mapping, direction, jobId, selection, message: error.cause?.message ?? error.message, lease });
    return { counters, scanned: 0, nextAfterId: null, gaveUp: true };
  }
}
