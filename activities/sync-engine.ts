/**
 * Carries out a pass over a batch of source records: one read of couplings,
 * one read of destination records, one create call, one update call and one
 * coupling write per batch, whatever its size. Decisions come from the pure
 * `decideRecord`; this module only does the I/O around it.
 */
import type { Connector, RecordWriteError, SourceRecord, WriteResult } from '../connectors/connector';
import { emptyCounters, type JobCounters, type SyncDirection } from '../common/types';
import type { StoredMapping } from '../domain/mapping';
import type { FieldPlan } from '../domain/field-plan';
import { decideRecord, MESSAGES, nextFailureState, type Decision, type DecisionOptions } from '../domain/sync-decision';
import { creationKey } from '../domain/record-key';
import type { Coupling, CouplingAction, CouplingWrite, JobErrorRow, Store } from '../store/store';
import { redact } from './redact';

export interface EngineDeps {
  store: Store;
  source: Connector;
  destination: Connector;
}

export interface PassContext {
  mapping: StoredMapping;
  plan: FieldPlan;
  jobId: string;
  options: DecisionOptions;
  /**
   * The batch activity (stable across its retries). Records it already handled
   * in an attempt that never reported are counted from their couplings; those
   * handled by another batch of the job (the failed-records phase) are not.
   */
  batchToken?: string;
}

/** A record whose write failed for a reason that may pass; the activity retries it. */
export interface RetryableFailure {
  sourceId: string;
  destinationId: string | null;
  message: string;
  detail?: string;
  kind: RecordWriteError['kind'];
  code?: string;
}

/**
 * The retry's failure message goes into the workflow history, so it names the
 * record and the kind of error only: a system's message may quote the record's
 * values. The full message is kept for the error row the record gets if its
 * retries run out.
 */
export function retrySummary(failed: number, total: number, first: { id: string; kind: string; code?: string }, what = 'records failed'): string {
  return `${failed} of ${total} ${what} and will be retried; first: record ${first.id} (${first.kind}${first.code ? `, code ${first.code}` : ''}); the error rows get the systems' messages if the retries run out`;
}

export interface EngineResult {
  counters: JobCounters;
  retry: RetryableFailure[];
}

export interface RecordFailure {
  sourceId: string;
  destinationId: string | null;
  message: string;
  detail?: string;
  attempts: number;
  /** Mark the coupling skipped at once (a conflict in a single-record sync: the user must choose). */
  skip?: boolean;
}

function couplingWrite(
  mapping: StoredMapping, plan: FieldPlan, sourceId: string, destinationId: string, sourceModifiedOn: string, destinationModifiedOn: string,
  action: string,
): CouplingWrite {
  const local = plan.sourceSide === 'local';
  return {
    action,
    localId: local ? sourceId : destinationId,
    integrationId: local ? destinationId : sourceId,
    lastSyncedLocalModifiedOn: local ? sourceModifiedOn : destinationModifiedOn,
    lastSyncedIntegrationModifiedOn: local ? destinationModifiedOn : sourceModifiedOn,
    result: 'Success',
    skipped: false,
    failureCount: 0,
    lastErrorMessage: null,
  };
}

function destinationIdOf(plan: FieldPlan, coupling: Coupling): string {
  return plan.destinationSide === 'local' ? coupling.localId : coupling.integrationId;
}

function lastJobIdOf(direction: SyncDirection, coupling: Coupling): string | null {
  return direction === 'ToIntegrationTable' ? coupling.lastToIntegrationJobId : coupling.lastFromIntegrationJobId;
}

function lastActionOf(direction: SyncDirection, coupling: Coupling): string | null {
  return direction === 'ToIntegrationTable' ? coupling.lastToIntegrationAction : coupling.lastFromIntegrationAction;
}

function stamp(action: CouplingAction, batchToken: string | undefined): string {
  return `${action}@${batchToken ?? ''}`;
}

/**
 * Counts a record this batch already handled in an attempt that never reported
 * (a worker killed after the writes): the coupling says what was done, so the
 * job's counters stay exact and nothing is written twice. A record another
 * batch of the job handled was counted there.
 */
function countEarlierAttempt(counters: JobCounters, stamped: string | null, batchToken: string | undefined): void {
  if (!batchToken || !stamped) return;
  const at = stamped.indexOf('@');
  if (at < 0 || stamped.slice(at + 1) !== batchToken) return;
  switch (stamped.slice(0, at) as CouplingAction) {
    case 'insert': counters.inserted++; counters.coupled++; break;
    case 'restore': counters.inserted++; break;
    case 'modify': counters.modified++; break;
    case 'unchanged': counters.unchanged++; break;
    case 'fail': counters.failed++; break;
    default: break;
  }
}

