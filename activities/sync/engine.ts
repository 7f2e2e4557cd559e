/**
 * Carries out a pass over a batch of source records: one read of couplings,
 * one read of destination records, one create call, one update call, one
 * delete call and one coupling write per batch, whatever its size. Decisions
 * come from the pure rules in domain/sync-decision; this module only does the
 * I/O around them. Coupling writes are conditional on the version read: a
 * record whose coupling changed meanwhile is retried, never overwritten.
 *
 * Longer than our other modules on purpose: syncRecords is one batch's
 * decisions and writes in the order they must land (creates, updates,
 * deletions, then couplings), and reads best as one piece. What becomes of a
 * failed record is in ./failures.
 */
import type { Connector, SourceRecord, WriteResult } from '../../connectors/connector';
import { emptyCounters, type JobCounters, type SyncDirection } from '../../common/types';
import type { StoredMapping } from '../../domain/mapping';
import type { FieldPlan } from '../../domain/field-plan';
import type { UnmappedOption } from '../../domain/option-mapping';
import { decideMissingSource, decideRecord, MESSAGES, type CouplingState, type Decision, type RecordState } from '../../domain/sync-decision';
import { creationKey } from '../../domain/record-key';
import { directionState, otherDirection, type Coupling, type CouplingAction, type CouplingUpdate, type NewCoupling, type Store } from '../../store/store';

import type { DecisionOptions } from '../../common/protocol';
import { beginCreates } from '../creations';
import { lookupVerdict, type LookupProblem } from '../../domain/lookups';
import type { LookupTranslator } from './lookups';
import { destinationIdOf, errorRow, recordFailures, sourceIdOf, stamp, writeErrorMessage, type RecordFailure, type RetryableFailure } from './failures';

export interface EngineDeps {
  store: Store;
  source: Connector;
  destination: Connector;
  /** Carries the pass's lookup fields across; absent when it has none. */
  lookups?: LookupTranslator | null;
}

export interface PassContext {
  mapping: StoredMapping;
  plan: FieldPlan;
  jobId: string;
  options: DecisionOptions;
  /**
   * The batch activity (stable across its retries). Records it already handled
   * in an attempt that never reported are counted from their couplings; those
   * handled by another batch of the job (the retry phase) are not.
   */
  batchToken?: string;
}

/** What a batch works on, as its selection read it. */
export interface BatchRecords {
  /** Source records that exist and are within the source side's table filter. */
  records: readonly SourceRecord[];
  /** Source ids of couplings whose source record no longer exists. */
  missing?: readonly string[];
  /**
   * Given ids the pass refuses (outside the filter, missing and not coupled): an error row each. One outside the
   * filter whose coupling is skipped is counted skipped instead, as a skipped coupling is before anything else.
   */
  refusals?: readonly { sourceId: string; message: string; outside?: boolean }[];
  /** Failed uncoupled records whose source is gone: nothing is left to create. */
  forget?: readonly string[];
  /** Source ids whose skipped flag this batch cleared to retry them: decided as changed, as skipped ones being retried are. */
  unskipped?: readonly string[];
}

export interface EngineResult {
  counters: JobCounters;
  retry: RetryableFailure[];
}

const LOST_RACE = 'The coupling was changed by another run while this batch worked on it; the record is read again.';

function stateOf(direction: SyncDirection, coupling: Coupling): CouplingState {
  const own = directionState(coupling, direction);
  return {
    lastSyncedLocalModifiedOn: coupling.lastSyncedLocalModifiedOn,
    lastSyncedIntegrationModifiedOn: coupling.lastSyncedIntegrationModifiedOn,
    lastResult: own.result,
    pending: own.pending,
    pendingOther: directionState(coupling, otherDirection(direction)).pending,
    skipped: coupling.skipped,
  };
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
    case 'insert':
      counters.inserted++;
      counters.coupled++;
      break;
    case 'restore':
      counters.inserted++;
      break;
    case 'modify':
      counters.modified++;
      break;
    case 'unchanged':
    case 'deferred':
      counters.unchanged++;
      break;
    case 'fail':
      counters.failed++;
      break;
    default:
      break;
  }
}

