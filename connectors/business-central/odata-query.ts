/**
 * OData query text for the Business Central API: literals, field names,
 * table filters and the keyset bounds of a read.
 *
 * Every value goes through a literal formatter (strings quoted with `''` for a
 * quote, GUIDs and timestamps checked against their shapes, numbers finite) and
 * every field name through an identifier check, so no value and no field name
 * can change the structure of a $filter.
 *
 * Business Central turns a $filter into AL field filters, and those cannot OR
 * two different fields ("you can't use OR operators to apply filters on two
 * different fields", Microsoft's page on filter expressions in OData URIs). So
 * nothing here ORs different fields: the keyset bound "after (m, id)" is sent
 * as `lastModifiedDateTime ge m` and the id part is applied by the connector
 * (see keyset.ts). `in (...)` needs $schemaversion=2.1, so lists are sent as
 * ORs of `eq` on one field.
 */
import { filterValueProblem } from '../../common/filter-grammar';
import type { FilterCondition, Scalar } from '../../common/types';
import { ConnectorError } from '../connector-error';
import { isGuid, isIdentifier, stringLiteral } from '../odata/literals';

/** A query the connector refuses to build (a field name or value that is not what it claims to be). */
export class ODataQueryError extends ConnectorError {
  override readonly name = 'ODataQueryError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

/** The field every BC API entity carries: when it was last modified (ms precision, UTC). */
export const MODIFIED_FIELD = 'lastModifiedDateTime';
export const ID_FIELD = 'id';

/** OData's limit on an identifier's length. */
const MAX_FIELD_NAME_LENGTH = 128;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A property name, checked: an OData identifier and nothing else. */
export function fieldName(name: string): string {
  if (!isIdentifier(name) || name.length > MAX_FIELD_NAME_LENGTH) throw new ODataQueryError(`"${name}" is not a valid Business Central field name.`);
  return name;
}

/** A GUID literal (unquoted in OData v4); refuses anything that is not a GUID. */
export function guidLiteral(value: string): string {
  if (!isGuid(value)) throw new ODataQueryError(`"${value}" is not a GUID.`);
  return value.toLowerCase();
}

/** A DateTimeOffset literal (unquoted); refuses anything that is not an ISO-8601 timestamp. */
export function dateTimeLiteral(value: string): string {
  if (!DATE_TIME.test(value)) throw new ODataQueryError(`"${value}" is not an ISO-8601 timestamp.`);
  return value;
}

export function literal(value: Scalar): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ODataQueryError(`${value} cannot be sent to Business Central.`);
    return String(value);
  }
  return stringLiteral(value);
}

const COMPARISONS = { eq: 'eq', ne: 'ne', lt: 'lt', lte: 'le', gt: 'gt', gte: 'ge' } as const;

/** `(f eq a or f eq b ...)`: one field only, so BC can take it. */
export function anyOf(field: string, literals: readonly string[]): string {
  const name = fieldName(field);
  if (literals.length === 1) return `${name} eq ${literals[0]}`;
  return `(${literals.map((l) => `${name} eq ${l}`).join(' or ')})`;
}

function scalarOf(condition: FilterCondition): Scalar {
  if (Array.isArray(condition.value)) throw new ODataQueryError(`Filter on "${condition.field}": ${condition.op} takes one value, not a list.`);
  return condition.value ?? null;
}

function listOf(condition: FilterCondition): Scalar[] {
  if (!Array.isArray(condition.value)) throw new ODataQueryError(`Filter on "${condition.field}": ${condition.op} takes a list of values.`);
  return condition.value;
}

/** What a set of conditions comes to: a $filter expression, no condition at all, or nothing can match. */
export type FilterText = { kind: 'all' } | { kind: 'none' } | { kind: 'where'; text: string };

/**
 * One table-filter condition as OData, with the filter grammar's meaning
 * (common/filter-grammar.ts): `ne` and `notIn` keep nulls, text compares as BC
 * does (case-sensitively); `none` when it can match no record.
 */
export function conditionFilter(condition: FilterCondition): FilterText {
  const field = fieldName(condition.field);
  const problem = filterValueProblem(condition);
  if (problem) throw new ODataQueryError(`Filter on "${condition.field}": ${problem}.`);
  switch (condition.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return { kind: 'where', text: `${field} ${COMPARISONS[condition.op]} ${literal(scalarOf(condition))}` };
    case 'in': {
      const values = listOf(condition);
      return values.length === 0 ? { kind: 'none' } : { kind: 'where', text: anyOf(field, values.map(literal)) };
    }
    case 'notIn': {
      const values = listOf(condition);
      if (values.length === 0) return { kind: 'all' };
      return { kind: 'where', text: `(${values.map((v) => `${field} ne ${literal(v)}`).join(' and ')})` };
    }
    case 'contains':
    case 'startsWith': {
      const value = scalarOf(condition);
      if (typeof value !== 'string') throw new ODataQueryError(`Filter on "${condition.field}": ${condition.op} takes a text value.`);
      return { kind: 'where', text: `${condition.op === 'contains' ? 'contains' : 'startswith'}(${field},${stringLiteral(value)})` };
    }
    case 'isNull':
      return { kind: 'where', text: `${field} eq null` };
    case 'isNotNull':
      return { kind: 'where', text: `${field} ne null` };
    default: {
      const unknown: never = condition.op;
      throw new ODataQueryError(`Unknown filter operator ${String(unknown)}.`);
    }
  }
}

/** AND of conditions and extra expressions. */
export function allOf(conditions: readonly FilterCondition[], extra: readonly string[] = []): FilterText {
  const parts: string[] = [];
  for (const condition of conditions) {
    const f = conditionFilter(condition);
    if (f.kind === 'none') return f;
    if (f.kind === 'where') parts.push(f.text);
  }
  parts.push(...extra);
  return parts.length === 0 ? { kind: 'all' } : { kind: 'where', text: parts.join(' and ') };
}

/**
 * The server side of a keyset read, on lastModifiedDateTime alone: strictly
 * after `since`, from `after`'s timestamp on (ties are cut by id in the
 * connector) and up to `through`'s timestamp.
 */
export function keysetFilter(bounds: { since: string | null; after: { modifiedOn: string } | null; through: { modifiedOn: string } | null }): string[] {
  const parts: string[] = [];
  if (bounds.since !== null) parts.push(`${MODIFIED_FIELD} gt ${dateTimeLiteral(bounds.since)}`);
  if (bounds.after) parts.push(`${MODIFIED_FIELD} ge ${dateTimeLiteral(bounds.after.modifiedOn)}`);
  if (bounds.through) parts.push(`${MODIFIED_FIELD} le ${dateTimeLiteral(bounds.through.modifiedOn)}`);
  return parts;
}

/** Values in groups whose `eq` ORs keep a URL well under the 2,048-ish characters proxies accept. */
export function chunkLiterals(literals: readonly string[], maxChars = 1500, maxCount = 50): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const l of literals) {
    if (current.length > 0 && (current.length >= maxCount || size + l.length > maxChars)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(l);
    size += l.length + 20;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Query options in a URL: `$` kept, values percent-encoded. */
export function queryString(options: Record<string, string | undefined>): string {
  const parts = Object.entries(options)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** $select for the id, the modified-on and the requested fields, each checked. */
export function selectList(fields: readonly string[]): string {
  return [...new Set([ID_FIELD, MODIFIED_FIELD, ...fields.map(fieldName)])].join(',');
}
