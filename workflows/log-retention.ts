/**
 * logRetention: deletes job and error rows older than `days`, one batch per
 * activity until a batch finds nothing, continuing as new every
 * BATCHES_PER_RUN batches with the same cutoff. Not a mapping's run: it takes
 * no lease (it never touches couplings, nor a running job's row).
 */
import { workflowInfo } from '@temporalio/workflow';
import type { LogRetentionInput } from '../common/inputs';
import { proxiesFor } from './activity-proxies';
import { continueKeepingMemo, tagRun, validateInput } from './run-support';

const DEFAULT_RETENTION_BATCH = 1000;
const BATCHES_PER_RUN = 200;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface LogRetentionResult {
  before: string;
  errorsDeleted: number;
  jobsDeleted: number;
}

export async function logRetentionWorkflow(rawInput: LogRetentionInput): Promise<LogRetentionResult> {
  const input = validateInput('logRetention', rawInput);
  tagRun('logRetention', null);
  const acts = proxiesFor(input.retry);
  // Workflow time: the same on replay; the cutoff is fixed when the first run starts.
  const before = input.before ?? new Date(workflowInfo().runStartTime.getTime() - input.days * DAY_MS).toISOString();
  const deleted = { ...(input.deleted ?? { errors: 0, jobs: 0 }) };
  const batchSize = input.batchSize ?? DEFAULT_RETENTION_BATCH;
  for (let batch = 0; batch < (input.batchesPerRun ?? BATCHES_PER_RUN); batch++) {
    const got = await acts.control.deleteOldLogRows({ before, batchSize });
    deleted.errors += got.errors;
    deleted.jobs += got.jobs;
    if (got.errors + got.jobs === 0) return { before, errorsDeleted: deleted.errors, jobsDeleted: deleted.jobs };
  }
  return continueKeepingMemo<typeof logRetentionWorkflow>({ ...input, before, deleted });
}
