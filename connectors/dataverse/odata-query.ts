/**
 * Pure OData v4 query building for the Dataverse Web API: literals, the
 * structured filters of a mapping, the (modifiedon, id) keyset bounds, and
 * long value lists split so no URL grows past what the service accepts.
 *
 * Every value reaches the URL through a literal function here: strings have
 * their single quotes doubled, value lists travel as JSON arrays in parameter
 * aliases (Dataverse rejects single quotes inside inline arrays), and names,
 * GUIDs and timestamps are checked against strict patterns, so a value can never
 * change the shape of the query.
 */
import { filterValueProblem } from '../../common/filter-grammar';
import type { FilterCondition, Scalar } from '../../common/types';
import { ConnectorError } from '../connector-error';
import { isGuid, isIdentifier, stringLiteral } from '../odata/literals';

/** How a literal for an attribute is written; derived from the attribute's metadata type. */
export type AttributeKind = 'string' | 'guid' | 'datetime' | 'number' | 'boolean' | 'other';

/** Dataverse AttributeType (EntityDefinitions metadata) to literal kind. */
export function attributeKindOf(attributeType: string): AttributeKind {
  switch (attributeType) {
    case 'String':
    case 'Memo':
    case 'EntityName':
      return 'string';
    case 'Uniqueidentifier':
    case 'Lookup':
    case 'Owner':
    case 'Customer':
      return 'guid';
    case 'DateTime':
      return 'datetime';
    case 'Integer':
    case 'BigInt':
    case 'Decimal':
    case 'Double':
    case 'Money':
    case 'Picklist':
    case 'State':
    case 'Status':
      return 'number';
    case 'Boolean':
      return 'boolean';
    default:
      return 'other';
  }
}

/** A query that cannot be written safely: a bad name, or a value of the wrong shape for its attribute. */
export class InvalidQueryError extends ConnectorError {
  override readonly name = 'InvalidQueryError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

/** UTC timestamps only: Dataverse reports modifiedon in UTC, and the engine's clock values are UTC. */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,7})?Z$/;
const DATE_OR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

export function assertIdentifier(name: string, what = 'attribute'): string {
  if (!isIdentifier(name)) throw new InvalidQueryError(`${what} name ${JSON.stringify(name)} is not a Dataverse logical name`);
  return name;
}

export function guidLiteral(value: string): string {
  if (!isGuid(value)) throw new InvalidQueryError(`${JSON.stringify(value)} is not a GUID`);
  return value.toLowerCase();
}

export function timestampLiteral(value: string): string {
  if (!UTC_TIMESTAMP.test(value)) throw new InvalidQueryError(`${JSON.stringify(value)} is not a UTC timestamp (yyyy-mm-ddThh:mm:ss[.fff]Z)`);
  return value;
}

/** The literal for `value` compared with an attribute of this kind. */
export function literal(value: Scalar, kind: AttributeKind, field: string): string {
  if (value === null) return 'null';
  const wrong = (): InvalidQueryError => new InvalidQueryError(`value ${JSON.stringify(value)} does not fit ${field} (${kind})`);
  switch (kind) {
    case 'guid':
      if (typeof value !== 'string') throw wrong();
      return guidLiteral(value);
    case 'datetime':
      if (typeof value !== 'string' || !DATE_OR_TIMESTAMP.test(value)) throw wrong();
      return value;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && DECIMAL.test(value)) return value;
      throw wrong();
    case 'boolean':
      if (typeof value === 'boolean') return String(value);
      if (value === 'true' || value === 'false') return value;
      throw wrong();
    case 'string':
      return stringLiteral(String(value));
    default:
      if (typeof value === 'string') return stringLiteral(value);
      if (typeof value === 'number' && !Number.isFinite(value)) throw wrong();
      return String(value);
  }
}

/**
 * Text for contains/startswith: Dataverse passes these to SQL LIKE, where %, _
 * and [ are wildcards; a bracketed character is literal in T-SQL.
 */
