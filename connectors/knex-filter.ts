/**
 * Structured filters to parameterized Knex conditions, with the meaning the
 * filter grammar gives them (common/filter-grammar.ts): `ne` and `notIn` keep
 * nulls, `contains` / `startsWith` compare case-sensitively with `%` and `_` as
 * plain characters. Values are always bound, never spliced into SQL; field
 * names were checked against the table's columns.
 */
import type { Knex } from 'knex';
import { filterValueProblem } from '../common/filter-grammar';
import type { FilterCondition, Scalar } from '../common/types';
import { ConnectorError } from './connector-error';

/** A condition outside the filter grammar: refused rather than given a guessed meaning. */
export class InvalidFilterError extends ConnectorError {
  override readonly name = 'InvalidFilterError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function isSqlite(query: Knex.QueryBuilder): boolean {
  const client = (query as unknown as { client?: { config?: { client?: unknown } } }).client?.config?.client;
  return /sqlite/i.test(String(client));
}

export function applyFilter(query: Knex.QueryBuilder, filter: readonly FilterCondition[]): Knex.QueryBuilder {
  // SQLite's LIKE ignores ASCII case: instr() and substr() compare exactly, as PostgreSQL's LIKE does.
  const sqlite = isSqlite(query);
  for (const condition of filter) {
    const { field, op } = condition;
    const problem = filterValueProblem(condition);
    if (problem) throw new InvalidFilterError(`Filter on "${field}": ${problem}.`);
    const value = condition.value as Exclude<Scalar, null>;
    const list = condition.value as Exclude<Scalar, null>[];
    switch (op) {
      case 'eq':
        query.where(field, value);
        break;
      case 'ne':
        query.where((q) => q.whereNot(field, value).orWhereNull(field));
        break;
      case 'lt':
        query.where(field, '<', value);
        break;
      case 'lte':
        query.where(field, '<=', value);
        break;
      case 'gt':
        query.where(field, '>', value);
        break;
      case 'gte':
        query.where(field, '>=', value);
        break;
      case 'in':
        query.whereIn(field, list);
        break;
      case 'notIn':
        query.where((q) => q.whereNotIn(field, list).orWhereNull(field));
        break;
      case 'contains':
        if (sqlite) query.whereRaw('instr(??, ?) > 0', [field, value]);
        else query.whereRaw('?? like ? escape ?', [field, `%${escapeLike(String(value))}%`, '\\']);
        break;
      case 'startsWith':
        if (sqlite) query.whereRaw('substr(??, 1, length(?)) = ?', [field, value, value]);
        else query.whereRaw('?? like ? escape ?', [field, `${escapeLike(String(value))}%`, '\\']);
        break;
      case 'isNull':
        query.whereNull(field);
        break;
      case 'isNotNull':
        query.whereNotNull(field);
        break;
      default: {
        const unreachable: never = op;
        throw new InvalidFilterError(`Unknown filter operator ${String(unreachable)}`);
      }
    }
  }
  return query;
}

/** Fields a filter refers to, to check them against a table's columns. */
export function filterFields(filter: readonly FilterCondition[]): string[] {
  return [...new Set(filter.map((c) => c.field))];
}
