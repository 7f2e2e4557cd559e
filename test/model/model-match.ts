/**
 * Match-based coupling in the reference model (SEMANTICS.md "Match-based
 * coupling"): priorities in ascending order for all records at once; a record
 * with exactly one candidate claims it; a candidate claimed by several records
 * goes to the smallest local id; the rest go on to the next priority. The model
 * has no batches, so this is the outcome for any batch size by construction.
 */
import { compareLocalIds, type FieldSetting, type MappingSettings, type Values } from './world';
import {
  allows,
  column,
  couplingOf,
  failureKey,
  fieldsFor,
  freshDirection,
  inFilter,
  transform,
  type ModelCoupling,
  type ModelState,
  type Step,
} from './model-state';
import { cmp, create, givenIds, Pass, PLAIN } from './model-pass';

/** The match priorities of the mapping, ascending, each with its fields. */
export function matchLevels(settings: MappingSettings): FieldSetting[][] {
  const priorities = [...new Set(settings.fields.flatMap((f) => (f.matchPriority === undefined ? [] : [f.matchPriority])))].sort((a, b) => a - b);
  return priorities.map((p) => settings.fields.filter((f) => f.matchPriority === p));
}

/**
 * SPEC: values are compared trimmed and lower-cased; a value that trims to "" is
 * no value. (So a field's uppercase transformation, applied to the local value
 * first, cannot change a match; it is applied anyway, as the spec says.)
 */
function norm(value: string | null | undefined): string {
  return (value ?? '').trim().toLowerCase();
}

/** The candidates equal on every field of the level that has a local value; none when the local record has no value in any. */
export function candidatesAt(level: FieldSetting[], local: Values, candidates: ReadonlyMap<string, Values>): string[] {
  const conditions = level
    .map((f) => ({ f, want: norm(transform(f, 'ToIntegrationTable', local[column('local', f.column)] ?? null)) }))
    .filter((c) => c.want !== '');
  if (conditions.length === 0) return [];
  return [...candidates.entries()]
    .filter(([, values]) => conditions.every(({ f, want }) => norm(values[column('integration', f.column)]) === want))
    .map(([id]) => id);
}

export interface MatchRequest {
  recordIds?: string[];
  createNewIfNoMatch?: boolean;
  syncAfterCoupling?: boolean;
}

/**
 * Whether the request is refused before any job. SPEC: refused when no field
 * has a match priority, when create-new is asked of a mapping that cannot carry
 * ToIntegrationTable, or when synchronize-after's direction has no field.
 */
export function matchRefused(settings: MappingSettings, request: MatchRequest): boolean {
  if (matchLevels(settings).length === 0) return true;
  if (request.createNewIfNoMatch && (!allows(settings, 'ToIntegrationTable') || fieldsFor(settings, 'ToIntegrationTable').length === 0)) return true;
  return request.syncAfterCoupling === true && fieldsFor(settings, syncAfterDirection(settings)).length === 0;
}

/** "Synchronize after coupling": the mapping's direction, or for a bidirectional one the conflict winner (local -> integration with None). */
export function syncAfterDirection(settings: MappingSettings): 'ToIntegrationTable' | 'FromIntegrationTable' {
  if (settings.direction !== 'Bidirectional') return settings.direction;
  return settings.updateConflictResolution === 'GetFromIntegration' ? 'FromIntegrationTable' : 'ToIntegrationTable';
}

/** A coupling nobody synced yet: pending in every direction the mapping allows. */
export function neverSynced(settings: MappingSettings, localId: string, integrationId: string): ModelCoupling {
  return {
    localId,
    integrationId,
    L: null,
    I: null,
    skipped: false,
    to: freshDirection(allows(settings, 'ToIntegrationTable')),
    from: freshDirection(allows(settings, 'FromIntegrationTable')),
  };
}

/** Couples a pair; SPEC: coupling a record forgets its failed-uncoupled entry (it is no longer uncoupled). */
export function couple(m: ModelState, c: ModelCoupling): void {
  m.couplings.push(c);
  m.failures.delete(failureKey('local', c.localId));
  m.failures.delete(failureKey('integration', c.integrationId));
}

/** Runs the Coupling job (job 0) and, when asked, the sync of the newly matched records (job 1). Not refused: see matchRefused. */
export function matchBasedCoupling(m: ModelState, step: Step, request: MatchRequest): void {
  const { settings } = m;
  const job = step.open('Coupling', null);
  const local = m.tables.local;
  let scope: string[];
  if (request.recordIds) {
    scope = [];
    for (const id of [...new Set(request.recordIds)]) {
      if (couplingOf(m, 'local', id)) continue; // already coupled: left alone, not counted
      // SPEC: a given id refused here (missing, outside the filter) is counted failed, not unmatched: no candidate was looked for.
      const r = local.get(id);
      if (!r) step.error(job, id, 'notFound');
      else if (!inFilter(settings, 'local', r.values)) step.error(job, id, 'outsideFilter');
      else scope.push(id);
    }
  } else {
    scope = [...local.entries()].filter(([id, r]) => !couplingOf(m, 'local', id) && inFilter(settings, 'local', r.values)).map(([id]) => id);
  }
  scope.sort(cmp);

  const available = new Map<string, Values>(
    [...m.tables.integration.entries()]
      .filter(([id, r]) => !couplingOf(m, 'integration', id) && inFilter(settings, 'integration', r.values))
      .map(([id, r]) => [id, r.values]),
  );
  const matched: string[] = [];
  let remaining = scope;
  for (const level of matchLevels(settings)) {
    // Candidates are the ones uncoupled when the priority started; claims are settled all at once.
    const atStart = new Map(available);
    const claims = new Map<string, string[]>();
    for (const id of remaining) {
      const found = candidatesAt(level, local.get(id)?.values ?? {}, atStart);
      if (found.length === 1) claims.set(found[0], [...(claims.get(found[0]) ?? []), id]);
    }
    const winners = new Set<string>();
    for (const [candidate, claimants] of claims) {
      const winner = claimants.reduce((a, b) => (compareLocalIds(a, b) <= 0 ? a : b));
      couple(m, neverSynced(settings, winner, candidate));
      available.delete(candidate);
      winners.add(winner);
      matched.push(winner);
      step.count(job, 'coupled');
    }
    remaining = remaining.filter((id) => !winners.has(id));
  }

  const pass = new Pass(m, step, job, { ...PLAIN, direction: 'ToIntegrationTable' });
  for (const id of remaining) {
    const r = local.get(id);
    // SPEC: create-new also creates a record whose failed-uncoupled entry is skipped (the user asked for it); a failed create updates that entry.
    // SPEC: a create whose key names a record already there couples it as found: not unmatched, not inserted.
    if (request.createNewIfNoMatch && r) {
      if (create(pass, id, r, null, true) !== 'existed') step.count(job, 'unmatched');
    } else {
      step.count(job, 'unmatched');
      step.error(job, id, 'noMatch');
    }
  }

  if (request.syncAfterCoupling) {
    // SPEC: only the matched records are synchronized after coupling (created ones are in sync), as given local ids of a
    // plain pass (not forced); the job is written even when none matched.
    const direction = syncAfterDirection(settings);
    const sync = new Pass(m, step, step.open('Synchronization', direction), { ...PLAIN, direction });
    givenIds(sync, 'local', matched.sort(cmp));
  }
}
