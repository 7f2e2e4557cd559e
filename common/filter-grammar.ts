/**
 * The one filter grammar: which value each operator takes. A filter condition
 * is `{ field, op, value }`, conditions are ANDed, and every connector gives a
 * condition the same meaning (test/connectors/filter-corpus.test.ts runs one
 * table of filters against the Knex connector on SQLite and PostgreSQL, and the
 * Dataverse and Business Central connectors against their emulators):
 *
 * | op | value | matches a record whose field ... |
 * |---|---|---|
 * | `eq` | one string, number or boolean | equals it (null never does) |
 * | `ne` | one string, number or boolean | is null or differs from it |
 * | `lt` `lte` `gt` `gte` | one string or number | compares so (null never does) |
 * | `in` | a list of 1 to 100 strings, numbers or booleans, all of one type | equals one of them (null never does) |
 * | `notIn` | the same | is null or equals none of them |
 * | `contains` `startsWith` | a non-empty string | contains it / starts with it, case-sensitively; `%`, `_` are plain characters |
 * | `isNull` `isNotNull` | none | is / is not null |
 *
 * Strings are at most 1,000 characters without NUL; numbers are finite. A null
 * is never a comparison value (use `isNull`), a list never stands where one
 * value belongs, and an empty list or empty `contains` text is refused rather
 * than given a meaning. Where a service genuinely differs it is documented
 * (docs/SECURITY.md ("Mapping definitions, filters and transformations")): Dataverse compares text without regard to case or
 * accents; Business Central text is never null (blank instead).
 *
 * Used by the zod schema (mapping save and workflow inputs) and again when a
 * run starts, for mappings stored before these rules. Pure: imported by
 * workflow code.
 */
import type { FilterCondition, FilterOperator } from './types';

/** Most conditions in one filter. @default 50 */
export const MAX_FILTER_CONDITIONS = 50;
/** Most values in an `in` / `notIn` list: each becomes a bound parameter or an OData literal in a URL. @default 100 */
export const MAX_FILTER_LIST = 100;
/** Longest string value. @default 1000 */
export const MAX_FILTER_TEXT = 1000;

type Shape = 'scalar' | 'ordered' | 'list' | 'text' | 'none';

/** The value shape each operator takes. */
export const OPERATOR_VALUES: Readonly<Record<FilterOperator, Shape>> = {
  eq: 'scalar',
  ne: 'scalar',
  lt: 'ordered',
  lte: 'ordered',
  gt: 'ordered',
  gte: 'ordered',
  in: 'list',
  notIn: 'list',
  contains: 'text',
  startsWith: 'text',
  isNull: 'none',
  isNotNull: 'none',
};

const EXPECTED: Record<Shape, string> = {
  scalar: 'one string, number or boolean',
  ordered: 'one string or number',
  list: `a list of 1 to ${MAX_FILTER_LIST} strings, numbers or booleans, all of one type`,
  text: 'a non-empty string',
  none: 'no value',
};

const describe = (value: unknown): string =>
  value === undefined ? 'none' : value === null ? 'null' : Array.isArray(value) ? `a list of ${value.length}` : typeof value;

/** What is wrong with a condition's value for its operator (a sentence), or null when it fits. */
export function filterValueProblem(condition: Pick<FilterCondition, 'op' | 'value'> & { value?: unknown }): string | null {
  const shape: Shape | undefined = Object.hasOwn(OPERATOR_VALUES, condition.op) ? OPERATOR_VALUES[condition.op] : undefined;
  if (!shape) return null; // the operator itself is refused elsewhere
  const { value } = condition;
  const wrong = (hint = ''): string => `${condition.op} takes ${EXPECTED[shape]}, not ${describe(value)}${hint}`;
  switch (shape) {
    case 'none':
      return value === undefined ? null : wrong();
    case 'scalar':
      if (value === null) return wrong(`; use ${condition.op === 'eq' ? 'isNull' : 'isNotNull'}`);
      if (Array.isArray(value)) return wrong(`; use ${condition.op === 'eq' ? 'in' : 'notIn'} for a list`);
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? null : wrong();
    case 'ordered':
      return typeof value === 'string' || typeof value === 'number' ? null : wrong();
    case 'text':
      return typeof value === 'string' && value.length > 0 ? null : wrong();
    case 'list': {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_FILTER_LIST) return wrong();
      if (value.some((v) => v === null)) return wrong('; a null in the list never matches, use isNull');
      const types = new Set(value.map((v) => typeof v));
      return types.size === 1 && ['string', 'number', 'boolean'].includes([...types][0]) ? null : wrong();
    }
  }
}

/** Problems of a stored filter (checked when a run starts), each naming `<name>[i].value`. */
export function checkFilter(filter: readonly FilterCondition[], name: string): string[] {
  const problems: string[] = [];
  if (filter.length > MAX_FILTER_CONDITIONS) problems.push(`${name}: at most ${MAX_FILTER_CONDITIONS} conditions, not ${filter.length}`);
  filter.forEach((condition, i) => {
    const problem = filterValueProblem(condition);
    if (problem) problems.push(`${name}[${i}].value: ${problem}`);
  });
  return problems;
}
