/** Activities that only read the store: what a person sees before starting a run. */
import { FAILURE_TYPES } from '../common/constants';
import type { ActivityDeps } from './deps';
import type { JobCounters as Counters, SyncDirection } from '../common/types';
import { matchStateSchema, passStateSchema, type BulkContinuation, type MatchState } from '../common/inputs';
import { passDirections } from '../domain/field-plan';
import { loadMapping, loadPass } from './pass-loader';
import { nonRetryable } from './failure-policy';
import type { MappingOverview, ResumeRunInput, SuspendRunInput } from '../common/protocol';

function notOurs(jobId: string, why: string): Error {
  return nonRetryable(
    `Field "continuation": job ${jobId} ${why}; a continuation is set only by a run continuing as new, and only that run's next run can resume it.`,
    FAILURE_TYPES.invalidInput,
  );
}

export function createStoreActivities(deps: ActivityDeps) {
  return {
    /** Saves where a run stands before it continues as new, on its job row. */
    async suspendRun(input: SuspendRunInput): Promise<void> {
      await deps.store.updateJob(input.jobId, { counters: input.counters, continuation: input.state });
    },

    /**
     * Where a continued run stands, from the store: only for a job this very
     * workflow chain opened and is still running, so a start from outside can
     * neither resume another run nor forge a cursor, counters or results.
     */
    async resumeRun(input: ResumeRunInput): Promise<{ counters: Counters; pass: BulkContinuation | null; match: MatchState | null }> {
      const job = await deps.store.getJob(input.jobId);
      if (!job) throw notOurs(input.jobId, 'does not exist');
      if (job.workflowId !== input.workflowId || job.runId !== input.firstRunId) throw notOurs(input.jobId, 'belongs to another run');
      if (job.status !== 'running') throw notOurs(input.jobId, `is ${job.status}, not running`);
      const raw = await deps.store.getJobContinuation(input.jobId);
      const parsed = (input.kind === 'pass' ? passStateSchema : matchStateSchema).safeParse(raw);
      if (!parsed.success) throw notOurs(input.jobId, 'holds no state to continue from');
      return input.kind === 'pass'
        ? { counters: job.counters, pass: { ...(parsed.data as BulkContinuation), counters: job.counters }, match: null }
        : { counters: job.counters, pass: null, match: parsed.data as MatchState };
    },

    /**
     * The passes of a run, in order, each checked (direction allowed, fields
     * for it) before any job row is written: a run that cannot do all of them
     * fails at once, non-retryable, having written nothing.
     */
    async planRun(input: { mapping: string; direction?: SyncDirection }): Promise<{ directions: SyncDirection[] }> {
      const mapping = await loadMapping(deps, input.mapping);
      const directions = passDirections(mapping, input.direction);
      for (const direction of directions) await loadPass(deps, mapping.name, direction);
      return { directions };
    },

    /** A mapping with its coupling count and last job: ids and counts only. */
    async describeMapping(input: { mapping: string }): Promise<MappingOverview> {
      const mapping = await loadMapping(deps, input.mapping);
      const [couplings, jobs] = await Promise.all([deps.store.countCouplings(mapping.name), deps.store.listJobs({ mappingName: mapping.name, limit: 1 })]);
      const last = jobs[0];
      return {
        name: mapping.name,
        direction: mapping.direction,
        localTable: `${mapping.local.system}.${mapping.local.table}`,
        integrationTable: `${mapping.integration.system}.${mapping.integration.table}`,
        couplings,
        lastJob: last ? { jobId: last.id, status: last.status, counters: last.counters } : null,
      };
    },
  };
}
