/**
 * setUpCoupling: BC's "Set Up Coupling" for one record. Couples the two given
 * records, refusing with a clear message when either is already coupled or
 * does not exist; with syncAfter, synchronizes the pair at once in a job of its
 * own (direction: the mapping's, or the conflict rule's winner).
 */
import { CancellationScope, uuid4, workflowInfo } from '@temporalio/workflow';
import type { SetUpCouplingInput } from '../common/inputs';
import { emptyCounters, type JobSummary, type RunProgress, type RunResult } from '../common/types';
import { syncBatchOrErrorRows } from './batch-step';
import { proxiesFor } from './activity-proxies';
import { clarify, tagRun, trackProgress, validateInput, logRunDone } from './run-support';
import type { StartCouplingJobResult } from '../common/protocol';

export async function setUpCouplingWorkflow(rawInput: SetUpCouplingInput): Promise<RunResult> {
  const input = validateInput('setUpCoupling', rawInput);
  tagRun('setUpCoupling', input.mapping);
  const acts = proxiesFor(input.retry);
  const info = workflowInfo();
  const jobId = uuid4();
  const progress = trackProgress(input.mapping, { jobId });
  let start: StartCouplingJobResult | null = null;
  try {
    start = await acts.control.startCouplingJob({
      mapping: input.mapping,
      jobId,
      type: 'Coupling',
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      syncAfter: input.syncAfter ?? false,
    });
    progress.phase = 'running';
    const coupling = await acts.control.setUpCoupling({ mapping: input.mapping, jobId, localId: input.localId, integrationId: input.integrationId });
    progress.counters = coupling.counters;
    const jobs: JobSummary[] = [];
    await CancellationScope.nonCancellable(async () => {
      await acts.control.finishCouplingJob({
        mapping: input.mapping,
        jobId,
        counters: coupling.counters,
        status: 'succeeded',
        message: coupling.alreadyCoupled
          ? `Local record ${input.localId} and integration record ${input.integrationId} were already coupled to each other.`
          : null,
      });
      jobs.push({ jobId, type: 'Coupling', direction: null, status: 'succeeded', counters: coupling.counters });
      const sync = start?.sync;
      if (!sync) return;
      progress.direction = sync.direction;
      progress.jobId = sync.jobId;
      const selection = { kind: 'ids' as const, ids: [input.localId], side: 'local' as const };
      const { counters } = await syncBatchOrErrorRows(acts, {
        mapping: input.mapping,
        direction: sync.direction,
        jobId: sync.jobId,
        selection,
        options: { force: true },
      });
      const message = counters.failed > 0 ? 'The coupled record failed to synchronize; see the error rows of this job.' : null;
      await acts.control.finishCouplingJob({ mapping: input.mapping, jobId: sync.jobId, counters, status: 'succeeded', message });
      jobs.push({ jobId: sync.jobId, type: 'Synchronization', direction: sync.direction, status: 'succeeded', counters });
      progress.counters = counters;
    });
    Object.assign(progress, { phase: 'done', finishedJobs: jobs, batchesCompleted: 1, recordsScanned: 1 } satisfies Partial<RunProgress>);
    return logRunDone('setUpCoupling', { mapping: input.mapping, jobs });
  } catch (error) {
    progress.phase = 'failed';
    const clear = clarify(error);
    const opened = start;
    if (opened) {
      // A refusal is the job's outcome: the row says why, as the run's failure does.
      const message = clear instanceof Error ? clear.message : String(clear);
      await CancellationScope.nonCancellable(async () => {
        await acts.control.finishCouplingJob({ mapping: input.mapping, jobId, counters: progress.counters, status: 'failed', message });
        if (opened.sync) {
          await acts.control.finishCouplingJob({
            mapping: input.mapping,
            jobId: opened.sync.jobId,
            counters: emptyCounters(),
            status: 'failed',
            message: `Not synchronized: ${message}`,
          });
        }
      });
    }
    throw clear;
  }
}