function lastResultOf(direction: SyncDirection, coupling: Coupling): 'Success' | 'Failure' | null {
  return direction === 'ToIntegrationTable' ? coupling.lastToIntegrationResult : coupling.lastFromIntegrationResult;
}

/**
 * Writes error rows and marks the couplings of failed records (failure count,
 * skipped after the same failure twice). Safe to repeat: error rows are keyed by
 * job and record.
 */
export async function recordFailures(store: Store, ctx: Pick<PassContext, 'mapping' | 'plan' | 'jobId' | 'batchToken'>, failures: readonly RecordFailure[]): Promise<void> {
  if (failures.length === 0) return;
  const { mapping, plan, jobId } = ctx;
  const errors: JobErrorRow[] = failures.map((f) => ({
    jobId,
    mappingName: mapping.name,
    sourceRecordId: f.sourceId,
    destinationRecordId: f.destinationId,
    message: redact(f.message),
    fullMessage: f.detail ? redact(f.detail) : null,
    attempts: f.attempts,
  }));
  await store.insertErrors(errors);
  const couplings = await store.getCouplings(mapping.name, plan.sourceSide, failures.map((f) => f.sourceId));
  const byId = new Map(couplings.map((c) => [plan.sourceSide === 'local' ? c.localId : c.integrationId, c]));
  const writes: CouplingWrite[] = [];
  for (const failure of failures) {
    const coupling = byId.get(failure.sourceId);
    if (!coupling) continue;
    const message = redact(failure.message);
    const state = nextFailureState(coupling, message);
    writes.push({
      localId: coupling.localId,
      integrationId: coupling.integrationId,
      lastSyncedLocalModifiedOn: coupling.lastSyncedLocalModifiedOn,
      lastSyncedIntegrationModifiedOn: coupling.lastSyncedIntegrationModifiedOn,
      result: 'Failure',
      skipped: state.skipped || failure.skip === true,
      failureCount: state.failureCount,
      lastErrorMessage: message,
      action: stamp('fail', ctx.batchToken),
    });
  }
  await store.updateCouplings(mapping.name, plan.direction, jobId, writes);
}

