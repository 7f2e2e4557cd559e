/**
 * Activities of synchronization runs. Thin: they load the mapping, read the
 * batch, call the engine and translate failures into Temporal's terms
 * (non-retryable for bad input, a retry delay for throttling, error rows when a
 * record's retries are exhausted).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../common/constants';
import { emptyCounters, addCounters, type JobCounters, type JobStatus, type JobSummary, type JobType, type Side, type SyncDirection } from '../common/types';
import type { RecordKey } from '../connectors/connector';
import { ThrottledError } from '../connectors/connector';
import { dbErrorMessage } from '../connectors/db-errors';
import { isPermanentConfigurationError, isTransientError } from '../connectors/transient';
import { waitOutThrottling } from './throttle-wait';
import { directionFrom, mappingAllows, sidesOf } from '../domain/field-plan';
import { nextWatermark } from '../domain/modified-on';
import { sideChanged, type DecisionOptions } from '../domain/sync-decision';
import { recordFailures, retrySummary, syncRecords, type BatchRecords, type RecordFailure } from './sync-engine';
import { readSelection, type BatchSelection } from './sync-selection';
import { directionState } from '../store/store';
import { redact } from './redact';
import { readFailure, throttledFailure } from './failure-policy';
import { leaseTtl, requireLease, type RunLease } from './run-lease';
import type { JobRow } from '../store/store';
import type { ActivityDeps } from './deps';
import { loadMapping, loadPass, nonRetryable, type LoadedPass } from './pass-loader';

export type { BatchSelection } from './sync-selection';

export interface StartPassInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  type: JobType;
  workflowId: string;
  runId: string;
  /** Read all records instead of those past the watermark. */
  fullSync: boolean;
}

export interface StartPassResult {
  jobId: string;
  /** Watermark to read past; null for a full sync. */
  since: string | null;
  startedAt: string;
  /** The mapping's source-deletion rule asks every pass to check its couplings' source records still exist. */
  sweep: boolean;
}

export interface PlanBatchesInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  since: string | null;
  after: RecordKey | null;
  batchSize: number;
  count: number;
  /** Counters so far, saved on the job row so the store shows progress. */
  counters: JobCounters;
  /** The run's lease on the mapping: checked and renewed with every round. */
  lease?: RunLease;
}

export interface BatchRange {
  after: RecordKey | null;
  through: RecordKey;
  size: number;
}

export interface PlanBatchesResult {
  ranges: BatchRange[];
  /** No records past the last range. */
  exhausted: boolean;
}

export interface SyncBatchInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  selection: BatchSelection;
  options: DecisionOptions;
  /** Attempts after which a record that keeps failing gets an error row. */
  maxAttempts: number;
  /** The run's lease on the mapping, when it holds one: the batch writes nothing once another run took it. */
  lease?: RunLease;
}

export interface SyncBatchResult {
  counters: JobCounters;
  /** Source records read. */
  scanned: number;
  /** For paged selections (retry, retryUncoupled, sweep): where the next page starts, or null at the end. */
  nextAfterId: number | null;
}

export interface FailBatchInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  selection: BatchSelection;
  message: string;
  lease?: RunLease;
}

export interface FinishPassInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  counters: JobCounters;
  status: JobStatus;
  message: string | null;
  /** Move the source side's watermark: the largest modified-on scanned and the job's start. */
  watermark: { largestScanned: string | null; startedAt: string } | null;
  /** Moving the watermark needs the run's lease still held. */
  lease?: RunLease;
}

/** What a batch activity remembers between attempts, through heartbeat details. */
interface BatchResume {
  counters: JobCounters;
  pendingIds: string[];
  scanned: number;
  nextAfterId: number | null;
  throttledAttempts: number;
}

function isResume(value: unknown): value is BatchResume {
  return typeof value === 'object' && value !== null && Array.isArray((value as BatchResume).pendingIds);
}

/** Retry-After waited inside one planning attempt (its start-to-close timeout is a minute). */
const PLAN_THROTTLE_BUDGET_MS = 30_000;