/** The coupling after a successful visit in the pass's direction: both modified-on values as given. */
function syncedUpdate(
  ctx: PassContext,
  coupling: Coupling,
  sourceModifiedOn: string,
  destinationModifiedOn: string,
  otherPending: boolean,
  action: CouplingAction,
): CouplingUpdate {
  const local = ctx.plan.sourceSide === 'local';
  return {
    localId: coupling.localId,
    integrationId: coupling.integrationId,
    version: coupling.version,
    lastSyncedLocalModifiedOn: local ? sourceModifiedOn : destinationModifiedOn,
    lastSyncedIntegrationModifiedOn: local ? destinationModifiedOn : sourceModifiedOn,
    result: 'Success',
    failureCount: 0,
    lastError: null,
    pending: false,
    pendingOther: otherPending || directionState(coupling, otherDirection(ctx.plan.direction)).pending,
    skipped: false,
    action: stamp(action, ctx.batchToken),
  };
}

/** The coupling after a deferral: unchanged, but the other direction now carries the record. */
function deferredUpdate(ctx: PassContext, coupling: Coupling): CouplingUpdate {
  const own = directionState(coupling, ctx.plan.direction);
  return {
    localId: coupling.localId,
    integrationId: coupling.integrationId,
    version: coupling.version,
    lastSyncedLocalModifiedOn: coupling.lastSyncedLocalModifiedOn,
    lastSyncedIntegrationModifiedOn: coupling.lastSyncedIntegrationModifiedOn,
    result: own.result,
    failureCount: own.failureCount,
    lastError: own.lastError,
    pending: false,
    pendingOther: true,
    skipped: coupling.skipped,
    action: stamp('deferred', ctx.batchToken),
  };
}

/** A coupled update and what it counts once it is known to have landed. */
interface PendingUpdate {
  update: CouplingUpdate;
  sourceId: string;
  destinationId: string;
  count: (counters: JobCounters) => void;
}

