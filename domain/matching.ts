/**
 * Match-based coupling as pure functions: which fields match at which priority,
 * how values are normalized, and which integration record (if any) each local
 * record couples to. The activity fetches candidates in one query per level
 * and feeds them here; matching goes through an index of normalized keys, so a
 * batch costs O(locals + candidates) per level, never a comparison of pairs.
 */
import type { FieldMapping, TransformationRule } from './mapping';
import { applyTransformations, TransformationError } from './transform';
import { fieldValue } from './field-plan';

/** One field compared by match-based coupling. */
export interface MatchField {
  localField: string;
  integrationField: string;
  caseSensitive: boolean;
  /** Applied to the local value before comparing (the rule's ToIntegrationTable direction). */
  transformation: readonly TransformationRule[] | undefined;
}

/** The fields of one match priority: all must match (AND). */
export interface MatchLevel {
  priority: number;
  fields: readonly MatchField[];
}

/** A record as matching sees it: its id and raw field values. */
export interface MatchRecord {
  id: string;
  values: Readonly<Record<string, unknown>>;
}

/** What happened to one local record at one level. */
export type LevelResult =
  | { priority: number; result: 'noValues' }
  | { priority: number; result: 'noCandidate' }
  | { priority: number; result: 'several'; candidateIds: string[] }
  | { priority: number; result: 'coupled'; candidateIds: string[] }
  | { priority: number; result: 'matched'; candidateId: string };

export type UnmatchedReason = 'several' | 'candidateCoupled' | 'noCandidate' | 'noValues';

export type MatchOutcome =
  | { localId: string; kind: 'matched'; integrationId: string; priority: number }
  | { localId: string; kind: 'unmatched'; reason: UnmatchedReason; candidateIds: string[]; levels: readonly LevelResult[] };

/** Matching state between levels; each level only looks at the records still pending. */
export interface MatchState {
  /** Local ids in the order they were given: the first of two competing records wins. */
  readonly order: readonly string[];
  readonly pending: readonly MatchRecord[];
  readonly matched: ReadonlyMap<string, { integrationId: string; priority: number }>;
  /** Candidates claimed by a record of this batch: already coupled for everyone after it. */
  readonly taken: ReadonlySet<string>;
  readonly trail: ReadonlyMap<string, readonly LevelResult[]>;
}

/** One candidate query: the records of a level that have values in the same fields. */
export interface LevelQuery {
  /** Indexes (into the level's fields) of the fields that carry a condition. */
  mask: readonly number[];
  locals: readonly MatchRecord[];
  /** Per field, the distinct normalized values of these records (the connector's `conditions`). */
  conditions: { field: string; values: string[]; caseSensitive: boolean }[];
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Listed ids per level in a message; more are summarized as a count. */
const MAX_IDS_IN_MESSAGE = 10;

function transformationAppliesToLocal(direction: FieldMapping['transformationDirection']): boolean {
  return direction === undefined || direction === 'Bidirectional' || direction === 'ToIntegrationTable';
}

/**
 * The match criteria of a mapping, grouped by priority ascending. Only enabled
 * fields with both a local and an integration column can be compared.
 */
export function matchLevels(input: { fields: readonly FieldMapping[] }): MatchLevel[] {
  const byPriority = new Map<number, MatchField[]>();
  for (const field of input.fields) {
    if (!field.useForMatching || !field.enabled || !field.localField || !field.integrationField) continue;
    const fields = byPriority.get(field.matchPriority) ?? [];
    fields.push({
      localField: field.localField,
      integrationField: field.integrationField,
      caseSensitive: field.caseSensitiveMatching,
      transformation: transformationAppliesToLocal(field.transformationDirection) ? field.transformation : undefined,
    });
    byPriority.set(field.matchPriority, fields);
  }
  return [...byPriority.entries()].sort(([a], [b]) => a - b).map(([priority, fields]) => ({ priority, fields }));
}

/**
 * The integration fields the candidate queries of these criteria compare, once
 * per case sensitivity: what a connector's match indexes must cover.
 */
export function matchIndexFields(input: { fields: readonly FieldMapping[] }): { field: string; caseSensitive: boolean }[] {
  const seen = new Map<string, { field: string; caseSensitive: boolean }>();
  for (const level of matchLevels(input)) {
    for (const f of level.fields) seen.set(`${f.caseSensitive}:${f.integrationField}`, { field: f.integrationField, caseSensitive: f.caseSensitive });
  }
  return [...seen.values()];
}

/**
 * A value as compared: text without surrounding white space, case-folded
 * Unicode-aware unless case-sensitive (É = é). Null when empty: an empty value
 * adds no condition.
 */
export function normalizeMatchValue(input: { value: unknown; caseSensitive: boolean }): string | null {
  const { value, caseSensitive } = input;
  if (value === null || value === undefined) return null;
  const text = (value instanceof Date ? value.toISOString() : String(value)).trim();
  if (text === '') return null;
  if (caseSensitive) return text;
  // The same result for ASCII text at a fraction of the cost: this runs for every record and candidate of a batch.
  return ASCII_ONLY.test(text) ? text.toLowerCase() : text.normalize('NFC').toLocaleLowerCase('und');
}

function localValues(level: MatchLevel, record: MatchRecord): (string | null)[] {
  try {
    return level.fields.map((f) =>
      normalizeMatchValue({ value: applyTransformations(fieldValue(record.values, f.localField) ?? null, f.transformation), caseSensitive: f.caseSensitive }),
    );
  } catch (error) {
    // A value a rule cannot take (too long): the record has nothing to match on at this level, rather than fewer criteria.
    if (error instanceof TransformationError) return level.fields.map(() => null);
    throw error;
  }
}

function candidateValues(level: MatchLevel, record: MatchRecord, mask: readonly number[]): string[] | null {
  const values: string[] = [];
  for (const i of mask) {
    const field = level.fields[i];
    const value = normalizeMatchValue({ value: fieldValue(record.values, field.integrationField) ?? null, caseSensitive: field.caseSensitive });
    // An empty candidate value never equals a local value that is not empty.
    if (value === null) return null;
    values.push(value);
  }
  return values;
}

/** The composite key of a record at a level: which fields have values, and the values. Null when none has. */
export function localLevelKey(input: { level: MatchLevel; record: MatchRecord }): { mask: number[]; key: string } | null {
  const values = localValues(input.level, input.record);
  const mask = values.flatMap((v, i) => (v === null ? [] : [i]));
  if (mask.length === 0) return null;
  return { mask, key: JSON.stringify(mask.map((i) => values[i])) };
}

/** Candidate ids by composite key, over the fields of `mask`. */
export function buildCandidateIndex(input: { level: MatchLevel; mask: readonly number[]; candidates: readonly MatchRecord[] }): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const candidate of input.candidates) {
    const values = candidateValues(input.level, candidate, input.mask);
    if (!values) continue;
    const key = JSON.stringify(values);
    const ids = index.get(key);
    if (!ids) index.set(key, [candidate.id]);
    else if (!ids.includes(candidate.id)) ids.push(candidate.id);
  }
  return index;
}

