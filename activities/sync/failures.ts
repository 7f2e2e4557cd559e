/**
 * What becomes of a record that failed in a batch: a retry of the batch when
 * the failure may pass, else an error row and the record's failure state (its
 * coupling's direction, skipped after the same failure twice there; or its
 * failed-uncoupled entry). Messages are redacted before they are stored.
 */
import type { RecordWriteError } from '../../connectors/connector';

import type { FieldPlan } from '../../domain/field-plan';
import { nextFailureState } from '../../domain/sync-decision';

import { directionState, otherDirection, type Coupling, type CouplingAction, type CouplingUpdate, type JobErrorRow, type Store } from '../../store/store';
import { redact } from '../../support/redact';

import type { PassContext } from './engine';

/** The coupling's record on the pass's source side. */
export function sourceIdOf(plan: FieldPlan, coupling: Coupling): string {
  return plan.sourceSide === 'local' ? coupling.localId : coupling.integrationId;
}

/** The coupling's record on the pass's destination side. */
export function destinationIdOf(plan: FieldPlan, coupling: Coupling): string {
  return plan.destinationSide === 'local' ? coupling.localId : coupling.integrationId;
}

/** What a batch writes on a coupling it handled: the action and the batch, so a retry of the batch recognises its own work. */
export function stamp(action: CouplingAction, batchToken: string | undefined): string {
  return `${action}@${batchToken ?? ''}`;
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

export interface RecordFailure {
  sourceId: string;
  destinationId: string | null;
  message: string;
  detail?: string;
  attempts: number;
  /** Mark the coupling skipped at once (a conflict in a single-record sync: the user must choose). */
  skip?: boolean;
}

/** A record's write error as its error row says it: the system's code first, once. */
export function writeErrorMessage(error: Pick<RecordWriteError, 'code' | 'message'>): string {
  return error.code && !error.message.startsWith(error.code) ? `${error.code}: ${error.message}` : error.message;
}

/** An error row of a record. */
export function errorRow(
  ctx: Pick<PassContext, 'mapping' | 'jobId'>,
  failure: Pick<RecordFailure, 'sourceId' | 'destinationId' | 'message' | 'detail' | 'attempts'>,
): JobErrorRow {
  return {
    jobId: ctx.jobId,
    mappingName: ctx.mapping.name,
    sourceRecordId: failure.sourceId,
    destinationRecordId: failure.destinationId,
    message: redact(failure.message),
    fullMessage: failure.detail ? redact(failure.detail) : null,
    attempts: failure.attempts,
  };
}

/**
 * Writes error rows and the failure state of each record: its coupling's
 * direction (skipped after the same failure twice in that direction), or its
 * failed-uncoupled entry when it is not coupled. Safe to repeat: error rows
 * are keyed by job and record, and the states are written over what is read.
 */
export async function recordFailures(
  store: Store,
  ctx: Pick<PassContext, 'mapping' | 'plan' | 'jobId' | 'batchToken'>,
  failures: readonly RecordFailure[],
): Promise<void> {
  if (failures.length === 0) return;
  const { mapping, plan, jobId } = ctx;
  await store.insertErrors(failures.map((f) => errorRow(ctx, f)));
  const ids = failures.map((f) => f.sourceId);
  const couplings = await store.getCouplings(mapping.name, plan.sourceSide, ids);
  const bySource = new Map(couplings.map((c) => [sourceIdOf(plan, c), c]));
  const uncoupled = failures.filter((f) => !bySource.has(f.sourceId));
  const entries = new Map(
    (
      await store.getUncoupledFailures(
        mapping.name,
        plan.sourceSide,
        uncoupled.map((f) => f.sourceId),
      )
    ).map((u) => [u.recordId, u]),
  );
  const updates: CouplingUpdate[] = [];
  const uncoupledStates: { recordId: string; failureCount: number; lastError: string; skipped: boolean }[] = [];
  for (const failure of failures) {
    const message = redact(failure.message);
    const coupling = bySource.get(failure.sourceId);
    if (!coupling) {
      const entry = entries.get(failure.sourceId);
      const state = nextFailureState(entry ? { failureCount: entry.failureCount, lastError: entry.lastError } : null, message);
      uncoupledStates.push({ recordId: failure.sourceId, failureCount: state.failureCount, lastError: message, skipped: state.skipped });
      continue;
    }
    const own = directionState(coupling, plan.direction);
    const state = nextFailureState({ failureCount: own.failureCount, lastError: own.lastError }, message);
    updates.push({
      localId: coupling.localId,
      integrationId: coupling.integrationId,
      version: coupling.version,
      lastSyncedLocalModifiedOn: coupling.lastSyncedLocalModifiedOn,
      lastSyncedIntegrationModifiedOn: coupling.lastSyncedIntegrationModifiedOn,
      result: 'Failure',
      failureCount: state.failureCount,
      lastError: message,
      pending: own.pending,
      pendingOther: directionState(coupling, otherDirection(plan.direction)).pending,
      skipped: coupling.skipped || state.skipped || failure.skip === true,
      action: stamp('fail', ctx.batchToken),
    });
  }
  // A failure state lost to a concurrent write is left to that write: the error row tells what happened here.
  await store.updateCouplings(mapping.name, plan.direction, jobId, updates);
  await store.saveUncoupledFailures(mapping.name, plan.sourceSide, jobId, uncoupledStates);
}
