/**
 * Option mappings (BC's "CRM Option Mapping"): per field, a table of value
 * pairs, e.g. BC payment terms code NET30 <-> Dataverse option 100000001,
 * used in both directions. Values compare as valuesEqual does (12 = "12",
 * 1 = true), so an option value a connector reads as text still maps. Pure;
 * field-plan.ts applies a lookup after the field's transformations.
 */
import { z } from 'zod';
import type { Side, SyncDirection } from '../common/types';
import type { IntegrationTableMapping } from './mapping';
import { TransformationError } from './transform';

/** Most pairs one field's option mapping holds. @default 1000 */
export const MAX_OPTION_PAIRS = 1000;
/** Longest text value a pair holds (BC codes are 20 characters, Dataverse options numbers). @default 250 */
export const MAX_OPTION_TEXT = 250;

export type OptionValue = string | number | boolean;

/** A blank is no option: it stays blank, so a pair cannot claim it. */
const optionValue = z.union([
  z
    .string()
    .min(1)
    .max(MAX_OPTION_TEXT)
    .refine((t) => !t.includes('\u0000'), 'must not contain a NUL character (\\u0000)'),
  z.number().finite(),
  z.boolean(),
]);

/**
 * The key a value is looked up by: what valuesEqual treats as equal gets one
 * key (12 and "12"; true, 1 and "1").
 */
export function optionKey(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export const optionMappingSchema = z
  .strictObject({
    pairs: z
      .array(z.strictObject({ local: optionValue, integration: optionValue }))
      .min(1)
      .max(MAX_OPTION_PAIRS),
    /** An unmapped value fails the record (`fail`), or is left out of the write and collected for an administrator (`collect`). */
    unmapped: z.enum(['fail', 'collect']).default('fail'),
  })
  // Each value maps to one option in each direction: a second pair with the same value would make the direction ambiguous.
  .superRefine((mapping, ctx) => {
    for (const side of ['local', 'integration'] as const) {
      const first = new Map<string, number>();
      mapping.pairs.forEach((pair, i) => {
        const key = optionKey(pair[side]);
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, i);
        else ctx.addIssue({ code: 'custom', path: ['pairs', i, side], message: `${JSON.stringify(key)} is also pairs[${earlier}].${side}` });
      });
    }
  });
export type OptionMapping = z.output<typeof optionMappingSchema>;

/** A field's pairs in one pass direction. */
export interface OptionLookup {
  /** Source value's key -> the destination value. */
  readonly values: ReadonlyMap<string, OptionValue>;
  readonly unmapped: OptionMapping['unmapped'];
  readonly mappingName: string;
  /** Position of the field mapping, for messages that say where to add a pair. */
  readonly fieldIndex: number;
}

export function optionLookup(input: { mappingName: string; fieldIndex: number; optionMapping: OptionMapping; direction: SyncDirection }): OptionLookup {
  const toIntegration = input.direction === 'ToIntegrationTable';
  const values = new Map<string, OptionValue>();
  for (const pair of input.optionMapping.pairs)
    values.set(optionKey(toIntegration ? pair.local : pair.integration), toIntegration ? pair.integration : pair.local);
  return { values, unmapped: input.optionMapping.unmapped, mappingName: input.mappingName, fieldIndex: input.fieldIndex };
}

/** What became of a value: its option, or no pair for it. Null and blank are no option and stay as they are. */
export type OptionResult = { mapped: true; value: unknown } | { mapped: false };

export function translateOption(lookup: OptionLookup, value: unknown): OptionResult {
  if (value === null || value === undefined || value === '') return { mapped: true, value: value ?? null };
  const found = lookup.values.get(optionKey(value));
  return found === undefined ? { mapped: false } : { mapped: true, value: found };
}

/** A value as a message or the unmapped list shows it: text quoted, so "12" and 12 read differently; long text cut. */
export function describeOptionValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value) : optionKey(value);
}

/** An unmapped value of a `fail` field: the record fails with this message (a TransformationError, so the batch goes on). */
export class UnmappedOptionError extends TransformationError {
  constructor(lookup: OptionLookup, value: unknown) {
    const at = `fields[${lookup.fieldIndex}].optionMapping`;
    super(
      `value ${describeOptionValue(value)} has no option mapping in mapping ${lookup.mappingName}; add a pair for it to ${at}.pairs, or set ${at}.unmapped to "collect"`,
    );
  }
}

/** An unmapped value a `collect` field left out of a record's write, for the list of unmapped values. */
export interface UnmappedOption {
  /** The side the value was read from, and its column there. */
  sourceSide: Side;
  sourceField: string;
  destinationField: string;
  value: unknown;
}

/** Problems an option mapping has in its field mapping (beyond its own schema), as messages for `fields[i].optionMapping`. */
export function optionMappingProblems(field: { localField?: string; integrationField?: string; constantValue?: unknown; useForMatching: boolean }): string[] {
  const problems: string[] = [];
  if (!field.localField || !field.integrationField || field.constantValue !== undefined) {
    problems.push('an option mapping translates a value between two columns, so it needs both localField and integrationField and no constantValue');
  }
  // Matching compares values as they are on both sides; an option-mapped field has different values on each.
  if (field.useForMatching) problems.push('an option-mapped field cannot be used for matching; match on a field whose values are the same on both sides');
  return problems;
}

/**
 * Whether a collected value is still one the mapping cannot map: false once a
 * pair covers it, or once its field has no option mapping any more.
 */
export function isStillUnmapped(mapping: Pick<IntegrationTableMapping, 'fields'>, entry: { side: Side; field: string; valueKey: string }): boolean {
  const field = mapping.fields.find((f) => f.enabled && f.optionMapping && (entry.side === 'local' ? f.localField : f.integrationField) === entry.field);
  if (!field?.optionMapping) return false;
  return !field.optionMapping.pairs.some((pair) => optionKey(pair[entry.side]) === entry.valueKey);
}
