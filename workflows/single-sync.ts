/**
 * singleSync: BC's "Synchronize Now" for one record. Coupled: push or pull the
 * side that changed. Not coupled: create it on the other side and couple it.
 * Both sides changed with no direction given and no conflict rule: the record
 * fails and its coupling is marked skipped until someone chooses a direction.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { SingleSyncInput } from '../common/inputs';
import { quickSingleSyncInput } from '../common/quick-inputs';
import { type RunResult } from '../common/types';
import { proxiesFor } from './activity-proxies';
import { clarify, tagRun, trackProgress, validateInput } from './run-support';

export async function singleSyncWorkflow(rawInput: SingleSyncInput): Promise<RunResult> {
  // The plainly valid input skips zod (see quick-inputs); anything else gets the schema's verdict.
  const input = quickSingleSyncInput(rawInput) ?? validateInput('singleSync', rawInput);
  tagRun('singleSync', input.mapping);
  const acts = proxiesFor(input.retry);
  const info = workflowInfo();
  const progress = trackProgress(input.mapping, { phase: 'running', direction: input.direction ?? null, batchesInFlight: 1 });
  try {
    const job = await acts.single.syncSingleRecord({
      mapping: input.mapping,
      recordId: input.recordId,
      side: input.side ?? 'local',
      direction: input.direction ?? null,
      jobId: uuid4(),
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      maxAttempts: acts.maxAttempts,
    });
    Object.assign(progress, {
      phase: 'done',
      direction: job.direction,
      jobId: job.jobId,
      counters: job.counters,
      finishedJobs: [job],
      batchesInFlight: 0,
      batchesCompleted: 1,
      recordsScanned: 1,
    });
    return { mapping: input.mapping, jobs: [job] };
  } catch (error) {
    progress.phase = 'failed';
    throw clarify(error);
  }
}