/** Synchronizes a batch of source records into the destination. */
export async function syncRecords(deps: EngineDeps, ctx: PassContext, batch: BatchRecords, attempt: number): Promise<EngineResult> {
  const { store, destination } = deps;
  const { mapping, plan, jobId, options } = ctx;
  const counters = emptyCounters();
  const retry: RetryableFailure[] = [];
  const failures: RecordFailure[] = [];
  const translated = deps.lookups ? await deps.lookups(batch.records) : null;
  const records = translated?.records ?? batch.records;
  const lookupProblems = translated?.problems ?? new Map<string, LookupProblem[]>();
  const warnings: RecordFailure[] = [];
  const missing = batch.missing ?? [];
  const unskipped = new Set(batch.unskipped ?? []);
  // Option values `collect` fields left out of this batch's writes: listed once, at the end of the batch.
  const unmapped: UnmappedOption[] = [];

  if (batch.forget?.length) await store.deleteUncoupledFailures(mapping.name, plan.sourceSide, batch.forget);
  // A refusal is about the request, not the record: an error row, and no failure state to retry.
  let refusals = batch.refusals ?? [];
  const outside = refusals.filter((r) => r.outside).map((r) => r.sourceId);
  if (outside.length > 0 && !options.includeSkipped) {
    const skipped = new Set((await store.getCouplings(mapping.name, plan.sourceSide, outside)).filter((c) => c.skipped).map((c) => sourceIdOf(plan, c)));
    counters.skipped += skipped.size;
    refusals = refusals.filter((r) => !skipped.has(r.sourceId));
  }
  if (refusals.length > 0) {
    await store.insertErrors(refusals.map((r) => errorRow(ctx, { sourceId: r.sourceId, destinationId: null, message: r.message, attempts: attempt })));
    counters.failed += refusals.length;
  }
  if (records.length === 0 && missing.length === 0) return { counters, retry };

  // One read of the records' couplings on their table, in any mapping: this mapping's (a coupled mapping's tables
  // never move, so its couplings name its tables), and those of the others, which a record may be coupled in instead.
  const sourceTable = plan.sourceSide === 'local' ? mapping.local : mapping.integration;
  const onTable = await store.getRecordCouplings(sourceTable, plan.sourceSide, [...records.map((r) => r.id), ...missing]);
  const couplings = onTable.filter((c) => c.mappingName === mapping.name);
  const couplingBySource = new Map(couplings.map((c) => [sourceIdOf(plan, c), c]));
  const destinationTable = plan.destinationSide === 'local' ? mapping.local.table : mapping.integration.table;

  // Uncoupled records: failed creates to retry, and ones coupled in another mapping of the table.
  const uncoupledIds = records.filter((r) => !couplingBySource.has(r.id)).map((r) => r.id);
  const elsewhere = new Map<string, string>();
  const entries = new Map<string, { skipped: boolean; lastJobId: string | null }>();
  const uncoupledHere = new Set<string>();
  if (uncoupledIds.length > 0) {
    for (const id of await store.uncoupledBy(jobId, plan.sourceSide, uncoupledIds)) uncoupledHere.add(id);
    for (const u of await store.getUncoupledFailures(mapping.name, plan.sourceSide, uncoupledIds)) entries.set(u.recordId, u);
    const creates = !mapping.syncOnlyCoupledRecords || options.createUncoupled === true;
    const toCreate = new Set(creates ? uncoupledIds : uncoupledIds.filter((id) => entries.has(id)));
    for (const c of onTable) {
      if (c.mappingName !== mapping.name && toCreate.has(sourceIdOf(plan, c))) elsewhere.set(sourceIdOf(plan, c), c.mappingName);
    }
  }

  const destinationIds = couplings.filter((c) => !c.skipped || options.includeSkipped).map((c) => destinationIdOf(plan, c));
  const destinations = destinationIds.length ? await destination.getMany({ table: destinationTable, ids: destinationIds, fields: plan.destinationFields }) : [];
  const destinationById = new Map<string, RecordState>(destinations.map((d) => [d.id, d]));

  const inserts: { record: SourceRecord; decision: Extract<Decision, { action: 'insert' | 'restore' }>; coupling: Coupling | null }[] = [];
  const modifies: { record: SourceRecord; coupling: Coupling; destinationId: string; decision: Extract<Decision, { action: 'modify' }> }[] = [];
  const updates: PendingUpdate[] = [];
  const uncouples: Coupling[] = [];
  const deletions: Coupling[] = [];

  const alreadyHandled = (coupling: Coupling): boolean => {
    const own = directionState(coupling, plan.direction);
    if (own.jobId !== jobId) return false;
    // Already handled by this job in an attempt that did not report: counted from what the coupling says was done.
    countEarlierAttempt(counters, own.action, ctx.batchToken);
    return true;
  };

  for (const record of records) {
    const coupling = couplingBySource.get(record.id) ?? null;
    if (coupling && alreadyHandled(coupling)) continue;
    // This job removed its coupling (a deletion rule): handled once, not created again in the same job.
    if (!coupling && uncoupledHere.has(record.id)) continue;
    const entry = coupling ? undefined : entries.get(record.id);
    if (entry && entry.lastJobId === jobId) continue;
    const destinationId = coupling ? destinationIdOf(plan, coupling) : null;
    const destinationRecord = destinationId ? (destinationById.get(destinationId) ?? null) : null;
    const other = coupling ? undefined : elsewhere.get(record.id);
    if (other) {
      failures.push({
        sourceId: record.id,
        destinationId: null,
        message: `The ${plan.sourceSide} record ${record.id} is already coupled in mapping ${other}; a record is coupled at most once per table.`,
        attempts: attempt,
      });
      continue;
    }
    const state = coupling && { ...stateOf(plan.direction, coupling), skipped: coupling.skipped || unskipped.has(record.id) };
    const decision = decideRecord({
      plan,
      mapping,
      source: record,
      coupling: state,
      destination: destinationRecord,
      uncoupledFailure: entry,
      options,
      unmapped,
    });
    const verdict = lookupVerdict(lookupProblems.get(record.id), decision.action);
    if (verdict) {
      const report: RecordFailure = { sourceId: record.id, destinationId, message: verdict.message, attempts: attempt };
      if (verdict.fail) {
        failures.push(report);
        continue;
      }
      warnings.push(report);
    }
    switch (decision.action) {
      case 'ignore':
        break;
      case 'skip':
        counters.skipped++;
        break;
      case 'deferred':
        if (coupling && destinationId) updates.push({ update: deferredUpdate(ctx, coupling), sourceId: record.id, destinationId, count: (c) => c.unchanged++ });
        break;
      case 'unchanged':
        if (decision.record && coupling && destinationRecord) {
          updates.push({
            update: syncedUpdate(ctx, coupling, record.modifiedOn, destinationRecord.modifiedOn, decision.otherPending, 'unchanged'),
            sourceId: record.id,
            destinationId: destinationRecord.id,
            count: (c) => c.unchanged++,
          });
        } else counters.unchanged++;
        break;
      case 'insert':
      case 'restore':
        inserts.push({ record, decision, coupling });
        break;
      case 'modify':
        if (coupling && destinationId) modifies.push({ record, coupling, destinationId, decision });
        break;
      case 'uncouple':
        if (coupling) uncouples.push(coupling);
        break;
      case 'deleteCounterpart':
        if (coupling) deletions.push(coupling);
        break;
      case 'fail':
        failures.push({
          sourceId: record.id,
          destinationId,
          message: decision.message,
          attempts: attempt,
          skip: options.skipOnConflict === true && decision.message === MESSAGES.conflict,
        });
        break;
      default: {
        const unreachable: never = decision;
        throw new Error(`Unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  for (const sourceId of missing) {
    const coupling = couplingBySource.get(sourceId);
    if (!coupling || alreadyHandled(coupling)) continue;
    if (coupling.skipped && !options.includeSkipped) {
      counters.skipped++;
      continue;
    }
    const counterpartId = destinationIdOf(plan, coupling);
    const decision = decideMissingSource({
      rule: mapping.sourceDeletion,
      plan,
      coupling: stateOf(plan.direction, coupling),
      destination: destinationById.get(counterpartId) ?? null,
      counterpartId,
    });
    if (decision.action === 'fail') failures.push({ sourceId, destinationId: counterpartId, message: decision.message, attempts: attempt });
    else if (decision.action === 'uncouple') uncouples.push(coupling);
    else deletions.push(coupling);
  }

  const handleWriteFailure = (record: SourceRecord, destinationId: string | null, result: Extract<WriteResult, { ok: false }>): void => {
    const { error } = result;
    const message = writeErrorMessage(error);
    if (error.kind === 'transient' || error.kind === 'conflict' || error.kind === 'notFound') {
      // A conflict or a vanished record is re-read on the retry and then follows the mapping's conflict rules.
      retry.push({ sourceId: record.id, destinationId, message, detail: error.detail, kind: error.kind, code: error.code });
    } else {
      failures.push({ sourceId: record.id, destinationId, message, detail: error.detail, attempts: attempt });
    }
  };

  // Creates (new records and restores of deleted counterparts), keyed so a replay names the same record;
  // a key whose record is coupled to another record already is never written over.
  const keys = new Map<string, string>();
  const keyOf = (record: SourceRecord): string => {
    // A hash, asked for several times per record below: computed once.
    let key = keys.get(record.id);
    if (key === undefined) keys.set(record.id, (key = creationKey(mapping.name, plan.sourceSide, record.id)));
    return key;
  };
  const destinationRef = plan.destinationSide === 'local' ? mapping.local : mapping.integration;
  const owners = inserts.length
    ? await store.getRecordCouplings(
        destinationRef,
        plan.destinationSide,
        inserts.map(({ record }) => keyOf(record)),
      )
    : [];
  const ownerOf = new Map(owners.map((c) => [destinationIdOf(plan, c), c]));
  const creatable = inserts.filter(({ record }) => {
    const owner = ownerOf.get(keyOf(record));
    if (!owner || (owner.mappingName === mapping.name && sourceIdOf(plan, owner) === record.id)) return true;
    failures.push({
      sourceId: record.id,
      destinationId: keyOf(record),
      attempts: attempt,
      message: MESSAGES.createTargetCoupled(plan.destinationSide, keyOf(record), owner.mappingName, sourceIdOf(plan, owner)),
    });
    return false;
  });
  if (creatable.length > 0) {
    const account = await beginCreates(
      store,
      mapping.name,
      creatable.map(({ record }) => keyOf(record)),
      ctx.batchToken,
    );
    const results = await destination.createMany(
      destinationTable,
      creatable.map(({ record, decision }) => ({ key: keyOf(record), values: decision.values })),
    );
    const created: { record: SourceRecord; destinationId: string; restore: boolean; fresh: boolean; coupling: NewCoupling }[] = [];
    const restored: Coupling[] = [];
    results.forEach((result, i) => {
      const { record, decision, coupling } = creatable[i];
      if (!result.ok) return handleWriteFailure(record, coupling ? destinationIdOf(plan, coupling) : null, result);
      if (decision.action === 'restore' && coupling) restored.push(coupling);
      const local = plan.sourceSide === 'local';
      created.push({
        record,
        destinationId: result.id,
        restore: decision.action === 'restore',
        fresh: account.fresh(keyOf(record), result.existed),
        coupling: {
          localId: local ? record.id : result.id,
          integrationId: local ? result.id : record.id,
          lastSyncedLocalModifiedOn: local ? record.modifiedOn : result.modifiedOn,
          lastSyncedIntegrationModifiedOn: local ? result.modifiedOn : record.modifiedOn,
          action: stamp(decision.action, ctx.batchToken),
        },
      });
    });
    await account.noteResults(results.flatMap((r, i) => (r.ok ? [{ key: keyOf(creatable[i].record), existed: r.existed === true }] : [])));
    // A restore swaps the couplings in one transaction: never a moment with the record uncoupled.
    const newCouplings = created.map((c) => c.coupling);
    const inserted =
      restored.length > 0
        ? await store.replaceCouplings(mapping, plan.direction, jobId, restored, newCouplings)
        : await store.insertCouplings(mapping, plan.direction, jobId, newCouplings);
    // Only the couplings that landed count: those inserted now, and of the others those this job wrote (an earlier
    // attempt). Another run creating the same record (the same key) counted it; one that coupled the source to
    // another record meanwhile (a match) leaves ours an orphan, removed again.
    const landed = (c: (typeof created)[number]): boolean => inserted.has(c.coupling.localId);
    const unlanded = created.filter((c) => !landed(c));
    const now = new Map(
      (unlanded.length
        ? await store.getCouplings(
            mapping.name,
            plan.sourceSide,
            unlanded.map((c) => c.record.id),
          )
        : []
      ).map((c) => [sourceIdOf(plan, c), c]),
    );
    const orphans: string[] = [];
    for (const c of created) {
      const coupling = now.get(c.record.id);
      if (landed(c) || (coupling && destinationIdOf(plan, coupling) === c.destinationId && directionState(coupling, plan.direction).jobId === jobId)) {
        // A record the key named already (created again after an uncoupling) was written over, not created.
        if (c.fresh) counters.inserted++;
        else counters.modified++;
        if (!c.restore) counters.coupled++;
      } else if (coupling && destinationIdOf(plan, coupling) !== c.destinationId) {
        // Only a record this batch created is removed again: one that was there before stays.
        if (c.fresh) orphans.push(c.destinationId);
      } else if (!coupling) {
        retry.push({ sourceId: c.record.id, destinationId: c.destinationId, message: LOST_RACE, kind: 'conflict' });
      }
    }
    if (orphans.length > 0) await destination.deleteMany(destinationTable, orphans);
  }

  // Updates of coupled records: only the values that differ, guarded by the version we read.
  if (modifies.length > 0) {
    const results = await destination.updateMany(
      destinationTable,
      modifies.map(({ destinationId, decision }) => ({ id: destinationId, values: decision.changes, expectedVersion: decision.expectedVersion })),
    );
    results.forEach((result, i) => {
      const { record, coupling, destinationId, decision } = modifies[i];
      if (!result.ok) return handleWriteFailure(record, destinationId, result);
      updates.push({
        update: syncedUpdate(ctx, coupling, record.modifiedOn, result.modifiedOn, decision.otherPending, 'modify'),
        sourceId: record.id,
        destinationId,
        count: (c) => c.modified++,
      });
    });
  }
  const lost = new Set(
    await store.updateCouplings(
      mapping.name,
      plan.direction,
      jobId,
      updates.map((u) => u.update),
    ),
  );
  for (const u of updates) {
    if (lost.has(u.update.localId)) retry.push({ sourceId: u.sourceId, destinationId: u.destinationId, message: LOST_RACE, kind: 'conflict' });
    else u.count(counters);
  }

  if (deletions.length > 0) {
    const results = await destination.deleteMany(
      destinationTable,
      deletions.map((c) => destinationIdOf(plan, c)),
    );
    const deleted = deletions.filter((_, i) => results[i].ok);
    deletions.forEach((c, i) => {
      const result = results[i];
      if (!result.ok)
        failures.push({ sourceId: sourceIdOf(plan, c), destinationId: destinationIdOf(plan, c), message: result.error.message, attempts: attempt });
    });
    counters.deleted += deleted.length;
    await store.rememberUncoupled(
      jobId,
      plan.sourceSide,
      deleted.map((c) => sourceIdOf(plan, c)),
    );
    counters.uncoupled += await store.deleteCouplingPairs(mapping.name, deleted, jobId);
  }
  if (uncouples.length > 0) {
    await store.rememberUncoupled(
      jobId,
      plan.sourceSide,
      uncouples.map((c) => sourceIdOf(plan, c)),
    );
    counters.uncoupled += await store.deleteCouplingPairs(mapping.name, uncouples, jobId);
  }

  await store.noteUnmappedOptions(mapping.name, jobId, unmapped);
  await recordFailures(store, ctx, failures);
  counters.failed += failures.length;
  // A record retried by the next attempt is warned about by that attempt.
  const retried = new Set(retry.map((r) => r.sourceId));
  await store.insertErrors(warnings.filter((w) => !retried.has(w.sourceId)).map((w) => ({ ...errorRow(ctx, w), severity: 'warning' as const })));
  return { counters, retry };
}