/**
 * The candidate queries of a level for these records: one per combination of
 * fields that have values (usually one), each field "in" the records' values.
 * Records with no value at this level need no query.
 */
export function levelQueries(input: { level: MatchLevel; locals: readonly MatchRecord[] }): LevelQuery[] {
  const groups = new Map<string, { mask: number[]; locals: MatchRecord[]; values: Set<string>[] }>();
  for (const record of input.locals) {
    const values = localValues(input.level, record);
    const mask = values.flatMap((v, i) => (v === null ? [] : [i]));
    if (mask.length === 0) continue;
    const id = mask.join(',');
    const group = groups.get(id) ?? { mask, locals: [], values: mask.map(() => new Set<string>()) };
    groups.set(id, group);
    group.locals.push(record);
    mask.forEach((fieldIndex, i) => group.values[i].add(values[fieldIndex] as string));
  }
  return [...groups.values()].map((g) => ({
    mask: g.mask,
    locals: g.locals,
    conditions: g.mask.map((fieldIndex, i) => {
      const field = input.level.fields[fieldIndex];
      return { field: field.integrationField, values: [...g.values[i]], caseSensitive: field.caseSensitive };
    }),
  }));
}

export function initialMatchState(input: { locals: readonly MatchRecord[] }): MatchState {
  return { order: input.locals.map((l) => l.id), pending: [...input.locals], matched: new Map(), taken: new Set(), trail: new Map() };
}

function decideAtLevel(ids: readonly string[], unavailable: (id: string) => boolean, undecidable: boolean, priority: number): LevelResult {
  if (ids.length === 0) return { priority, result: 'noCandidate' };
  const free = ids.filter((id) => !unavailable(id));
  if (free.length === 0) return { priority, result: 'coupled', candidateIds: [...ids] };
  // A truncated candidate list may hide a second match: never couple on it.
  if (free.length > 1 || undecidable) return { priority, result: 'several', candidateIds: free };
  return { priority, result: 'matched', candidateId: free[0] };
}

/**
 * Tries one level on the pending records, in order: exactly one candidate that
 * is neither coupled nor taken by an earlier record couples; zero, several or
 * only unavailable ones leave the record pending for the next level.
 * `candidates` may be a superset: only exact (normalized) matches count.
 */
