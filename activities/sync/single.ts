/**
 * Synchronize Now for one record, as one activity: choose the direction, open
 * the job, sync the record through the batch activity, close the job.
 */
import type { JobStatus, JobSummary } from '../../common/types';
import { sidesOf } from '../../domain/field-plan';
import type { ActivityDeps } from '../deps';
import type { ChooseDirectionInput, SingleDirection, SyncSingleRecordInput } from '../../common/protocol';
import { createBatchActivities } from './batch';
import { closePassJob, openPassJob } from './pass';
import { chooseDirection, requireSource } from './direction';

export function createSingleRecordActivities(deps: ActivityDeps) {
  const { syncBatch } = createBatchActivities(deps);
  const activities = {
    /**
     * Chooses the direction for a single-record sync of a bidirectional mapping:
     * the side that changed; when both did, the caller's direction or the
     * mapping's conflict resolution; otherwise the record is marked skipped.
     */
    async chooseSingleDirection(input: ChooseDirectionInput): Promise<SingleDirection> {
      const choice = await chooseDirection(deps, input);
      await requireSource(deps, input.mapping, choice, input);
      return choice;
    },
    /** singleSync in one activity: choose the direction, open the job, sync the record, close the job. */
    async syncSingleRecord(input: SyncSingleRecordInput): Promise<JobSummary> {
      const choice = await activities.chooseSingleDirection(input);
      // Not startPass: a single record needs no watermark, so the mapping is not read again.
      const { job } = await openPassJob(deps, {
        mapping: input.mapping,
        direction: choice.direction,
        jobId: input.jobId,
        type: 'Synchronization',
        workflowId: input.workflowId,
        runId: input.runId,
      });
      const result = await syncBatch({
        mapping: input.mapping,
        direction: choice.direction,
        jobId: input.jobId,
        selection: { kind: 'ids', ids: [choice.sourceId], side: sidesOf(choice.direction).sourceSide },
        options: {
          createUncoupled: true,
          force: true,
          includeSkipped: input.direction !== null,
          winner: input.direction ?? undefined,
          skipOnConflict: choice.conflict,
        },
        maxAttempts: input.maxAttempts,
      });
      // An attempt cut short (a killed worker) may have coupled the record, and another run removed that
      // coupling before this attempt ran again: the couplings the job made say how many it really made.
      // The first attempt to open the job wrote all of them itself, and counted them.
      const tallies = job.openedNow
        ? { made: result.counters.coupled, uncoupled: result.counters.uncoupled }
        : await deps.store.jobTallies(input.mapping, input.jobId);
      const counters = { ...result.counters, coupled: Math.max(result.counters.coupled, tallies.made) };
      const status: JobStatus = 'succeeded';
      const message = counters.failed > 0 ? 'The record failed; see the error rows of this job.' : null;
      const closed = await closePassJob(
        deps,
        { mapping: input.mapping, direction: choice.direction, jobId: input.jobId, counters, status, message, watermark: null },
        tallies.uncoupled,
      );
      return { jobId: input.jobId, type: 'Synchronization', direction: choice.direction, status, counters: closed.counters };
    },
  };
  return activities;
}