export interface SyncSingleRecordInput {
  mapping: string;
  recordId: string;
  side: Side;
  direction: SyncDirection | null;
  jobId: string;
  workflowId: string;
  runId: string;
  maxAttempts: number;
}

/** Validates the mapping for this direction and opens the job row (once, whatever the retries). */
async function openPassJob(deps: ActivityDeps, input: Omit<StartPassInput, 'fullSync'>): Promise<{ pass: LoadedPass; job: JobRow }> {
  const pass = await loadPass(deps, input.mapping, input.direction);
  const job = await deps.store.createJob({
    id: input.jobId,
    mappingName: input.mapping,
    type: input.type,
    direction: input.direction,
    workflowId: input.workflowId,
    runId: input.runId,
  });
  return { pass, job };
}

type SingleChoice = { direction: SyncDirection; sourceId: string; conflict: boolean };

/**
 * The direction of a single-record sync: the one given; the mapping's when it
 * has one; for a coupled record of a bidirectional mapping the side that
 * changed (pending directions count); both -> the conflict rule's winner, or a
 * conflict the pass fails and marks skipped until the user chooses.
 */
async function chooseDirection(deps: ActivityDeps, input: { mapping: string; recordId: string; side: Side; direction: SyncDirection | null }): Promise<SingleChoice> {
  const mapping = await loadMapping(deps, input.mapping);
  const natural = directionFrom(input.side);
  if (input.direction && !mappingAllows(mapping, input.direction)) {
    throw nonRetryable(`Field "direction": mapping ${mapping.name} is ${mapping.direction} and cannot synchronize ${input.direction}.`, FAILURE_TYPES.invalidInput);
  }
  const [coupling] = await deps.store.getCouplings(mapping.name, input.side, [input.recordId]);
  if (!coupling) {
    // Not coupled: create on the other side when the mapping allows that direction.
    if (input.direction && input.direction !== natural) {
      throw nonRetryable(`Field "direction": record ${input.recordId} (${input.side}) is not coupled, so it can only be sent ${natural}.`, FAILURE_TYPES.invalidInput);
    }
    if (!mappingAllows(mapping, natural)) {
      throw nonRetryable(`Record ${input.recordId} is not coupled and mapping ${mapping.name} (${mapping.direction}) does not create records from the ${input.side} side.`, FAILURE_TYPES.invalidInput);
    }
    return { direction: natural, sourceId: input.recordId, conflict: false };
  }
  const idOn = (side: Side): string => (side === 'local' ? coupling.localId : coupling.integrationId);
  if (input.direction) return { direction: input.direction, sourceId: idOn(sidesOf(input.direction).sourceSide), conflict: false };
  if (mapping.direction !== 'Bidirectional') return { direction: mapping.direction, sourceId: idOn(sidesOf(mapping.direction).sourceSide), conflict: false };
  const pass = await loadPass(deps, mapping.name, natural);
  const [[localRecord], [integrationRecord]] = await Promise.all([
    pass.local.getMany({ table: mapping.local.table, ids: [coupling.localId], fields: [] }),
    pass.integration.getMany({ table: mapping.integration.table, ids: [coupling.integrationId], fields: [] }),
  ]);
  // A side changed: its record differs from what was synced, or its direction still needs the record (failed or
  // pending; not while the coupling is skipped, which only a chosen direction lifts).
  const needs = (direction: SyncDirection): boolean => {
    const state = directionState(coupling, direction);
    return !coupling.skipped && (state.pending || state.result === 'Failure');
  };
  const localChanged = !!localRecord && sideChanged(localRecord.modifiedOn, coupling.lastSyncedLocalModifiedOn, needs('ToIntegrationTable'));
  const integrationChanged = !!integrationRecord && sideChanged(integrationRecord.modifiedOn, coupling.lastSyncedIntegrationModifiedOn, needs('FromIntegrationTable'));
  if (localChanged && integrationChanged) {
    if (mapping.updateConflictResolution === 'SendToIntegration') return { direction: 'ToIntegrationTable', sourceId: coupling.localId, conflict: false };
    if (mapping.updateConflictResolution === 'GetFromIntegration') return { direction: 'FromIntegrationTable', sourceId: coupling.integrationId, conflict: false };
    // Both changed and no rule says who wins: the pass fails the record and marks it skipped until the user chooses.
    return { direction: natural, sourceId: idOn(input.side), conflict: true };
  }
  if (integrationChanged) return { direction: 'FromIntegrationTable', sourceId: coupling.integrationId, conflict: false };
  if (localChanged) return { direction: 'ToIntegrationTable', sourceId: coupling.localId, conflict: false };
  return { direction: natural, sourceId: idOn(input.side), conflict: false };
}

