/**
 * Structured filters to parameterized Knex conditions. Values are always bound,
 * never spliced into SQL; field names were checked against the table's columns.
 */
import type { Knex } from 'knex';
import type { FilterCondition, Scalar } from '../common/types';

function asList(value: FilterCondition['value']): Scalar[] {
  if (Array.isArray(value)) return value;
  return value === undefined ? [] : [value];
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function applyFilter(query: Knex.QueryBuilder, filter: readonly FilterCondition[]): Knex.QueryBuilder {
  for (const condition of filter) {
    const { field, op } = condition;
    const value = Array.isArray(condition.value) ? condition.value[0] ?? null : condition.value ?? null;
    switch (op) {
      case 'eq':
        if (value === null) query.whereNull(field);
        else query.where(field, value);
        break;
      case 'ne':
        if (value === null) query.whereNotNull(field);
        else query.where((q) => q.whereNot(field, value).orWhereNull(field));
        break;
      case 'lt': query.where(field, '<', value); break;
      case 'lte': query.where(field, '<=', value); break;
      case 'gt': query.where(field, '>', value); break;
      case 'gte': query.where(field, '>=', value); break;
      case 'in': query.whereIn(field, asList(condition.value).filter((v): v is string | number | boolean => v !== null)); break;
      case 'notIn': query.whereNotIn(field, asList(condition.value).filter((v): v is string | number | boolean => v !== null)); break;
      case 'contains': query.whereRaw('?? like ? escape ?', [field, `%${escapeLike(String(value))}%`, '\\']); break;
      case 'startsWith': query.whereRaw('?? like ? escape ?', [field, `${escapeLike(String(value))}%`, '\\']); break;
      case 'isNull': query.whereNull(field); break;
      case 'isNotNull': query.whereNotNull(field); break;
      default: {
        const unreachable: never = op;
        throw new Error(`Unknown filter operator ${String(unreachable)}`);
      }
    }
  }
  return query;
}

/** Fields a filter refers to, to check them against a table's columns. */
export function filterFields(filter: readonly FilterCondition[]): string[] {
  return [...new Set(filter.map((c) => c.field))];
}
