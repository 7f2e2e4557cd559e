/**
 * The typed client other services use: start, await and watch runs. Inputs are
 * validated here with the same schemas the workflows use, so a bad call fails
 * before anything is started.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  type Client,
  type Workflow,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowHandleWithStartDetails,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { TASK_QUEUE } from '../common/constants';
import { fullSynchronizationProgressQuery, progressQuery } from '../common/definitions';
import {
  bulkSyncInputSchema,
  retryFailedInputSchema,
  singleSyncInputSchema,
  describeMappingInputSchema,
  matchBasedCouplingInputSchema,
  setUpCouplingInputSchema,
  uncoupleInputSchema,
  fullSynchronizationInputSchema,
  logRetentionInputSchema,
  type LogRetentionInput,
  type BulkSyncInput,
  type FullSynchronizationInput,
  type RetryFailedInput,
  type SingleSyncInput,
  type MatchBasedCouplingInput,
  type SetUpCouplingInput,
  type UncoupleInput,
} from '../common/inputs';
import { MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import type { FullSynchronizationProgress, FullSynchronizationResult, RunKind, RunProgress, RunResult } from '../common/types';
import { parseInput } from '../common/validate';
import type {
  bulkSyncWorkflow,
  describeMappingWorkflow,
  fullSynchronizationWorkflow,
  logRetentionWorkflow,
  retryFailedWorkflow,
  singleSyncWorkflow,
} from '../workflows';
import type { LogRetentionResult } from '../workflows/log-retention';
import { workflowIds } from './workflow-ids';
import { LiveSync } from './live-sync';
import { REQUEST_MEMO, requestFingerprint } from './request-fingerprint';
import type { JobErrorRow, JobRow, Store, UncoupledFailure, UnmappedOptionRow } from '../store/store';
import type { MappingOverview } from '../common/protocol';

/** The shape of every run workflow: one JSON input, a RunResult. */
type RunWorkflow<I> = (input: I) => Promise<RunResult>;

export interface CouplingSyncClientOptions {
  client: Client;
  /** The coupling store, to list jobs and error rows (optional: runs need only Temporal). */
  store?: Store;
  /** @default TASK_QUEUE */
  taskQueue?: string;
  /**
   * Eager workflow start for single-record syncs: the server hands the first workflow task
   * straight back in the start response to a worker of this process, skipping the task queue.
   * Only for a service that embeds a worker: `client` must be built on that worker's
   * NativeConnection (same namespace and task queue), and the server must allow it
   * (dynamic config `system.enableEagerWorkflowStart=true`). Without a free worker slot the
   * start simply goes through the task queue. A remote client cannot use it. @default false
   */
  eagerStart?: boolean;
}

/** A start refused because the run it would join is doing something else. */
export class RunBusyError extends Error {
  override readonly name = 'RunBusyError';
}

export class CouplingSyncClient {
  readonly client: Client;
  readonly taskQueue: string;
  private readonly store: Store | undefined;
  private readonly eagerStart: boolean;

  /** Live sync: notify a mapping's live-sync workflow of changes, pause, resume or stop it. */
  readonly live: LiveSync;

  constructor(options: CouplingSyncClientOptions) {
    this.client = options.client;
    this.taskQueue = options.taskQueue ?? TASK_QUEUE;
    this.live = new LiveSync(this.client, this.taskQueue);
    this.store = options.store;
    this.eagerStart = options.eagerStart ?? false;
  }

  private requireStore(): Store {
    if (!this.store) throw new Error('This CouplingSyncClient has no store: pass { store: Store.open({ databaseUrl }) } to list jobs and errors.');
    return this.store;
  }

  /** Sync jobs, newest first, with their counters. */
  async listJobs(options: { mapping?: string; limit?: number } = {}): Promise<JobRow[]> {
    return this.requireStore().listJobs({ mappingName: options.mapping, limit: options.limit });
  }

  /**
   * Records whose create failed and that are not coupled yet: each is retried at
   * the start of every run of its direction (and by retryFailed) until it is
   * created or, after the same failure twice, skipped.
   */
  async listPendingCreates(options: { mapping?: string; limit?: number } = {}): Promise<UncoupledFailure[]> {
    return this.requireStore().listUncoupledFailures(options.mapping, { limit: options.limit });
  }

  /** Error rows of failed records, newest first. */
  async listErrors(options: { mapping?: string; jobId?: string; limit?: number } = {}): Promise<JobErrorRow[]> {
    return this.requireStore().listErrors({ mappingName: options.mapping, jobId: options.jobId, limit: options.limit });
  }

  /**
   * Option values without a pair that fields set to `collect` left out of their
   * writes, still unmapped in the current mapping (`value` is its JSON text).
   */
  async listUnmappedOptions(options: { mapping?: string; limit?: number } = {}): Promise<UnmappedOptionRow[]> {
    return this.requireStore().listOpenUnmappedOptions(options.mapping, { limit: options.limit });
  }