/**
 * A single sync's record, and the pass's source record when that is its
 * counterpart, must exist and be within their table filters; otherwise the run
 * fails, non-retryable, naming the record, the table and the side.
 */
async function requireSource(deps: ActivityDeps, mappingName: string, choice: SingleChoice, input: { recordId: string; side: Side }): Promise<void> {
  const pass = await loadPass(deps, mappingName, choice.direction);
  const { mapping, plan } = pass;
  const check = async (side: Side, id: string, which: string): Promise<void> => {
    const local = side === 'local';
    const connector = local ? pass.local : pass.integration;
    const table = local ? mapping.local.table : mapping.integration.table;
    const filter = local ? mapping.tableFilter : mapping.integrationTableFilter;
    const where = `${local ? mapping.local.system : mapping.integration.system}.${table} (${side} side)`;
    const [inside] = await connector.getMany({ table, ids: [id], fields: [], filter });
    if (inside) return;
    const [exists] = filter.length ? await connector.getMany({ table, ids: [id], fields: [] }) : [];
    if (exists) throw nonRetryable(`Record ${id}${which} in ${where} is outside the mapping's ${local ? 'table filter' : 'integration table filter'}, so it is not synchronized.`, FAILURE_TYPES.invalidInput);
    throw nonRetryable(`Record ${id}${which} does not exist in ${where}.`, FAILURE_TYPES.invalidInput);
  };
  await check(input.side, input.recordId, '');
  if (choice.sourceId !== input.recordId || plan.sourceSide !== input.side) {
    await check(plan.sourceSide, choice.sourceId, ` (the counterpart of ${input.side} record ${input.recordId})`);
  }
}

