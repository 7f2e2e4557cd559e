/**
 * retryFailed: the "Coupled Data Synchronization Errors" page's retry. Re-runs
 * the records whose last sync failed or that a pass left pending, and the
 * failed uncoupled records; with includeSkipped, the skipped ones too (their
 * flag cleared; a given direction wins any conflict). Holds the mapping's
 * lease, as a bulk run does, and continues as new between pages, so a long
 * list keeps a bounded history.
 */
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_PER_RUN } from '../common/constants';
import type { RetryFailedInput } from '../common/inputs';
import type { RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { runPassChain } from './pass-chain';
import { continueKeepingMemo, tagRun, validateInput } from './run-support';

export async function retryFailedWorkflow(rawInput: RetryFailedInput): Promise<RunResult> {
  const input = validateInput('retryFailed', rawInput);
  tagRun('retryFailed', input.mapping);
  const includeSkipped = input.includeSkipped === true;
  return runPassChain(proxiesFor(input.retry), {
    kind: 'retryFailed',
    title: 'Retry of failed records',
    mapping: input.mapping,
    direction: input.direction,
    continuation: input.continuation,
    pass: (direction, passIndex, lease) => ({
      mapping: input.mapping,
      direction,
      passIndex,
      mode: 'retryOnly',
      includeSkipped,
      options: { includeSkipped, winner: includeSkipped ? input.direction : undefined },
      batchSize: DEFAULT_BATCH_SIZE,
      maxBatchesInFlight: 1,
      batchesPerRun: DEFAULT_BATCHES_PER_RUN,
      lease,
    }),
    continueAsNew: (continuation) => continueKeepingMemo<typeof retryFailedWorkflow>({ ...input, continuation }),
  });
}
