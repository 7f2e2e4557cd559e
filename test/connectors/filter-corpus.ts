/**
 * The filter corpus: each filter of the grammar (common/filter-grammar.ts)
 * against six fixed rows, with the rows the grammar says it selects and where
 * a service genuinely differs, and why. filter-corpus.test.ts runs it against
 * every connector; test/domain/record-filter.test.ts against the in-memory
 * evaluator that picks templates.
 */
import type { FilterCondition } from '../../common/types';

export type Label = 'R1' | 'R2' | 'R3' | 'R4' | 'R5' | 'R6';
export interface Row {
  label: Label;
  name: string;
  city: string | null;
  score: number;
  active: boolean;
}

export const ROWS: Row[] = [
  { label: 'R1', name: 'Alpha', city: 'Oslo', score: 10, active: true },
  { label: 'R2', name: 'alpha', city: 'oslo', score: 20, active: false },
  { label: 'R3', name: 'Beta', city: null, score: 30, active: true },
  { label: 'R4', name: "O'Brien", city: '100% Bergen', score: 5, active: false },
  { label: 'R5', name: 'Gamma_Ray', city: 'a_b', score: 0, active: true },
  { label: 'R6', name: 'Ålesund', city: 'Ålesund', score: -1, active: false },
];

export type Target = 'sqlite' | 'postgres' | 'dataverse' | 'businessCentral';
export type Logical = keyof Omit<Row, 'label'>;

export interface Entry {
  filter: { field: Logical; op: FilterCondition['op']; value?: FilterCondition['value'] }[];
  /** The rows that match: the grammar's meaning. */
  matches: Label[];
  /** Where a service genuinely selects other rows, and why. */
  differs?: Partial<Record<Target, { matches: Label[]; because: string }>>;
}

const CASE_INSENSITIVE = 'Dataverse compares text without regard to case or accents';
const NO_NULL_TEXT = 'Business Central text is never null: a city without a value is blank';

export const FILTER_CORPUS: Entry[] = [
  { filter: [{ field: 'name', op: 'eq', value: 'Alpha' }], matches: ['R1'], differs: { dataverse: { matches: ['R1', 'R2'], because: CASE_INSENSITIVE } } },
  { filter: [{ field: 'name', op: 'eq', value: 'gamma_ray' }], matches: [], differs: { dataverse: { matches: ['R5'], because: CASE_INSENSITIVE } } },
  { filter: [{ field: 'city', op: 'eq', value: 'Ålesund' }], matches: ['R6'] },
  {
    filter: [{ field: 'city', op: 'ne', value: 'Oslo' }],
    matches: ['R2', 'R3', 'R4', 'R5', 'R6'],
    differs: { dataverse: { matches: ['R3', 'R4', 'R5', 'R6'], because: CASE_INSENSITIVE } },
  },
  { filter: [{ field: 'score', op: 'eq', value: 10 }], matches: ['R1'] },
  { filter: [{ field: 'score', op: 'ne', value: 10 }], matches: ['R2', 'R3', 'R4', 'R5', 'R6'] },
  { filter: [{ field: 'score', op: 'gt', value: 10 }], matches: ['R2', 'R3'] },
  { filter: [{ field: 'score', op: 'gte', value: 10 }], matches: ['R1', 'R2', 'R3'] },
  { filter: [{ field: 'score', op: 'lt', value: 0 }], matches: ['R6'] },
  { filter: [{ field: 'score', op: 'lte', value: 5 }], matches: ['R4', 'R5', 'R6'] },
  { filter: [{ field: 'name', op: 'lt', value: 'B' }], matches: ['R1'], differs: { dataverse: { matches: ['R1', 'R2', 'R6'], because: CASE_INSENSITIVE } } },
  {
    filter: [{ field: 'name', op: 'gte', value: 'a' }],
    matches: ['R2', 'R6'],
    differs: { dataverse: { matches: ['R1', 'R2', 'R3', 'R4', 'R5', 'R6'], because: CASE_INSENSITIVE } },
  },
  {
    filter: [{ field: 'city', op: 'in', value: ['Oslo', 'Bergen'] }],
    matches: ['R1'],
    differs: { dataverse: { matches: ['R1', 'R2'], because: CASE_INSENSITIVE } },
  },
  { filter: [{ field: 'city', op: 'in', value: ['a_b'] }], matches: ['R5'] },
  {
    filter: [{ field: 'city', op: 'notIn', value: ['Oslo', 'a_b'] }],
    matches: ['R2', 'R3', 'R4', 'R6'],
    differs: { dataverse: { matches: ['R3', 'R4', 'R6'], because: CASE_INSENSITIVE } },
  },
  { filter: [{ field: 'score', op: 'in', value: [5, 30] }], matches: ['R3', 'R4'] },
  { filter: [{ field: 'score', op: 'notIn', value: [0, -1] }], matches: ['R1', 'R2', 'R3', 'R4'] },
  { filter: [{ field: 'city', op: 'contains', value: '%' }], matches: ['R4'] },
  { filter: [{ field: 'city', op: 'contains', value: '_' }], matches: ['R5'] },
  { filter: [{ field: 'name', op: 'contains', value: "'" }], matches: ['R4'] },
  {
    filter: [{ field: 'name', op: 'contains', value: 'alpha' }],
    matches: ['R2'],
    differs: { dataverse: { matches: ['R1', 'R2'], because: CASE_INSENSITIVE } },
  },
  {
    filter: [{ field: 'name', op: 'contains', value: 'a' }],
    matches: ['R1', 'R2', 'R3', 'R5'],
    differs: { dataverse: { matches: ['R1', 'R2', 'R3', 'R5', 'R6'], because: CASE_INSENSITIVE } },
  },
  {
    filter: [{ field: 'name', op: 'startsWith', value: 'Al' }],
    matches: ['R1'],
    differs: { dataverse: { matches: ['R1', 'R2', 'R6'], because: CASE_INSENSITIVE } },
  },
  { filter: [{ field: 'city', op: 'startsWith', value: '100%' }], matches: ['R4'] },
  { filter: [{ field: 'city', op: 'startsWith', value: '_' }], matches: [] },
  { filter: [{ field: 'city', op: 'isNull' }], matches: ['R3'], differs: { businessCentral: { matches: [], because: NO_NULL_TEXT } } },
  {
    filter: [{ field: 'city', op: 'isNotNull' }],
    matches: ['R1', 'R2', 'R4', 'R5', 'R6'],
    differs: { businessCentral: { matches: ['R1', 'R2', 'R3', 'R4', 'R5', 'R6'], because: NO_NULL_TEXT } },
  },
  { filter: [{ field: 'active', op: 'eq', value: true }], matches: ['R1', 'R3', 'R5'] },
  { filter: [{ field: 'active', op: 'ne', value: true }], matches: ['R2', 'R4', 'R6'] },
  { filter: [{ field: 'active', op: 'in', value: [false] }], matches: ['R2', 'R4', 'R6'] },
  {
    filter: [
      { field: 'score', op: 'gte', value: 10 },
      { field: 'name', op: 'contains', value: 'ph' },
    ],
    matches: ['R1', 'R2'],
  },
  {
    filter: [
      { field: 'active', op: 'eq', value: false },
      { field: 'city', op: 'ne', value: 'oslo' },
    ],
    matches: ['R4', 'R6'],
  },
];