export function likeText(value: string): string {
  return value.replace(/[%_[]/g, (c) => `[${c}]`);
}

/**
 * Collects the filter text and its parameter aliases. Value lists go in aliases
 * as JSON arrays: the form Dataverse documents for In/NotIn, safe for values
 * with quotes in them.
 */
export class FilterBuilder {
  private readonly clauses: string[] = [];
  readonly aliases: [string, string][] = [];

  constructor(private readonly aliasOffset = 0) {}

  add(clause: string): this {
    this.clauses.push(clause);
    return this;
  }

  /** Registers a JSON array alias and returns its name. */
  list(values: readonly string[]): string {
    const name = `@p${this.aliasOffset + this.aliases.length + 1}`;
    this.aliases.push([name, JSON.stringify(values)]);
    return name;
  }

  /** All clauses, ANDed; each in parentheses so an `or` inside never binds wider. */
  text(): string {
    if (this.clauses.length === 1) return this.clauses[0];
    return this.clauses.map((c) => `(${c})`).join(' and ');
  }

  get empty(): boolean {
    return this.clauses.length === 0;
  }
}

/** A clause no record satisfies: the primary key is never null. */
export function nothing(idAttribute: string): string {
  return `${assertIdentifier(idAttribute)} eq null`;
}

/**
 * One structured condition as OData, with the filter grammar's meaning
 * (common/filter-grammar.ts), the one the other connectors give it: `ne` and
 * `notIn` keep nulls (SQL and Dataverse drop them). Text compares as
 * Dataverse's collation does, without regard to case or accents.
 */
export function conditionClause(condition: FilterCondition, kind: AttributeKind, idAttribute: string, builder: FilterBuilder): string {
  const field = assertIdentifier(condition.field);
  const problem = filterValueProblem(condition);
  if (problem) throw new InvalidQueryError(`Filter on "${condition.field}": ${problem}.`);
  const single = condition.value as Scalar;
  switch (condition.op) {
    case 'eq':
      return `${field} eq ${literal(single, kind, field)}`;
    case 'ne':
      return single === null ? `${field} ne null` : `${field} ne ${literal(single, kind, field)} or ${field} eq null`;
    case 'lt':
      return `${field} lt ${literal(single, kind, field)}`;
    case 'lte':
      return `${field} le ${literal(single, kind, field)}`;
    case 'gt':
      return `${field} gt ${literal(single, kind, field)}`;
    case 'gte':
      return `${field} ge ${literal(single, kind, field)}`;
    case 'in':
    case 'notIn': {
      const values = condition.value as (string | number | boolean)[];
      // Validates each value for the attribute's kind before it goes into the list.
      for (const v of values) literal(v, kind, field);
      const clause = listClause(condition.op === 'in' ? 'In' : 'NotIn', field, values.map(String), builder);
      return condition.op === 'in' ? clause : `${clause} or ${field} eq null`;
    }
    case 'contains':
      return `contains(${field},${stringLiteral(likeText(String(single)))})`;
    case 'startsWith':
      return `startswith(${field},${stringLiteral(likeText(String(single)))})`;
    case 'isNull':
      return `${field} eq null`;
    case 'isNotNull':
      return `${field} ne null`;
    default: {
      const unreachable: never = condition.op;
      throw new InvalidQueryError(`unknown filter operator ${String(unreachable)}`);
    }
  }
}

/** Dataverse's In/NotIn query function; the values travel as a JSON array alias. */
export function listClause(fn: 'In' | 'NotIn', field: string, values: readonly string[], builder: FilterBuilder): string {
  return `Microsoft.Dynamics.CRM.${fn}(PropertyName=${stringLiteral(assertIdentifier(field))},PropertyValues=${builder.list(values)})`;
}

/**
 * `modifiedon` past a watermark. Dataverse reports whole seconds; a watermark
 * with a fraction comes from our own clock (the job start the engine caps it
 * at), and a record written later in that same second carries the truncated
 * second, so the whole second is read again: re-reading a record is harmless,
 * missing one is not.
 */
export function sinceClause(modifiedOnAttribute: string, since: string): string {
  const match = UTC_TIMESTAMP.exec(timestampLiteral(since));
  const attribute = assertIdentifier(modifiedOnAttribute);
  if (match && match[2] !== undefined) return `${attribute} ge ${match[1]}Z`;
  return `${attribute} gt ${since}`;
}

export interface KeyBound {
  modifiedOn: string;
  id: string;
}

/** Records strictly after `key` in (modifiedon, id) order; the service compares ids in its own order. */
export function afterClause(modifiedOnAttribute: string, idAttribute: string, key: KeyBound): string {
  const m = assertIdentifier(modifiedOnAttribute);
  const t = timestampLiteral(key.modifiedOn);
  return `${m} gt ${t} or (${m} eq ${t} and ${assertIdentifier(idAttribute)} gt ${guidLiteral(key.id)})`;
}

/** Records up to and including `key` in (modifiedon, id) order. */
export function throughClause(modifiedOnAttribute: string, idAttribute: string, key: KeyBound): string {
  const m = assertIdentifier(modifiedOnAttribute);
  const t = timestampLiteral(key.modifiedOn);
  return `${m} lt ${t} or (${m} eq ${t} and ${assertIdentifier(idAttribute)} le ${guidLiteral(key.id)})`;
}

/** Percent-encodes a query value, quotes included, so the URL is already in the form URL parsers keep unchanged. */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface CollectionQuery {
  entitySet: string;
  select: readonly string[];
  filter?: FilterBuilder;
  orderBy?: readonly string[];
}

/** The relative URL of a collection query, e.g. `accounts?$select=name,modifiedon&$filter=...`. */
export function collectionUrl(query: CollectionQuery): string {
  const params: string[] = [];
  const select = [...new Set(query.select)].map((s) => assertIdentifier(s));
  if (select.length > 0) params.push(`$select=${select.join(',')}`);
  if (query.filter && !query.filter.empty) {
    params.push(`$filter=${encodeQueryValue(query.filter.text())}`);
    for (const [name, value] of query.filter.aliases) params.push(`${name}=${encodeQueryValue(value)}`);
  }
  if (query.orderBy && query.orderBy.length > 0) params.push(`$orderby=${encodeQueryValue(query.orderBy.join(','))}`);
  return `${assertIdentifier(query.entitySet, 'entity set')}${params.length ? `?${params.join('&')}` : ''}`;
}

/** Characters one list member adds to an encoded URL (as a JSON array element). */
export function encodedMemberLength(value: string): number {
  return encodeQueryValue(JSON.stringify(value)).length + 3;
}

/**
 * Splits `items` into runs whose summed cost stays within `budget`; an item
 * costlier than the budget goes alone (the service then decides).
 */
export function chunkByBudget<T>(items: readonly T[], cost: (item: T) => number, budget: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const item of items) {
    const c = cost(item);
    if (current.length > 0 && used + c > budget) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += c;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
