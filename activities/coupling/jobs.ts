/**
 * The job rows of coupling and uncoupling runs: opened once whatever the
 * retries (with the synchronization job that may follow a coupling), saved
 * while the run goes on, and closed with counters read back from the store,
 * exact after any retry. Set Up Coupling, uncoupling and match-based
 * coupling's rounds are in their own modules beside this one.
 */
import { type JobCounters, type SyncDirection } from '../../common/types';
import type { StoredMapping } from '../../domain/mapping';
import { conflictWinner } from '../../domain/sync-decision';
import type { ActivityDeps } from '../deps';
import { checkLocalFilter, requireCreatePlan, requireMatchLevels } from './match-context';
import { connectorFor, loadMapping, loadPass } from '../pass-loader';
import type { FinishCouplingJobInput, StartCouplingJobInput, StartCouplingJobResult } from '../../common/protocol';
import { logJobClosed } from '../job-log';

/** The synchronization job that follows a coupling job: derived, so a continued run finds it again. */
export function syncJobIdOf(jobId: string): string {
  return `${jobId}-sync`;
}

/** Direction of "synchronize after coupling": the mapping's, or for bidirectional ones the side the conflict rule favours. */
export function syncAfterCouplingDirection(mapping: Pick<StoredMapping, 'direction' | 'updateConflictResolution'>): SyncDirection {
  if (mapping.direction !== 'Bidirectional') return mapping.direction;
  return conflictWinner(mapping.updateConflictResolution) ?? 'ToIntegrationTable';
}

export function createCouplingJobActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Checks what the run needs and opens its job row (and the sync job's), once whatever the retries. */
    async startCouplingJob(input: StartCouplingJobInput): Promise<StartCouplingJobResult> {
      const mapping = await loadMapping(deps, input.mapping);
      let createNewIfNoMatch = false;
      let levels = 0;
      if (input.matchBased) {
        levels = requireMatchLevels(mapping).length;
        await checkLocalFilter(mapping, connectorFor(deps, mapping, mapping.local.system), input.matchBased.filter);
        createNewIfNoMatch = input.matchBased.createNewIfNoMatch ?? mapping.createNewIfNoMatch;
        if (createNewIfNoMatch) requireCreatePlan(mapping);
      }
      const wantSync = input.type === 'Coupling' && (input.syncAfter ?? (input.matchBased ? mapping.syncAfterBulkCoupling : false));
      const direction = wantSync ? syncAfterCouplingDirection(mapping) : null;
      if (direction) await loadPass(deps, mapping.name, direction);
      const common = { mappingName: mapping.name, workflowId: input.workflowId, runId: input.runId };
      const job = await store.createJob({ ...common, id: input.jobId, type: input.type, direction: null });
      const syncJob = direction ? await store.createJob({ ...common, id: syncJobIdOf(input.jobId), type: 'Synchronization', direction }) : null;
      return {
        jobId: job.id,
        startedAt: job.startedAt,
        counters: job.counters,
        createNewIfNoMatch,
        levels,
        sync: syncJob && direction ? { jobId: syncJob.id, direction, counters: syncJob.counters } : null,
      };
    },

    /** Saves a job's counters while the run goes on (before continuing as new). */
    async saveJobCounters(input: { jobId: string; counters: JobCounters }): Promise<void> {
      await store.updateJob(input.jobId, { counters: input.counters });
    },

    /** Closes a job row with its counters; returns them as stored. */
    async finishCouplingJob(input: FinishCouplingJobInput): Promise<JobCounters> {
      // Couplings removed by an attempt killed before its heartbeat are counted by the store's tally.
      let counters = { ...input.counters, uncoupled: Math.max(input.counters.uncoupled, await store.countUncoupledBy(input.jobId)) };
      if (input.recount) {
        // A batch killed after its writes and before its heartbeat counted nothing; the couplings say what it did.
        const made = await store.countCoupledBy(input.mapping, input.jobId);
        const failedUnmatched = Math.max(0, counters.unmatched - counters.inserted);
        counters = { ...counters, coupled: made.matched + made.created, inserted: made.created, unmatched: failedUnmatched + made.created };
      }
      await store.updateJob(input.jobId, { counters, status: input.status, message: input.message, finished: true });
      logJobClosed(deps, { jobId: input.jobId, mapping: input.mapping, status: input.status, counters });
      return counters;
    },
  };
}
