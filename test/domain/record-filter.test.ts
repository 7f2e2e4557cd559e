/**
 * The in-memory filter that picks a created record's template gives every
 * condition the meaning the connectors give it: the whole connector corpus,
 * on the rows as JavaScript values and as SQLite returns them (booleans 1/0).
 */
import { recordMatchesFilter } from '../../domain/record-filter';
import { FILTER_CORPUS, ROWS } from '../connectors/filter-corpus';

const describeFilter = (filter: unknown): string => JSON.stringify(filter);

test.each([
  ['JavaScript values', (r: (typeof ROWS)[number]) => ({ ...r })],
  ['SQLite values', (r: (typeof ROWS)[number]) => ({ ...r, active: r.active ? 1 : 0 })],
])('every corpus filter selects the rows the grammar says (%s)', (_name, asRow) => {
  const results = FILTER_CORPUS.map((entry) => ({
    filter: describeFilter(entry.filter),
    selected: ROWS.filter((r) => recordMatchesFilter(asRow(r), entry.filter)).map((r) => r.label),
  }));
  expect(results).toEqual(FILTER_CORPUS.map((entry) => ({ filter: describeFilter(entry.filter), selected: entry.matches })));
});

test('an empty filter matches every record; a field the record lacks is null', () => {
  expect(recordMatchesFilter({}, [])).toBe(true);
  expect(recordMatchesFilter({}, [{ field: 'country', op: 'isNull' }])).toBe(true);
  expect(recordMatchesFilter({}, [{ field: 'country', op: 'eq', value: 'gb' }])).toBe(false);
  expect(recordMatchesFilter({ country: 'gb' }, [{ field: 'constructor', op: 'isNull' }])).toBe(true);
});