/** Synchronizes a batch of source records into the destination. */
export async function syncRecords(deps: EngineDeps, ctx: PassContext, records: readonly SourceRecord[], attempt: number): Promise<EngineResult> {
  const { store, destination } = deps;
  const { mapping, plan, jobId } = ctx;
  const counters = emptyCounters();
  const retry: RetryableFailure[] = [];
  const failures: RecordFailure[] = [];
  if (records.length === 0) return { counters, retry };

  const couplings = await store.getCouplings(mapping.name, plan.sourceSide, records.map((r) => r.id));
  const couplingBySource = new Map(couplings.map((c) => [plan.sourceSide === 'local' ? c.localId : c.integrationId, c]));
  const destinationTable = plan.destinationSide === 'local' ? mapping.local.table : mapping.integration.table;
  const destinationIds = couplings.filter((c) => !c.skipped || ctx.options.includeSkipped).map((c) => destinationIdOf(plan, c));
  const destinations = destinationIds.length
    ? await destination.getMany({ table: destinationTable, ids: destinationIds, fields: plan.destinationFields })
    : [];
  const destinationById = new Map(destinations.map((d) => [d.id, d]));

  const inserts: { record: SourceRecord; decision: Extract<Decision, { action: 'insert' | 'restore' }>; coupling: Coupling | null }[] = [];
  const modifies: { record: SourceRecord; coupling: Coupling; destinationId: string; decision: Extract<Decision, { action: 'modify' }> }[] = [];
  const touches: CouplingWrite[] = [];
  const uncouples: string[] = [];

  for (const record of records) {
    const coupling = couplingBySource.get(record.id) ?? null;
    // Already handled by this job in an attempt that did not report: counted from what the coupling says was done.
    if (coupling && lastJobIdOf(plan.direction, coupling) === jobId) {
      countEarlierAttempt(counters, lastActionOf(plan.direction, coupling), ctx.batchToken);
      continue;
    }
    const destinationId = coupling ? destinationIdOf(plan, coupling) : null;
    const destinationRecord = destinationId ? destinationById.get(destinationId) ?? null : null;
    const decision = decideRecord({
      plan,
      mapping,
      source: record,
      coupling: coupling && {
        lastSyncedLocalModifiedOn: coupling.lastSyncedLocalModifiedOn,
        lastSyncedIntegrationModifiedOn: coupling.lastSyncedIntegrationModifiedOn,
        lastResult: lastResultOf(plan.direction, coupling),
        skipped: coupling.skipped,
      },
      destination: destinationRecord,
      options: ctx.options,
    });
    switch (decision.action) {
      case 'ignore': break;
      case 'skip': counters.skipped++; break;
      case 'deferred': counters.unchanged++; break;
      case 'unchanged':
        counters.unchanged++;
        if (decision.touchCoupling && coupling && destinationRecord) {
          touches.push(couplingWrite(mapping, plan, record.id, destinationRecord.id, record.modifiedOn, destinationRecord.modifiedOn, stamp('unchanged', ctx.batchToken)));
        }
        break;
      case 'insert':
      case 'restore':
        inserts.push({ record, decision, coupling });
        break;
      case 'modify':
        if (coupling && destinationId) modifies.push({ record, coupling, destinationId, decision });
        break;
      case 'uncouple': uncouples.push(record.id); break;
      case 'fail':
        failures.push({ sourceId: record.id, destinationId, message: decision.message, attempts: attempt, skip: ctx.options.skipOnConflict === true && decision.message === MESSAGES.conflict });
        break;
      default: {
        const unreachable: never = decision;
        throw new Error(`Unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  const handleWriteFailure = (record: SourceRecord, destinationId: string | null, result: Extract<WriteResult, { ok: false }>): void => {
    const { error } = result;
    if (error.kind === 'transient' || error.kind === 'conflict' || error.kind === 'notFound') {
      // A conflict or a vanished record is re-read on the retry and then follows the mapping's conflict rules.
      retry.push({ sourceId: record.id, destinationId, message: error.code ? `${error.code}: ${error.message}` : error.message, detail: error.detail, kind: error.kind, code: error.code });
    } else {
      failures.push({
        sourceId: record.id,
        destinationId,
        message: error.code ? `${error.code}: ${error.message}` : error.message,
        detail: error.detail,
        attempts: attempt,
      });
    }
  };

  // Creates (new records and restores of deleted counterparts), keyed so a replay names the same record.
  if (inserts.length > 0) {
    const results = await destination.createMany(
      destinationTable,
      inserts.map(({ record, decision }) => ({ key: creationKey(mapping.name, plan.sourceSide, record.id), values: decision.values })),
    );
    const newCouplings: CouplingWrite[] = [];
    const restoredSourceIds: string[] = [];
    results.forEach((result, i) => {
      const { record, decision, coupling } = inserts[i];
      if (!result.ok) return handleWriteFailure(record, coupling ? destinationIdOf(plan, coupling) : null, result);
      counters.inserted++;
      if (decision.action === 'insert') counters.coupled++;
      else restoredSourceIds.push(record.id);
      newCouplings.push(couplingWrite(mapping, plan, record.id, result.id, record.modifiedOn, result.modifiedOn, stamp(decision.action, ctx.batchToken)));
    });
    if (restoredSourceIds.length > 0) await store.deleteCouplings(mapping.name, plan.sourceSide, restoredSourceIds);
    await store.insertCouplings(mapping.name, plan.direction, jobId, newCouplings);
  }

  // Updates of coupled records: only the values that differ, guarded by the version we read.
  const couplingUpdates: CouplingWrite[] = [...touches];
  if (modifies.length > 0) {
    const results = await destination.updateMany(
      destinationTable,
      modifies.map(({ destinationId, decision }) => ({ id: destinationId, values: decision.changes, expectedVersion: decision.expectedVersion })),
    );
    results.forEach((result, i) => {
      const { record, destinationId } = modifies[i];
      if (!result.ok) return handleWriteFailure(record, destinationId, result);
      counters.modified++;
      couplingUpdates.push(couplingWrite(mapping, plan, record.id, destinationId, record.modifiedOn, result.modifiedOn, stamp('modify', ctx.batchToken)));
    });
  }
  await store.updateCouplings(mapping.name, plan.direction, jobId, couplingUpdates);

  if (uncouples.length > 0) counters.uncoupled += await store.deleteCouplings(mapping.name, plan.sourceSide, uncouples);

  await recordFailures(store, ctx, failures);
  counters.failed += failures.length;
  return { counters, retry };
}
