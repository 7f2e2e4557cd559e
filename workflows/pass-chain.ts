/**
 * A run made of synchronization passes over one mapping, one per direction,
 * holding the mapping's lease: what bulkSync and retryFailed share. It resumes
 * where a continued run stood (from the store, never from the input), continues
 * as new between rounds of batches, and releases the lease unless it continues.
 */
import { CancellationScope, CancelledFailure, uuid4 } from '@temporalio/workflow';
import type { Continuation } from '../common/inputs';
import type { RunKind, RunResult, SyncDirection } from '../common/types';
import type { Proxies } from './activity-proxies';
import { clarify, runLock, trackProgress, logRunDone } from './run-support';
import { resumedPass, runPass, type PassSpec } from './sync-pass';
import type { RunLease } from '../common/protocol';

export interface PassChain {
  kind: RunKind;
  /** How messages name the run ("Bulk sync"). */
  title: string;
  mapping: string;
  /** Only this direction, when the mapping is bidirectional. */
  direction?: SyncDirection;
  continuation?: Continuation;
  /** The pass for a direction (index into the mapping's directions). */
  pass(direction: SyncDirection, passIndex: number, lease: RunLease): PassSpec;
  /** Continues the workflow as new, naming the job it resumes. */
  continueAsNew(continuation: Continuation): Promise<never>;
}

export async function runPassChain(acts: Proxies, chain: PassChain): Promise<RunResult> {
  const progress = trackProgress(chain.mapping);
  const lock = runLock(chain.mapping);
  let continuing = false;
  try {
    const { directions } = await acts.control.planRun({ mapping: chain.mapping, direction: chain.direction });
    const resume = await resumedPass(acts, chain.continuation);
    progress.finishedJobs = resume?.finishedJobs ?? [];
    // One run per mapping, however it was started (client, Web UI, schedule): every batch carries the lease's token.
    const lease = await acts.control.acquireRunLock(lock);
    const batchesThisRun = { count: 0 };
    for (let passIndex = resume?.passIndex ?? 0; passIndex < directions.length; passIndex++) {
      const outcome = await runPass(
        acts,
        chain.pass(directions[passIndex], passIndex, lease),
        { progress, newJobId: uuid4, batchesThisRun },
        resume && resume.passIndex === passIndex ? resume : null,
      );
      if (!outcome.done) {
        // Renewed for the next run of the chain, which holds it under the same holder.
        await acts.control.acquireRunLock(lock);
        continuing = true;
        await acts.control.suspendRun({ jobId: outcome.continuation.jobId, counters: outcome.continuation.counters, state: outcome.continuation });
        return await chain.continueAsNew({ jobId: outcome.continuation.jobId });
      }
      progress.finishedJobs = [...progress.finishedJobs, outcome.job];
      if (outcome.job.status === 'cancelled') {
        progress.phase = 'cancelled';
        throw new CancelledFailure(
          `${chain.title} of ${chain.mapping} was cancelled after the batches in flight; job ${outcome.job.jobId} is closed as cancelled.`,
        );
      }
    }
    progress.phase = 'done';
    return logRunDone(chain.kind, { mapping: chain.mapping, jobs: progress.finishedJobs });
  } catch (error) {
    if (progress.phase !== 'cancelled') progress.phase = 'failed';
    throw clarify(error);
  } finally {
    if (!continuing) await CancellationScope.nonCancellable(() => acts.control.releaseRunLock(lock));
  }
}
