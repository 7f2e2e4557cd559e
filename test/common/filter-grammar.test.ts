/** The one filter grammar, as the schema enforces it for mapping saves and workflow inputs alike. */
import { filterSchema } from '../../common/inputs';
import { MAX_FILTER_LIST } from '../../common/filter-grammar';
import { parseMappingDefinition } from '../../domain/mapping';
import { testMapping } from '../helpers/systems';

const problem = (condition: unknown): string | null => {
  const parsed = filterSchema.safeParse([condition]);
  return parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
};

test.each([
  [{ field: 'city', op: 'contains' }, /0\.value: contains takes a non-empty string, not none/],
  [{ field: 'city', op: 'contains', value: '' }, /0\.value: contains takes a non-empty string/],
  [{ field: 'city', op: 'startsWith', value: 12 }, /0\.value: startsWith takes a non-empty string, not number/],
  [{ field: 'city', op: 'eq', value: ['Oslo', 'Bergen'] }, /0\.value: eq takes one string, number or boolean, not a list of 2; use in for a list/],
  [{ field: 'city', op: 'eq', value: null }, /use isNull/],
  [{ field: 'city', op: 'ne', value: null }, /use isNotNull/],
  [{ field: 'city', op: 'eq' }, /eq takes one string, number or boolean, not none/],
  [{ field: 'score', op: 'gt', value: true }, /gt takes one string or number, not boolean/],
  [{ field: 'score', op: 'lt', value: [1] }, /lt takes one string or number/],
  [{ field: 'city', op: 'in', value: [] }, /in takes a list of 1 to 100/],
  [{ field: 'city', op: 'in', value: 'Oslo' }, /in takes a list/],
  [{ field: 'city', op: 'notIn', value: ['Oslo', null] }, /a null in the list never matches/],
  [{ field: 'city', op: 'in', value: ['Oslo', 1] }, /all of one type/],
  [{ field: 'city', op: 'in', value: Array.from({ length: MAX_FILTER_LIST + 1 }, (_, i) => `c${i}`) }, /0\.value/],
  [{ field: 'city', op: 'isNull', value: 'x' }, /isNull takes no value/],
])('%j is refused: %s', (condition, message) => {
  expect(problem(condition)).toMatch(message);
});

test.each([
  { field: 'city', op: 'eq', value: 'Oslo' },
  { field: 'city', op: 'eq', value: '' },
  { field: 'active', op: 'eq', value: false },
  { field: 'score', op: 'gte', value: 3 },
  { field: 'name', op: 'lt', value: 'M' },
  { field: 'city', op: 'in', value: ['Oslo'] },
  { field: 'score', op: 'notIn', value: [1, 2] },
  { field: 'city', op: 'contains', value: '%' },
  { field: 'city', op: 'isNull' },
])('%j is accepted', (condition) => {
  expect(problem(condition)).toBeNull();
});

test("a mapping's table filters follow the same grammar, named by path at save", () => {
  expect(() =>
    parseMappingDefinition(
      testMapping({
        tableFilter: [
          { field: 'city', op: 'eq', value: 'x' },
          { field: 'city', op: 'contains' },
        ],
      }),
    ),
  ).toThrow(/tableFilter\[1\]\.value: contains takes a non-empty string/);
  expect(() => parseMappingDefinition(testMapping({ integrationTableFilter: [{ field: 'address1_city', op: 'in', value: [] }] }))).toThrow(
    /integrationTableFilter\[0\]\.value: in takes a list/,
  );
});
