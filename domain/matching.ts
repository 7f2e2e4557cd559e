/**
 * Match-based coupling's criteria as pure functions: which fields match at
 * which priority, how values are normalized, the candidate queries of a level
 * and the index of normalized keys the exact check goes through, so a batch
 * costs O(locals + candidates) per level, never a comparison of pairs. Which
 * record couples to which candidate is domain/match-rounds.
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

/** One candidate query: the records of a level that have values in the same fields. */
export interface LevelQuery {
  /** Indexes (into the level's fields) of the fields that carry a condition. */
  mask: readonly number[];
  locals: readonly MatchRecord[];
  /** Per field, the distinct normalized values of these records (the connector's `conditions`). */
  conditions: { field: string; values: string[]; caseSensitive: boolean }[];
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

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
