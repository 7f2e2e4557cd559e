/**
 * A filter of the one grammar (common/filter-grammar.ts) evaluated on a
 * record's values in memory, for what no connector is asked: which template
 * a record the sync creates gets. It gives conditions the grammar's meaning,
 * as the Knex connector does: text compared case-sensitively in code-point
 * order, `ne` and `notIn` keep nulls, and values as connectors return them
 * compare as valuesEqual does (SQLite's 1 is true, 12 is "12"). Pure.
 */
import type { FilterCondition, Scalar } from '../common/types';
import { fieldValue, valuesEqual } from './values';

const isNull = (value: unknown): boolean => value === null || value === undefined;

/** Code-point order, as SQLite's BINARY and PostgreSQL's "C" collation compare text (UTF-16 units would not, past U+FFFF). */
function compareText(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i].codePointAt(0) ?? 0) - (y[i].codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** How the record's value orders against the condition's: a number compares as a number, text as text; NaN when it cannot. */
function order(value: unknown, against: string | number): number {
  if (typeof against === 'number') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    return n - against;
  }
  return compareText(String(value), against);
}

function holds(value: unknown, condition: FilterCondition): boolean {
  const target = condition.value as Exclude<Scalar, null>;
  const list = (condition.value ?? []) as Exclude<Scalar, null>[];
  // Only isNull, ne and notIn match a null; every other operator never does.
  const present = !isNull(value);
  switch (condition.op) {
    case 'isNull':
      return !present;
    case 'isNotNull':
      return present;
    case 'ne':
      return !present || !valuesEqual(value, target);
    case 'notIn':
      return !present || !list.some((v) => valuesEqual(value, v));
    case 'eq':
      return present && valuesEqual(value, target);
    case 'in':
      return present && list.some((v) => valuesEqual(value, v));
    case 'lt':
      return present && order(value, target as string | number) < 0;
    case 'lte':
      return present && order(value, target as string | number) <= 0;
    case 'gt':
      return present && order(value, target as string | number) > 0;
    case 'gte':
      return present && order(value, target as string | number) >= 0;
    case 'contains':
      return present && String(value).includes(String(target));
    case 'startsWith':
      return present && String(value).startsWith(String(target));
    default: {
      const unreachable: never = condition.op;
      throw new Error(`Unknown filter operator ${String(unreachable)}`);
    }
  }
}

/** True when the record's values meet every condition (ANDed; an empty filter matches every record). */
export function recordMatchesFilter(values: Readonly<Record<string, unknown>>, filter: readonly FilterCondition[]): boolean {
  return filter.every((condition) => holds(fieldValue(values, condition.field), condition));
}

/** The fields a filter reads. */
export function filterFieldsOf(filter: readonly FilterCondition[]): string[] {
  return [...new Set(filter.map((c) => c.field))];
}
