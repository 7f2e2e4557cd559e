/**
 * fullSynchronization: BC's "Run Full Synchronization". Every mapping (or the
 * given ones and what they depend on) is reviewed, coupled by match fields
 * when both tables already hold records and few are coupled (or stopped, with
 * onPopulated "stop"), then synchronized in full, creating uncoupled records
 * even when the mapping syncs only coupled ones. A mapping starts once all it
 * depends on are done; independent ones run side by side, a few at a time.
 *
 * The work of each mapping is a child workflow (match-based coupling, bulk
 * sync) with an id derived from this run's id, so a replay after a lost worker
 * finds the same children, and cancelling this run cancels them. Its own
 * history grows by about a dozen events per mapping, and a run covers at most
 * MAX_FULL_SYNC_MAPPINGS mappings, so it does not continue as new; the
 * children, which do the batches, continue as new themselves.
 */
import { CancelledFailure, ChildWorkflowFailure, executeChild, isCancellation, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_MAX_MAPPINGS_IN_FLIGHT } from '../common/constants';
import { fullSynchronizationProgressQuery } from '../common/definitions';
import type { FullSynchronizationInput } from '../common/inputs';
import { MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import {
  addCounters,
  emptyCounters,
  type FullSynchronizationProgress,
  type FullSynchronizationResult,
  type MappingRunProgress,
  type RunKind,
  type RunResult,
} from '../common/types';
import { populatedMessage } from '../domain/full-sync-review';
import { proxiesFor } from './activity-proxies';
import { bulkSyncWorkflow } from './bulk-sync';
import { runInDependencyOrder } from './dependency-pool';
import { matchBasedCouplingWorkflow } from './match-based-coupling';
import { clarify, rootCancelled, tagRun, validateInput } from './run-support';

/** The id of a mapping's child workflow: this run's id, the mapping and the step, so a replay finds the same child. */
export function childWorkflowId(parentId: string, mapping: string, step: 'couple' | 'sync'): string {
  return `${parentId}/${mapping}/${step}`;
}

/** The message of a child's failure (its own, not "Child Workflow execution failed"). */
function failureText(error: unknown): string {
  const clear = clarify(error);
  const cause = clear instanceof ChildWorkflowFailure ? (clear.cause ?? clear) : clear;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function fullSynchronizationWorkflow(rawInput: FullSynchronizationInput): Promise<FullSynchronizationResult> {
  const input = validateInput('fullSynchronization', rawInput);
  tagRun('fullSynchronization', null);
  const acts = proxiesFor(input.retry);
  const parentId = workflowInfo().workflowId;
  const progress: FullSynchronizationProgress = { phase: 'planning', mappings: [] };
  setHandler(fullSynchronizationProgressQuery, () => progress);

  let plan;
  try {
    plan = await acts.control.planFullSynchronization({ mappings: input.mappings });
  } catch (error) {
    progress.phase = isCancellation(error) ? 'cancelled' : 'failed';
    throw clarify(error);
  }
  progress.mappings = plan.mappings.map((m): MappingRunProgress => ({
    mapping: m.name,
    dependsOn: m.dependsOn,
    state: 'waiting',
    reason: null,
    review: null,
    workflowIds: [],
    jobs: [],
    counters: emptyCounters(),
  }));
  const entries = new Map(progress.mappings.map((entry) => [entry.mapping, entry]));
  const directionOf = new Map(plan.mappings.map((m) => [m.name, m.direction]));
  const entryOf = (name: string): MappingRunProgress => entries.get(name) as MappingRunProgress;
  progress.phase = 'running';

  /** A child's options: its id (recorded on the mapping's entry first, so progress names it while it runs) and its tags. */
  const childOptions = (entry: MappingRunProgress, step: 'couple' | 'sync', kind: RunKind, summary: string) => {
    const workflowId = childWorkflowId(parentId, entry.mapping, step);
    entry.workflowIds.push(workflowId);
    return {
      workflowId,
      typedSearchAttributes: [
        { key: MAPPING_SEARCH_ATTRIBUTE, value: entry.mapping },
        { key: RUN_KIND_SEARCH_ATTRIBUTE, value: kind },
      ],
      staticSummary: summary,
    };
  };
  const record = (entry: MappingRunProgress, result: RunResult): void => {
    entry.jobs.push(...result.jobs);
    entry.counters = result.jobs.reduce((sum, job) => addCounters(sum, job.counters), entry.counters);
  };

  const shared = { batchSize: input.batchSize, maxBatchesInFlight: input.maxBatchesInFlight, retry: input.retry };
  const synchronize = async (entry: MappingRunProgress): Promise<boolean> => {
    const mapping = entry.mapping;
    try {
      entry.state = 'reviewing';
      entry.review = await acts.batch.reviewMapping({ mapping });
      if (entry.review.needsCoupling) {
        if (input.onPopulated === 'stop') {
          entry.state = 'failed';
          entry.reason = populatedMessage(mapping, entry.review);
          return false;
        }
        entry.state = 'coupling';
        // What finds no match is created, as the full sync that follows would create it anyway: by create-new when the
        // mapping writes to the integration side (no error row for a record that is then created), else by that sync.
        const createNewIfNoMatch = directionOf.get(mapping) !== 'FromIntegrationTable';
        const coupled = await executeChild(matchBasedCouplingWorkflow, {
          ...childOptions(entry, 'couple', 'matchBasedCoupling', `Full synchronization: match-based coupling of ${mapping}`),
          args: [{ mapping, createNewIfNoMatch, syncAfterCoupling: false, ...shared }],
        });
        record(entry, coupled);
      }
      entry.state = 'syncing';
      const synced = await executeChild(bulkSyncWorkflow, {
        ...childOptions(entry, 'sync', 'bulkSync', `Full synchronization: bulk sync of ${mapping}, all records`),
        args: [{ mapping, fullSync: true, createUncoupled: true, ...shared }],
      });
      record(entry, synced);
      entry.state = 'done';
      return true;
    } catch (error) {
      if (isCancellation(error)) {
        entry.state = 'cancelled';
        entry.reason = 'Cancelled while it ran; its jobs are closed as cancelled.';
      } else {
        entry.state = 'failed';
        entry.reason = failureText(error);
      }
      return false;
    }
  };

  await runInDependencyOrder(plan.mappings, input.maxMappingsInFlight ?? DEFAULT_MAX_MAPPINGS_IN_FLIGHT, {
    run: (name) => synchronize(entryOf(name)),
    notStarted: (name, blockedBy) => {
      const entry = entryOf(name);
      entry.state = 'notStarted';
      const what = { failed: 'failed', cancelled: 'was cancelled' } as Partial<Record<MappingRunProgress['state'], string>>;
      const why = blockedBy.map((d) => `${d}, which ${what[entryOf(d).state] ?? 'was not started'}`);
      entry.reason = `Not started: it depends on ${why.join(', and on ')}.`;
    },
    stopped: rootCancelled,
  });

  if (rootCancelled()) {
    for (const entry of progress.mappings) {
      if (entry.state !== 'waiting') continue;
      entry.state = 'notStarted';
      entry.reason = 'Not started: the full synchronization was cancelled first.';
    }
    progress.phase = 'cancelled';
    const ran = progress.mappings.filter((e) => e.state === 'done').map((e) => e.mapping);
    throw new CancelledFailure(
      `Full synchronization was cancelled; done before: ${ran.join(', ') || '(none)'}; the running mappings' jobs are closed as cancelled.`,
    );
  }
  progress.phase = 'done';
  const status = progress.mappings.every((e) => e.state === 'done') ? 'succeeded' : 'incomplete';
  log.info('Full synchronization finished', {
    status,
    mappings: progress.mappings.map((e) => ({ mapping: e.mapping, state: e.state, counters: e.counters })),
  });
  return { status, mappings: progress.mappings };
}