  /** `mapping` null: a run over several mappings, tagged with its kind only. */
  private startOptions(kind: RunKind, mapping: string | null, workflowId: string, summary: string, input: object) {
    return {
      taskQueue: this.taskQueue,
      workflowId,
      // A start that finds the run going joins it only for the same request (see startOrJoin).
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [
        ...(mapping === null ? [] : [{ key: MAPPING_SEARCH_ATTRIBUTE, value: mapping }]),
        { key: RUN_KIND_SEARCH_ATTRIBUTE, value: kind },
      ],
      // What was asked, as a fingerprint the run keeps across continue-as-new: a later start compares it.
      memo: { [REQUEST_MEMO]: requestFingerprint(input) },
      staticSummary: summary,
    };
  }

  /**
   * Starts the run, or joins the one going under the same id when it was asked
   * the same thing (a second caller waits for the same result). A run going with
   * another request is no answer to this one: refused, naming it, instead of
   * reporting its result as this request's.
   */
  private async startOrJoin<W extends Workflow>(
    type: string,
    options: WorkflowStartOptions<W> & { memo: Record<string, unknown> },
  ): Promise<WorkflowHandleWithStartDetails<W>> {
    try {
      return await this.client.workflow.start<W>(type, options);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const handle = this.client.workflow.getHandle<W>(options.workflowId);
      const running = await handle.describe();
      const asked = options.memo[REQUEST_MEMO];
      if (running.memo?.[REQUEST_MEMO] !== asked) {
        throw new RunBusyError(
          `Workflow ${options.workflowId} is already running another request (${running.type}, started ${running.startTime.toISOString()}); ` +
            `wait for it to finish, or cancel it (coupling-sync cancel ${options.workflowId}), and start again.`,
        );
      }
      const firstExecutionRunId = running.raw.workflowExecutionInfo?.firstRunId || running.runId;
      return Object.assign(this.client.workflow.getHandle<W>(options.workflowId, undefined, { firstExecutionRunId }), {
        firstExecutionRunId,
        eagerlyStarted: false,
      });
    }
  }