export function createSyncActivities(deps: ActivityDeps) {
  const activities = {
    /** Validates the mapping for this direction and opens the job row (once, whatever the retries). */
    async startPass(input: StartPassInput): Promise<StartPassResult> {
      const { pass, job } = await openPassJob(deps, input);
      // The watermark is read fresh: the cached mapping may predate the last run's finish.
      const fresh = await deps.store.requireMapping(input.mapping);
      const since = input.fullSync ? null : pass.plan.sourceSide === 'local' ? fresh.localWatermark : fresh.integrationWatermark;
      return { jobId: job.id, since, startedAt: job.startedAt, sweep: pass.mapping.sourceDeletion !== 'KeepCoupling' };
    },

    /** Finds the boundaries of the next batches: keys only, so the workflow carries no record contents. */
    async planBatches(input: PlanBatchesInput): Promise<PlanBatchesResult> {
      const { mapping, plan, source } = await loadPass(deps, input.mapping, input.direction);
      await deps.store.updateJob(input.jobId, { counters: input.counters });
      await requireLease(deps, input.mapping, input.lease);
      const keys = await waitOutThrottling(() => source.scanKeys({
        table: plan.sourceSide === 'local' ? mapping.local.table : mapping.integration.table,
        filter: plan.sourceSide === 'local' ? mapping.tableFilter : mapping.integrationTableFilter,
        since: input.since,
        after: input.after,
        limit: input.batchSize * input.count,
      }), PLAN_THROTTLE_BUDGET_MS).catch((error: unknown) => { throw readFailure(source.name, error); });
      const ranges: BatchRange[] = [];
      let after = input.after;
      for (let i = 0; i < keys.length; i += input.batchSize) {
        const part = keys.slice(i, i + input.batchSize);
        const through = part[part.length - 1];
        ranges.push({ after, through, size: part.length });
        after = through;
      }
      return { ranges, exhausted: keys.length < input.batchSize * input.count };
    },

    /** Synchronizes one batch; resumable across attempts through heartbeat details. */
    async syncBatch(input: SyncBatchInput): Promise<SyncBatchResult> {
      const ctx = Context.current();
      const pass = await loadPass(deps, input.mapping, input.direction);
      const resume = isResume(ctx.info.heartbeatDetails) ? ctx.info.heartbeatDetails : null;
      let counters = resume?.counters ?? emptyCounters();
      const read = await readSelection(pass, deps.store, input.selection, resume?.pendingIds)
        .catch((error: unknown) => { throw readFailure(pass.source.name, error); });
      let unskipped = read.unskipped ?? [];
      if (!resume && input.options.includeSkipped && input.selection.kind === 'ids') {
        // The user chose to retry these: skipped ones start afresh, as the retry phase's do.
        const ids = [...read.records.map((r) => r.id), ...(read.missing ?? [])];
        const coupled = (await deps.store.getCouplings(pass.mapping.name, pass.plan.sourceSide, ids)).filter((c) => c.skipped);
        if (coupled.length) await deps.store.clearSkipped(pass.mapping.name, coupled.map((c) => c.localId));
        await deps.store.clearUncoupledSkipped(pass.mapping.name, pass.plan.sourceSide, ids);
        unskipped = coupled.map((c) => (pass.plan.sourceSide === 'local' ? c.localId : c.integrationId));
      }
      const scanned = resume ? resume.scanned : read.scanned;
      const nextAfterId = resume ? resume.nextAfterId : read.nextAfterId;
      const batch: BatchRecords = { ...read, unskipped };
      const batchIds = [...batch.records.map((r) => r.id), ...(batch.missing ?? []), ...(batch.refusals ?? []).map((r) => r.sourceId)];
      const throttledAttempts = resume?.throttledAttempts ?? 0;
      const effectiveAttempt = ctx.info.attempt - throttledAttempts;
      // Local activities (single-record sync) cannot heartbeat; they simply redo their one record.
      const remember = (pendingIds: string[], throttled: number): void => {
        if (!ctx.info.isLocal) ctx.heartbeat({ counters, pendingIds, scanned, nextAfterId, throttledAttempts: throttled } satisfies BatchResume);
      };

      // A run that lost the mapping's lease stops here, before it writes anything.
      await requireLease(deps, input.mapping, input.lease);
      // Stable across this batch's retries, distinct from every other batch of the job (also across continue-as-new).
      const batchToken = `${ctx.info.workflowExecution?.runId ?? ctx.info.workflowType}/${ctx.info.activityId}`;
      let result;
      try {
        result = await syncRecords(
          { store: deps.store, source: pass.source, destination: pass.destination },
          { mapping: pass.mapping, plan: pass.plan, jobId: input.jobId, options: input.options, batchToken },
          batch,
          effectiveAttempt,
        );
      } catch (error) {
        if (error instanceof ThrottledError) {
          // Throttling is the system asking us to wait: never an error row, never an exhausted attempt.
          remember(batchIds, throttledAttempts + 1);
          throw throttledFailure(pass.destination.name, error, 'the batch');
        }
        // Only the driver's message travels on: the SQL it quotes would carry record values into the history.
        const message = redact(dbErrorMessage(error));
        const type = error instanceof Error ? error.name : 'Error';
        remember(batchIds, throttledAttempts);
        if (isPermanentConfigurationError(error) || (!isTransientError(error) && effectiveAttempt >= input.maxAttempts)) {
          throw ApplicationFailure.create({ message, type: 'BatchFailed', nonRetryable: true });
        }
        throw ApplicationFailure.create({ message, type });
      }
      counters = addCounters(counters, result.counters);
      if (result.retry.length > 0) {
        if (effectiveAttempt < input.maxAttempts) {
          remember(result.retry.map((f) => f.sourceId), throttledAttempts);
          const first = result.retry[0];
          throw ApplicationFailure.create({
            message: redact(retrySummary(result.retry.length, batchIds.length, { id: first.sourceId, kind: first.kind, code: first.code })),
            type: FAILURE_TYPES.recordsFailed,
          });
        }
        const failures: RecordFailure[] = result.retry.map((f) => ({
          sourceId: f.sourceId,
          destinationId: f.destinationId,
          message: f.message,
          detail: f.detail,
          attempts: effectiveAttempt,
        }));
        await recordFailures(deps.store, { mapping: pass.mapping, plan: pass.plan, jobId: input.jobId, batchToken }, failures);
        counters.failed += failures.length;
      }
      return { counters, scanned, nextAfterId };
    },

    /**
     * After a batch's retries are exhausted: an error row and a failure state for
     * each record the batch would have worked on and has not handled, so none is
     * dropped silently (a failed create is retried like a failed coupling).
     */
    async failBatch(input: FailBatchInput): Promise<JobCounters> {
      const pass = await loadPass(deps, input.mapping, input.direction);
      await requireLease(deps, input.mapping, input.lease);
      const { mapping, plan } = pass;
      const sourceIdOf = (c: { localId: string; integrationId: string }): string => (plan.sourceSide === 'local' ? c.localId : c.integrationId);
      const { selection } = input;
      let ids: string[];
      if (selection.kind === 'ids') {
        ids = selection.side === plan.sourceSide ? selection.ids : (await deps.store.getCouplings(mapping.name, selection.side, selection.ids)).map(sourceIdOf);
      } else if (selection.kind === 'range') {
        // The system bounds the range: ids sort in its order (SQL Server orders GUIDs unlike strings), not ours.
        const keys = await pass.source.readChanged({
          table: plan.sourceSide === 'local' ? mapping.local.table : mapping.integration.table,
          fields: [],
          filter: plan.sourceSide === 'local' ? mapping.tableFilter : mapping.integrationTableFilter,
          since: selection.since,
          after: selection.after,
          through: selection.through,
          limit: 1_000_000,
        });
        ids = keys.map((k) => k.id);
      } else if (selection.kind === 'retry') {
        const page = await deps.store.pageCouplings(mapping.name, { afterId: selection.afterId, limit: selection.limit, needs: input.direction, includeSkipped: selection.includeSkipped });
        ids = page.map(sourceIdOf);
      } else if (selection.kind === 'retryUncoupled') {
        ids = (await deps.store.pageUncoupledFailures(mapping.name, plan.sourceSide, { afterId: selection.afterId, limit: selection.limit, includeSkipped: selection.includeSkipped })).map((u) => u.recordId);
      } else if (selection.kind === 'matchedBy') {
        ids = (await deps.store.pageCouplings(mapping.name, { afterId: selection.afterId, limit: selection.limit, coupledByJobId: selection.jobId, coupledAction: 'matched' })).map(sourceIdOf);
      } else {
        // A sweep decides nothing until it has read: the next pass's sweep checks these couplings again.
        return emptyCounters();
      }
      const couplings = new Map((await deps.store.getCouplings(mapping.name, plan.sourceSide, ids)).map((c) => [sourceIdOf(c), c]));
      const creates = !mapping.syncOnlyCoupledRecords;
      const open = ids.filter((id) => {
        const coupling = couplings.get(id);
        // Handled by this job already (in an attempt that reported), or a record the pass would ignore.
        if (coupling) return directionState(coupling, input.direction).jobId !== input.jobId;
        return creates;
      });
      const message = redact(`The batch failed after its retries were exhausted: ${input.message}`);
      await recordFailures(deps.store, { mapping, plan, jobId: input.jobId }, open.map((id) => ({ sourceId: id, destinationId: null, message, attempts: 0 })));
      return { ...emptyCounters(), failed: open.length };
    },

    /** Closes the job row and moves the watermark of the side that was read. */
    async finishPass(input: FinishPassInput): Promise<{ status: JobStatus; counters: JobCounters }> {
      let { status, message } = input;
      // A batch killed after removing couplings and before its heartbeat counted none of them; the store's tally did.
      const counters = { ...input.counters, uncoupled: Math.max(input.counters.uncoupled, await deps.store.countUncoupledBy(input.jobId)) };
      const moves = input.watermark !== null && status === 'succeeded';
      // A run that lost the lease must not move the watermark past what the new holder reads: its job fails, saying so.
      if (moves && input.lease && !(await deps.store.renewRunLock(input.mapping, input.lease, leaseTtl(deps)))) {
        status = 'failed';
        message = `Another run took mapping ${input.mapping} before this pass ended; its watermark was left for that run.`;
      }
      await deps.store.updateJob(input.jobId, { counters, status, message, finished: true });
      await deps.store.forgetUncoupled(input.jobId);
      if (input.watermark && status === 'succeeded') {
        const mapping = await deps.store.requireMapping(input.mapping);
        const side = sidesOf(input.direction).sourceSide;
        const previous = side === 'local' ? mapping.localWatermark : mapping.integrationWatermark;
        const next = nextWatermark(previous, input.watermark.largestScanned, input.watermark.startedAt);
        if (next !== previous) await deps.store.setWatermark(input.mapping, side, next);
      }
      deps.log?.(`job ${input.jobId} ${input.mapping} ${input.direction} ${status} ${JSON.stringify(counters)}`);
      return { status, counters };
    },

    /**
     * Chooses the direction for a single-record sync of a bidirectional mapping:
     * the side that changed; when both did, the caller's direction or the
     * mapping's conflict resolution; otherwise the record is marked skipped.
     */
    async chooseSingleDirection(input: { mapping: string; recordId: string; side: Side; direction: SyncDirection | null; jobId: string; workflowId: string; runId: string }): Promise<{ direction: SyncDirection; sourceId: string; conflict: boolean }> {
      const choice = await chooseDirection(deps, input);
      await requireSource(deps, input.mapping, choice, input);
      return choice;
    },
    /** singleSync in one activity: choose the direction, open the job, sync the record, close the job. */
    async syncSingleRecord(input: SyncSingleRecordInput): Promise<JobSummary> {
      const choice = await activities.chooseSingleDirection(input);
      // Not startPass: a single record needs no watermark, so the mapping is not read again.
      await openPassJob(deps, {
        mapping: input.mapping, direction: choice.direction, jobId: input.jobId, type: 'Synchronization', workflowId: input.workflowId, runId: input.runId,
      });
      const result = await activities.syncBatch({
        mapping: input.mapping,
        direction: choice.direction,
        jobId: input.jobId,
        selection: { kind: 'ids', ids: [choice.sourceId], side: sidesOf(choice.direction).sourceSide },
        options: { createUncoupled: true, force: true, includeSkipped: input.direction !== null, winner: input.direction ?? undefined, skipOnConflict: choice.conflict },
        maxAttempts: input.maxAttempts,
      });
      // An attempt cut short (a killed worker) may have coupled the record, and another run removed that
      // coupling before this attempt ran again: the couplings the job made say how many it really made.
      const counters = { ...result.counters, coupled: Math.max(result.counters.coupled, await deps.store.countCouplingsMadeBy(input.mapping, input.jobId)) };
      const status: JobStatus = 'succeeded';
      const message = counters.failed > 0 ? 'The record failed; see the error rows of this job.' : null;
      const closed = await activities.finishPass({ mapping: input.mapping, direction: choice.direction, jobId: input.jobId, counters, status, message, watermark: null });
      return { jobId: input.jobId, type: 'Synchronization', direction: choice.direction, status, counters: closed.counters };
    },
  };
  return activities;
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
export type { JobCounters };
