/** Where a run an action started stands: Temporal's status, why it failed, and the job rows it wrote (from the store). */
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { ConsoleDeps } from './server';
import type { RunView } from './pages/run';
import { pageJobs } from './queries';

export async function describeRun(deps: ConsoleDeps, workflowId: string, runId: string | null, back: string | null): Promise<RunView> {
  // The first run id follows the chain through continue-as-new to the run that holds the outcome.
  const handle = deps.sync.client.workflow.getHandle(workflowId, undefined, runId ? { firstExecutionRunId: runId } : undefined);
  let status: string;
  let firstRunId: string;
  let failure: string | null = null;
  try {
    const first = await deps.sync.client.workflow.getHandle(workflowId, runId ?? undefined).describe();
    firstRunId = first.raw.workflowExecutionInfo?.firstRunId || first.runId;
    status = first.status.name;
    if (status === 'CONTINUED_AS_NEW') {
      // The chain goes on under the same id: the latest run of it holds the status.
      const latest = await deps.sync.client.workflow.getHandle(workflowId).describe();
      if ((latest.raw.workflowExecutionInfo?.firstRunId || latest.runId) === firstRunId) status = latest.status.name;
    }
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return { workflowId, runId, status: 'NOT_FOUND', failure: `No run ${workflowId} on this Temporal namespace.`, jobs: [], back };
  }
  if (status === 'FAILED') {
    failure = await handle.result().then(
      () => null,
      (error: unknown) =>
        error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : error instanceof Error ? error.message : String(error),
    );
  }
  // Job rows of this run alone: earlier runs reuse the workflow id, never the first run id.
  const jobs = (await pageJobs(deps.store.knex, { workflowId, firstRunId, limit: 50 })).rows;
  return { workflowId, runId, status, failure, jobs, back };
}
