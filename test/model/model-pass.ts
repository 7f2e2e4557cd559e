/**
 * One pass of the reference model in direction D (source side S, destination
 * side T): the retry phase, the scan phase, the deletion sweep and the
 * watermark, and the decision for one source record (SEMANTICS.md "A pass",
 * "Deciding one source record", "Source deletion"). The model has no batches:
 * records are visited one at a time in a fixed order (retry phase by source id,
 * scan by modified-on then id, sweep by source id), which SEMANTICS.md promises
 * the outcome does not depend on.
 * SPEC: one corner does depend on order: a create whose canonical id is coupled
 * to another record fails ('coupledElsewhere', see create()), and if that other
 * coupling is removed later in the same pass a different order would have let
 * the create succeed. The model's order is the one above.
 */
import { createdId, type ErrorKind, type Side, type SyncDirection } from './world';
import {
  canConflict,
  column,
  conflictWinner,
  countFailure,
  couplingOf,
  destinationOf,
  diff,
  emptyValues,
  failureKey,
  fieldsFor,
  freshDirection,
  idOn,
  inFilter,
  mapValues,
  needs,
  otherDirection,
  poisoned,
  removeCoupling,
  setStored,
  sourceOf,
  stateOf,
  storedOn,
  type ModelCoupling,
  type ModelRecord,
  type ModelState,
  type Step,
} from './model-state';

export interface PassOptions {
  direction: SyncDirection;
  /** Full sync and single-record sync: repair values neither side changed, and meet deleted counterparts of unchanged records. */
  forced: boolean;
  /** Visit skipped couplings and entries: clear their skipped flag and failure counts. */
  includeSkipped: boolean;
  /** The direction the user chose: it wins conflicts. */
  winner: SyncDirection | null;
  /** Create uncoupled records even when the mapping syncs only coupled ones (single-record sync). */
  createUncoupled: boolean;
  /** A conflict that fails marks the coupling skipped at once (single sync, both sides changed, no rule). */
  skipOnConflict: boolean;
}

export const PLAIN: Omit<PassOptions, 'direction'> = { forced: false, includeSkipped: false, winner: null, createUncoupled: false, skipOnConflict: false };

/** A pass under way: its options, its job and the source ids it has handled. */
export class Pass {
  readonly S: Side;
  readonly T: Side;
  readonly handled = new Set<string>();

  constructor(
    readonly m: ModelState,
    readonly step: Step,
    readonly job: number,
    readonly o: PassOptions,
  ) {
    this.S = sourceOf(o.direction);
    this.T = destinationOf(o.direction);
  }

  /** Marks a source id handled; false when this job has already met it. */
  claim(sourceId: string): boolean {
    if (this.handled.has(sourceId)) return false;
    this.handled.add(sourceId);
    return true;
  }
  source(id: string): ModelRecord | undefined {
    return this.m.tables[this.S].get(id);
  }
  sourceInFilter(record: ModelRecord): boolean {
    return inFilter(this.m.settings, this.S, record.values);
  }
  count(counter: Parameters<Step['count']>[1]): void {
    this.step.count(this.job, counter);
  }
}

// ---- phases ----

/** Step 1: the couplings that need D (and, with includeSkipped, the skipped ones), then the failed uncoupled records of S. */
export function retryPhase(p: Pass): void {
  const { m, o } = p;
  const due = m.couplings.filter((c) => needs(c, o.direction) || (o.includeSkipped && c.skipped)).sort((a, b) => cmp(idOn(a, p.S), idOn(b, p.S)));
  for (const c of due) {
    if (!m.couplings.includes(c) || !p.claim(idOn(c, p.S))) continue;
    visitCoupling(p, c, 'leave');
  }
  const entries = [...m.failures.values()].filter((e) => e.side === p.S && (!e.skipped || o.includeSkipped)).sort((a, b) => cmp(a.id, b.id));
  for (const e of entries) {
    if (!p.claim(e.id)) continue;
    const s = p.source(e.id);
    if (!s) {
      m.failures.delete(failureKey(e.side, e.id)); // forgotten, not counted
      continue;
    }
    if (!p.sourceInFilter(s)) continue; // left as it is, not counted
    visitUncoupled(p, e.id);
  }
}