  async startBulkSync(input: BulkSyncInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof bulkSyncWorkflow>> {
    const valid = parseInput('bulkSync', bulkSyncInputSchema, input);
    const what = valid.recordIds ? `${valid.recordIds.length} records` : valid.fullSync ? 'all records' : 'changed records';
    return this.startOrJoin<typeof bulkSyncWorkflow>('bulkSyncWorkflow', {
      args: [valid],
      ...this.startOptions(
        'bulkSync',
        valid.mapping,
        workflowIds.bulkSync(valid.mapping),
        `Bulk sync of ${valid.mapping}: ${what}${valid.direction ? `, ${valid.direction}` : ''}`,
        valid,
      ),
    });
  }

  async bulkSync(input: BulkSyncInput): Promise<RunResult> {
    return (await this.startBulkSync(input)).result();
  }

  /** The handle says whether the run was started eagerly (`eagerlyStarted`, see eagerStart). */
  async startSingleSync(input: SingleSyncInput): Promise<WorkflowHandleWithStartDetails<typeof singleSyncWorkflow>> {
    const valid = parseInput('singleSync', singleSyncInputSchema, input);
    const side = valid.side ?? 'local';
    return this.startOrJoin<typeof singleSyncWorkflow>('singleSyncWorkflow', {
      args: [valid],
      ...this.startOptions(
        'singleSync',
        valid.mapping,
        workflowIds.singleSync(valid.mapping, side, valid.recordId),
        `Sync ${valid.mapping} ${side} record ${valid.recordId}`,
        valid,
      ),
      ...(this.eagerStart ? { requestEagerStart: true } : {}),
    });
  }

  async singleSync(input: SingleSyncInput): Promise<RunResult> {
    return (await this.startSingleSync(input)).result();
  }

  async startRetryFailed(input: RetryFailedInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof retryFailedWorkflow>> {
    const valid = parseInput('retryFailed', retryFailedInputSchema, input);
    return this.startOrJoin<typeof retryFailedWorkflow>('retryFailedWorkflow', {
      args: [valid],
      ...this.startOptions('retryFailed', valid.mapping, workflowIds.retryFailed(valid.mapping), `Retry failed records of ${valid.mapping}`, valid),
    });
  }

  async retryFailed(input: RetryFailedInput): Promise<RunResult> {
    return (await this.startRetryFailed(input)).result();
  }

  async startMatchBasedCoupling(input: MatchBasedCouplingInput): Promise<WorkflowHandleWithFirstExecutionRunId<RunWorkflow<MatchBasedCouplingInput>>> {
    const valid = parseInput('matchBasedCoupling', matchBasedCouplingInputSchema, input);
    return this.startOrJoin<RunWorkflow<MatchBasedCouplingInput>>('matchBasedCouplingWorkflow', {
      args: [valid],
      ...this.startOptions(
        'matchBasedCoupling',
        valid.mapping,
        workflowIds.matchBasedCoupling(valid.mapping),
        `Match-based coupling of ${valid.mapping}${valid.createNewIfNoMatch ? ', creating unmatched records' : ''}`,
        valid,
      ),
    });
  }

  async matchBasedCoupling(input: MatchBasedCouplingInput): Promise<RunResult> {
    return (await this.startMatchBasedCoupling(input)).result();
  }

  async startSetUpCoupling(input: SetUpCouplingInput): Promise<WorkflowHandleWithFirstExecutionRunId<RunWorkflow<SetUpCouplingInput>>> {
    const valid = parseInput('setUpCoupling', setUpCouplingInputSchema, input);
    return this.startOrJoin<RunWorkflow<SetUpCouplingInput>>('setUpCouplingWorkflow', {
      args: [valid],
      ...this.startOptions(
        'setUpCoupling',
        valid.mapping,
        workflowIds.setUpCoupling(valid.mapping, valid.localId),
        `Couple ${valid.mapping} ${valid.localId} to ${valid.integrationId}`,
        valid,
      ),
    });
  }

  async setUpCoupling(input: SetUpCouplingInput): Promise<RunResult> {
    return (await this.startSetUpCoupling(input)).result();
  }

  async startUncouple(input: UncoupleInput): Promise<WorkflowHandleWithFirstExecutionRunId<RunWorkflow<UncoupleInput>>> {
    const valid = parseInput('uncouple', uncoupleInputSchema, input);
    return this.startOrJoin<RunWorkflow<UncoupleInput>>('uncoupleWorkflow', {
      args: [valid],
      ...this.startOptions(
        'uncouple',
        valid.mapping,
        workflowIds.uncouple(valid.mapping),
        `Uncouple ${valid.all ? 'all records' : `${valid.recordIds?.length ?? 0} records`} of ${valid.mapping}`,
        valid,
      ),
    });
  }

  async uncouple(input: UncoupleInput): Promise<RunResult> {
    return (await this.startUncouple(input)).result();
  }

  /**
   * BC's "Run Full Synchronization": every mapping, or these and what they
   * depend on, each after its dependencies (see docs/SEMANTICS.md). One run
   * per set of mappings: `full-synchronization/all`, or the names asked for.
   */
  async startFullSynchronization(input: FullSynchronizationInput = {}): Promise<WorkflowHandleWithFirstExecutionRunId<typeof fullSynchronizationWorkflow>> {
    const parsed = parseInput('fullSynchronization', fullSynchronizationInputSchema, input);
    // The same mappings in another order, or named twice, are the same request.
    const valid = parsed.mappings ? { ...parsed, mappings: [...new Set(parsed.mappings)].sort() } : parsed;
    const what = valid.mappings ? `${valid.mappings.join(', ')} and what they depend on` : 'all mappings';
    return this.startOrJoin<typeof fullSynchronizationWorkflow>('fullSynchronizationWorkflow', {
      args: [valid],
      ...this.startOptions('fullSynchronization', null, workflowIds.fullSynchronization(valid.mappings), `Full synchronization of ${what}`, valid),
    });
  }

  async fullSynchronization(input: FullSynchronizationInput = {}): Promise<FullSynchronizationResult> {
    return (await this.startFullSynchronization(input)).result();
  }

  /** Deletes job and error rows older than `days`, in batches; couplings are never touched (BC: "Delete entries older than N days"). */
  async startLogRetention(input: LogRetentionInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof logRetentionWorkflow>> {
    const valid = parseInput('logRetention', logRetentionInputSchema, input);
    return this.startOrJoin<typeof logRetentionWorkflow>('logRetentionWorkflow', {
      args: [valid],
      ...this.startOptions('logRetention', null, workflowIds.logRetention, `Delete job and error rows older than ${valid.days} days`, valid),
    });
  }

  async logRetention(input: LogRetentionInput): Promise<LogRetentionResult> {
    return (await this.startLogRetention(input)).result();
  }

  /** Where each mapping of a full synchronization stands, with its child workflows' ids (whose own `progress` has their counters). */
  async fullSynchronizationProgress(workflowId: string): Promise<FullSynchronizationProgress> {
    return this.client.workflow.getHandle(workflowId).query(fullSynchronizationProgressQuery);
  }

  async describeMapping(mapping: string): Promise<MappingOverview> {
    const valid = parseInput('describeMapping', describeMappingInputSchema, { mapping });
    return this.client.workflow.execute<typeof describeMappingWorkflow>('describeMappingWorkflow', {
      args: [valid],
      taskQueue: this.taskQueue,
      workflowId: `describe-mapping/${valid.mapping}/${Date.now()}`,
    });
  }

  /** Counters and phase of a running (or finished) run. */
  async progress(workflowId: string): Promise<RunProgress> {
    return this.client.workflow.getHandle(workflowId).query(progressQuery);
  }

  /** Requests cancellation: the run finishes its batches in flight and closes its job as cancelled. */
  async cancel(workflowId: string): Promise<void> {
    await this.client.workflow.getHandle(workflowId).cancel();
  }
}