export function applyLevel(input: {
  state: MatchState;
  level: MatchLevel;
  candidates: readonly MatchRecord[];
  coupledCandidateIds: ReadonlySet<string>;
  /** Records whose candidate list was cut short: they cannot couple at this level. */
  undecidable?: ReadonlySet<string>;
}): MatchState {
  const { state, level, candidates, coupledCandidateIds } = input;
  const indexes = new Map<string, Map<string, string[]>>();
  const matched = new Map(state.matched);
  const taken = new Set(state.taken);
  const trail = new Map(state.trail);
  const pending: MatchRecord[] = [];
  const unavailable = (id: string): boolean => coupledCandidateIds.has(id) || taken.has(id);
  for (const record of state.pending) {
    const localKey = localLevelKey({ level, record });
    let result: LevelResult;
    if (!localKey) result = { priority: level.priority, result: 'noValues' };
    else {
      const maskId = localKey.mask.join(',');
      let index = indexes.get(maskId);
      if (!index) indexes.set(maskId, (index = buildCandidateIndex({ level, mask: localKey.mask, candidates })));
      result = decideAtLevel(index.get(localKey.key) ?? [], unavailable, input.undecidable?.has(record.id) === true, level.priority);
    }
    trail.set(record.id, [...(trail.get(record.id) ?? []), result]);
    if (result.result === 'matched') {
      matched.set(record.id, { integrationId: result.candidateId, priority: level.priority });
      taken.add(result.candidateId);
    } else pending.push(record);
  }
  return { order: state.order, pending, matched, taken, trail };
}

const REASON_ORDER: readonly UnmatchedReason[] = ['several', 'candidateCoupled', 'noCandidate', 'noValues'];

function reasonOf(result: LevelResult): UnmatchedReason | null {
  switch (result.result) {
    case 'several': return 'several';
    case 'coupled': return 'candidateCoupled';
    case 'noCandidate': return 'noCandidate';
    case 'noValues': return 'noValues';
    case 'matched': return null;
  }
}

/** The outcome of every record, in the order given. The reason is the most telling level's: ambiguity first. */
export function finishMatching(input: { state: MatchState }): MatchOutcome[] {
  const { state } = input;
  return state.order.map((localId): MatchOutcome => {
    const match = state.matched.get(localId);
    if (match) return { localId, kind: 'matched', integrationId: match.integrationId, priority: match.priority };
    const levels = state.trail.get(localId) ?? [];
    let best: LevelResult | undefined;
    let bestRank = REASON_ORDER.length;
    for (const level of levels) {
      const reason = reasonOf(level);
      const rank = reason ? REASON_ORDER.indexOf(reason) : REASON_ORDER.length;
      if (rank < bestRank) [best, bestRank] = [level, rank];
    }
    const reason = REASON_ORDER[bestRank] ?? 'noValues';
    const candidateIds = best && 'candidateIds' in best ? best.candidateIds : [];
    return { localId, kind: 'unmatched', reason, candidateIds, levels };
  });
}

/** All levels at once, with the same candidates at each: for callers that already hold every candidate. */
export function matchRecords(input: {
  levels: readonly MatchLevel[];
  locals: readonly MatchRecord[];
  candidates: readonly MatchRecord[];
  coupledCandidateIds: ReadonlySet<string>;
}): MatchOutcome[] {
  let state = initialMatchState({ locals: input.locals });
  for (const level of input.levels) {
    if (state.pending.length === 0) break;
    state = applyLevel({ state, level, candidates: input.candidates, coupledCandidateIds: input.coupledCandidateIds });
  }
  return finishMatching({ state });
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_MESSAGE).join(', ');
  return ids.length > MAX_IDS_IN_MESSAGE ? `${shown} and ${ids.length - MAX_IDS_IN_MESSAGE} more` : shown;
}

function describeLevel(result: LevelResult, level: MatchLevel | undefined): string {
  const fields = level ? level.fields.map((f) => f.localField).join(' + ') : '?';
  const where = `priority ${result.priority} (${fields})`;
  switch (result.result) {
    case 'noValues': return `${where}: no value to match on`;
    case 'noCandidate': return `${where}: no candidate`;
    case 'several': return `${where}: several candidates ${listIds(result.candidateIds)}`;
    case 'coupled': return `${where}: candidate already coupled ${listIds(result.candidateIds)}`;
    case 'matched': return `${where}: matched ${result.candidateId}`;
  }
}

/** The error-row message of an unmatched record: why, level by level, naming the candidates. */
export function describeUnmatched(input: { outcome: Extract<MatchOutcome, { kind: 'unmatched' }>; levels: readonly MatchLevel[] }): string {
  const { outcome, levels } = input;
  const headline: Record<UnmatchedReason, string> = {
    several: 'several candidates',
    candidateCoupled: 'candidate already coupled',
    noCandidate: 'no candidate',
    noValues: 'no value in any match field',
  };
  const detail = outcome.levels.map((r) => describeLevel(r, levels.find((l) => l.priority === r.priority))).join('; ');
  return `No unique uncoupled matching record (${headline[outcome.reason]}): ${detail || 'no match criteria'}.`;
}