/** Steps 2-4: scan (incremental or full) within S's filter, sweep deleted sources, move the watermark. */
export function scanSweepAndWatermark(p: Pass, full: boolean): void {
  const { m } = p;
  const mark = m.watermarks[p.S];
  const scanned = [...m.tables[p.S].entries()]
    .filter(([, r]) => p.sourceInFilter(r) && (full || mark === null || r.modifiedOn > mark))
    .sort(([a, ra], [b, rb]) => ra.modifiedOn - rb.modifiedOn || cmp(a, b));
  for (const [id] of scanned) {
    // SPEC: a record the retry phase already handled still counts as scanned for the watermark.
    if (!p.claim(id)) continue;
    const c = couplingOf(m, p.S, id);
    if (c) visitCoupling(p, c, 'leave');
    else visitUncoupled(p, id);
  }
  if (m.settings.sourceDeletion !== 'KeepCoupling') {
    const gone = m.couplings.filter((c) => !c.skipped && !m.tables[p.S].has(idOn(c, p.S))).sort((a, b) => cmp(idOn(a, p.S), idOn(b, p.S)));
    for (const c of gone) if (m.couplings.includes(c) && p.claim(idOn(c, p.S))) sourceDeleted(p, c);
  }
  if (scanned.length > 0) {
    const largest = Math.min(m.now, Math.max(...scanned.map(([, r]) => r.modifiedOn)));
    m.watermarks[p.S] = mark === null ? largest : Math.max(mark, largest);
  }
}

/**
 * A run for given ids: the ids are on `side`; on the destination side they are
 * mapped to their source through the coupling. No retry phase, no sweep, no
 * watermark (SPEC: a run for given ids reads no other record, so it moves no watermark).
 */
export function givenIds(p: Pass, side: Side, ids: readonly string[]): void {
  const { m } = p;
  // SPEC: an id given twice is handled (and refused) once.
  const unique = [...new Set(ids)];
  if (side === p.S) {
    for (const id of unique) givenSource(p, id);
    return;
  }
  // SPEC: ids of the destination side are resolved when the pass starts, before it writes anything: one
  // that is neither coupled nor exists then is notFound, even if the pass creates it later; an uncoupled
  // one that exists has nothing to send in this pass and is not counted.
  const sources: string[] = [];
  for (const id of unique) {
    const c = couplingOf(m, side, id);
    if (c) sources.push(idOn(c, p.S));
    else if (!m.tables[side].has(id)) p.step.error(p.job, id, 'notFound');
  }
  for (const id of sources) givenSource(p, id);
}

function givenSource(p: Pass, sourceId: string): void {
  const { m } = p;
  if (!p.claim(sourceId)) return; // SPEC: an id given twice is handled once
  const c = couplingOf(m, p.S, sourceId);
  if (c) {
    visitCoupling(p, c, 'error');
    return;
  }
  const s = p.source(sourceId);
  if (!s) {
    // SPEC: a missing uncoupled id gets a notFound row in every pass of the run; a failed-uncoupled entry of it is forgotten.
    m.failures.delete(failureKey(p.S, sourceId));
    p.step.error(p.job, sourceId, 'notFound');
  } else if (!p.sourceInFilter(s)) {
    // SPEC: a refused given id gets an error row only: no Failure result, no failed-uncoupled entry.
    p.step.error(p.job, sourceId, 'outsideFilter');
  } else {
    visitUncoupled(p, sourceId);
  }
}

// ---- visiting one record ----

/**
 * A coupled source: skipped ones are counted skipped; a gone source gets the
 * source-deletion rule; outside S's filter it is left ('leave': retry phase)
 * or refused with an error row ('error': given ids).
 */
export function visitCoupling(p: Pass, c: ModelCoupling, outside: 'leave' | 'error'): void {
  // SPEC: a skipped coupling is counted skipped before anything else is looked at (its source gone, or outside the filter).
  if (c.skipped && !p.o.includeSkipped) {
    p.count('skipped');
    return;
  }
  const sourceId = idOn(c, p.S);
  const s = p.source(sourceId);
  if (s && !p.sourceInFilter(s)) {
    // SPEC: a skipped coupling outside the filter keeps its skipped flag even when skipped ones are included.
    if (outside === 'error') p.step.error(p.job, sourceId, 'outsideFilter');
    return;
  }
  const retried = c.skipped;
  if (retried) {
    // SPEC: retrying a skipped coupling clears its skipped flag and the failure counts of both directions; results stay.
    c.skipped = false;
    c.to.failures = 0;
    c.from.failures = 0;
  }
  if (!s) sourceDeleted(p, c);
  else decide(p, c, s, retried);
}

