/**
 * bulkSync: synchronizes every changed record of a mapping (or the given ids,
 * or all records with fullSync), one pass per direction, each with its job row;
 * with createUncoupled (a full synchronization's), uncoupled records are created
 * even when the mapping syncs only coupled ones.
 * Continues as new between rounds of batches so a million-record run keeps a
 * bounded history; cancelling finishes the batches in flight and closes the job
 * as cancelled.
 */
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN, DEFAULT_MAX_BATCHES_IN_FLIGHT } from '../common/constants';
import type { BulkSyncInput } from '../common/inputs';
import type { RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { runPassChain } from './pass-chain';
import { adjustSchedule, continueKeepingMemo, tagRun, validateInput } from './run-support';
import { foundWork } from '../common/idle-backoff';
import { patched } from '@temporalio/workflow';

/** The patch marking runs that adjust their Schedule's interval when they end. */
const SCHEDULE_BACKOFF = 'schedule-idle-backoff';

export async function bulkSyncWorkflow(rawInput: BulkSyncInput): Promise<RunResult> {
  const input = validateInput('bulkSync', rawInput);
  tagRun('bulkSync', input.mapping);
  const acts = proxiesFor(input.retry);
  const result = await runPassChain(acts, {
    kind: 'bulkSync',
    title: 'Bulk sync',
    mapping: input.mapping,
    direction: input.direction,
    continuation: input.continuation,
    pass: (direction, passIndex, lease) => ({
      mapping: input.mapping,
      direction,
      passIndex,
      mode: input.recordIds ? 'ids' : input.fullSync ? 'full' : 'incremental',
      recordIds: input.recordIds,
      idsSide: input.side,
      options: {
        force: input.fullSync === true,
        ...(input.createUncoupled ? { createUncoupled: true } : {}),
        // A choice made for these records: as retryFailed with includeSkipped, and as a single sync with a direction.
        ...(input.includeSkipped && input.recordIds ? { includeSkipped: true, winner: input.direction } : {}),
        ...(input.winner && input.recordIds ? { winner: input.winner } : {}),
        ...(input.restoreDeleted && input.recordIds ? { restoreDeleted: true } : {}),
      },
      batchSize: input.batchSize ?? DEFAULT_BATCH_SIZE,
      maxBatchesInFlight: input.maxBatchesInFlight ?? DEFAULT_MAX_BATCHES_IN_FLIGHT,
      batchesPerRun: input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN,
      lease,
    }),
    continueAsNew: (continuation) => continueKeepingMemo<typeof bulkSyncWorkflow>({ ...input, continuation }),
  });
  // Started by a Schedule with idle back-off: a run that found nothing lengthens its interval, one with work restores it.
  if (input.schedule && patched(SCHEDULE_BACKOFF))
    await adjustSchedule(
      acts,
      input.mapping,
      result.jobs.some((j) => foundWork(j.counters)),
    );
  return result;
}