/** An uncoupled source record: created on T, ignored, or skipped. */
export function visitUncoupled(p: Pass, sourceId: string): void {
  const { m, o } = p;
  const entry = m.failures.get(failureKey(p.S, sourceId));
  // SPEC: a failed-uncoupled entry exists only because a run was asked to create the record, so the record is
  // created (or counted skipped) even when the mapping syncs only coupled records; the retry phase relies on this.
  if (m.settings.syncOnlyCoupledRecords && !o.createUncoupled && !entry) return; // ignored, not counted
  if (entry?.skipped) {
    if (!o.includeSkipped) {
      p.count('skipped');
      return;
    }
    entry.skipped = false;
    entry.failures = 0;
  }
  const s = p.source(sourceId);
  if (s) create(p, sourceId, s, null);
}

/** Deciding one coupled source record s (it exists and is inside S's filter). */
function decide(p: Pass, c: ModelCoupling, s: ModelRecord, retriedSkipped: boolean): void {
  const { m, o, S, T } = p;
  const D = o.direction;
  const storedS = storedOn(c, S);
  const sChanged = retriedSkipped || storedS === null || s.modifiedOn !== storedS || needs(c, D);
  const t = m.tables[T].get(idOn(c, T));
  if (!t) {
    if (!sChanged && !o.forced) {
      p.count('unchanged');
      return;
    }
    const rule = m.settings.deletionConflictResolution;
    if (rule === 'None') failCoupling(p, c, 'deletedCounterpart');
    else if (rule === 'RemoveCoupling') uncouple(p, c);
    else create(p, idOn(c, S), s, c);
    return;
  }
  const storedT = storedOn(c, T);
  const tChanged = storedT === null || t.modifiedOn !== storedT || stateOf(c, otherDirection(D)).pending;
  const changes = diff(mapValues(m.settings, D, s.values), t.values);
  const changed = Object.keys(changes);
  if (!sChanged) {
    // Unchanged leaves the coupling as it is: recording t's modified-on here would lose t's change for the other pass.
    if (o.forced && !tChanged && changed.length > 0) write(p, c, s, t, changes, false);
    else p.count('unchanged');
    return;
  }
  const conflict = tChanged && fieldsFor(m.settings, D).some((f) => canConflict(m.settings, f) && changed.includes(column(T, f.column)));
  if (conflict) {
    const winner = o.winner ?? conflictWinner(m.settings);
    if (winner === null) {
      failCoupling(p, c, 'conflict');
      return;
    }
    if (winner !== D) {
      // Deferred: the winning pass carries it. SPEC: D's result, failure count and last error stay as they were.
      stateOf(c, otherDirection(D)).pending = true;
      stateOf(c, D).pending = false;
      p.count('unchanged');
      return;
    }
  }
  if (changed.length === 0) {
    setStored(c, S, s.modifiedOn);
    setStored(c, T, t.modifiedOn);
    succeed(p, c, tChanged);
    p.count('unchanged');
    return;
  }
  write(p, c, s, t, changes, tChanged);
}

/** Writes only the changes, guarded by the column constraint; the coupling records both new modified-on values. */
function write(p: Pass, c: ModelCoupling, s: ModelRecord, t: ModelRecord, changes: Record<string, string | null>, tChanged: boolean): void {
  if (poisoned(p.T, changes)) {
    failCoupling(p, c, 'write');
    return;
  }
  Object.assign(t.values, changes);
  t.modifiedOn = p.m.now;
  setStored(c, p.S, s.modifiedOn);
  setStored(c, p.T, t.modifiedOn);
  succeed(p, c, tChanged);
  p.count('modified');
}

/** D becomes Success; on a bidirectional mapping a changed t leaves its change pending for the other pass. */
function succeed(p: Pass, c: ModelCoupling, tChanged: boolean): void {
  const d = stateOf(c, p.o.direction);
  d.result = 'Success';
  d.failures = 0;
  d.lastError = null;
  d.pending = false;
  if (p.m.settings.direction === 'Bidirectional' && tChanged) stateOf(c, otherDirection(p.o.direction)).pending = true;
}

/** An error row and D's Failure. SPEC: a failure leaves the pending flags as they were. */
export function failCoupling(p: Pass, c: ModelCoupling, kind: ErrorKind): void {
  p.step.error(p.job, idOn(c, p.S), kind);
  const d = stateOf(c, p.o.direction);
  d.result = 'Failure';
  // SPEC: a conflict failing in a single sync with no rule is skipped at once; its failure count follows the usual rule.
  if (countFailure(d, kind) || (kind === 'conflict' && p.o.skipOnConflict)) c.skipped = true;
}

function failUncoupled(p: Pass, sourceId: string, kind: ErrorKind): void {
  p.step.error(p.job, sourceId, kind);
  const key = failureKey(p.S, sourceId);
  const entry = p.m.failures.get(key) ?? { side: p.S, id: sourceId, failures: 0, lastError: null, skipped: false };
  if (countFailure(entry, kind)) entry.skipped = true;
  p.m.failures.set(key, entry);
}

function uncouple(p: Pass, c: ModelCoupling): void {
  removeCoupling(p.m, c);
  p.count('uncoupled');
}

/** The source-deletion rule for a coupling whose source record of this pass is gone. */
export function sourceDeleted(p: Pass, c: ModelCoupling): void {
  const { m, T } = p;
  const rule = m.settings.sourceDeletion;
  if (rule === 'KeepCoupling') return failCoupling(p, c, 'sourceDeleted');
  if (rule === 'RemoveCoupling') return uncouple(p, c);
  const tId = idOn(c, T);
  const t = m.tables[T].get(tId);
  const storedT = storedOn(c, T);
  // "t changed" as in deciding: a never-synced counterpart counts as changed, so it is not deleted.
  if (t && (storedT === null || t.modifiedOn !== storedT || stateOf(c, otherDirection(p.o.direction)).pending)) {
    return failCoupling(p, c, 'counterpartChanged');
  }
  if (t) {
    m.tables[T].delete(tId);
    p.count('deleted');
  }
  // SPEC: both records gone under DeleteCounterpart: the coupling is removed (uncoupled), nothing counted deleted.
  uncouple(p, c);
}

/**
 * Creates s's counterpart on T under its canonical id and couples it, in sync,
 * nothing pending. `replacing` is the coupling a restore replaces (counted
 * inserted, not coupled). SPEC: when a record with the canonical id already
 * exists (created from s before, then uncoupled) the create merges into it (the
 * connector's idempotent create) and counts modified, not inserted (in a
 * match-based coupling it counts only coupled: it is coupled to what was
 * there, found by its key); when that id is coupled
 * to another record the create fails as 'coupledElsewhere'. A new record has
 * null in every column the pass does not map. A restore's coupling is a new
 * one: the other direction's state is reset and it is not skipped.
 */
export function create(p: Pass, sourceId: string, s: ModelRecord, replacing: ModelCoupling | null, forMatch = false): 'created' | 'existed' | 'failed' {
  const { m, S, T } = p;
  const id = createdId(T, sourceId);
  const fail = (kind: ErrorKind): 'failed' => {
    if (replacing) failCoupling(p, replacing, kind);
    else failUncoupled(p, sourceId, kind);
    return 'failed';
  };
  const holder = couplingOf(m, T, id);
  if (holder && holder !== replacing) return fail('coupledElsewhere');
  const values = mapValues(m.settings, p.o.direction, s.values);
  if (poisoned(T, values)) return fail('write');
  const existing = m.tables[T].get(id);
  m.tables[T].set(id, { values: { ...(existing?.values ?? emptyValues(T)), ...values }, modifiedOn: m.now });
  if (replacing) removeCoupling(m, replacing);
  else p.count('coupled');
  // Both records are coupled now: neither keeps a failed-uncoupled entry (the merged one may have had its own).
  m.failures.delete(failureKey(S, sourceId));
  m.failures.delete(failureKey(T, id));
  const c: ModelCoupling = {
    localId: S === 'local' ? sourceId : id,
    integrationId: S === 'local' ? id : sourceId,
    L: null,
    I: null,
    to: freshDirection(),
    from: freshDirection(),
    skipped: false,
  };
  setStored(c, S, s.modifiedOn);
  setStored(c, T, m.now);
  stateOf(c, p.o.direction).result = 'Success';
  m.couplings.push(c);
  if (!existing) p.count('inserted');
  else if (!forMatch) p.count('modified');
  return existing ? 'existed' : 'created';
}

/** Code-point order (not locale order): the order ids are compared in everywhere. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
