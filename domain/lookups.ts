/**
 * Lookup fields: a value that references a record of another mapping (a
 * contact's company, a customer's currency) means nothing on the other side
 * until it is carried across through that mapping's couplings. Pure: the
 * activity reads the couplings (one read per batch and lookup field) and
 * hands the translation in; this module applies it and words the problems.
 */
import type { Side } from '../common/types';
import type { FieldRule, LookupRule } from './field-plan';
import { fieldValue } from './field-plan';

/** A reference that could not be carried across: the record fails, or (Clear Value on Failed Sync) the reference is written empty. */
export interface LookupProblem {
  message: string;
  clear: boolean;
}

/** A rule that is a lookup, with its source column (lookups always have one). */
export type LookupFieldRule = FieldRule & { lookup: LookupRule; sourceField: string };

export function lookupRules(rules: readonly FieldRule[]): LookupFieldRule[] {
  return rules.filter((r): r is LookupFieldRule => r.lookup !== undefined && r.sourceField !== null);
}

const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** A reference as text; null when empty (an empty reference stays empty and is never a problem). */
export function referenceText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  // Business Central has no null GUID: an empty reference there is the all-zero GUID.
  if (typeof value === 'string') return value === '' || value === EMPTY_GUID ? null : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return null;
}

/** The distinct non-empty references these records hold in a field. */
export function referencesOf(records: readonly { values: Readonly<Record<string, unknown>> }[], field: string): string[] {
  const out = new Set<string>();
  for (const r of records) {
    const text = referenceText(fieldValue(r.values, field));
    if (text !== null) out.add(text);
  }
  return [...out];
}

export interface Referenced {
  /** Side the pass reads from. */
  sourceSide: Side;
  /** The referenced table on the source side, for messages ("bc.customers"). */
  sourceTable: string;
}

/** Why a reference could not be carried across, naming the field, the referenced record and the mapping. */
export function problemMessage(rule: LookupFieldRule, where: Referenced, reference: string, why: 'notFound' | 'notCoupled' | 'counterpartMissing'): string {
  const field = `Field "${rule.sourceField}" -> "${rule.destinationField}"`;
  const key = rule.lookup.sourceKey ? `with ${rule.lookup.sourceKey} ${JSON.stringify(reference)}` : reference;
  const record = `the ${where.sourceSide} record ${key} in ${where.sourceTable}`;
  switch (why) {
    case 'notFound':
      return `${field}: references ${record}, which does not exist.`;
    case 'notCoupled':
      return `${field}: ${record} it references is not coupled in mapping ${rule.lookup.mapping}; couple or synchronize it first.`;
    case 'counterpartMissing':
      return `${field}: ${record} it references is coupled in mapping ${rule.lookup.mapping} to a record that no longer exists.`;
  }
}

/**
 * The records with each lookup field's reference replaced by its counterpart's
 * (empty where it could not be carried across), and the problems per record id.
 * `translations` holds, per rule, reference -> counterpart reference, or the
 * reason there is none.
 */
export function applyLookups<R extends { id: string; values: Readonly<Record<string, unknown>> }>(
  records: readonly R[],
  rules: readonly LookupFieldRule[],
  translations: readonly ReadonlyMap<string, { value: string } | { problem: string }>[],
): { records: R[]; problems: Map<string, LookupProblem[]> } {
  const problems = new Map<string, LookupProblem[]>();
  const out = records.map((record) => {
    const values: Record<string, unknown> = { ...record.values };
    rules.forEach((rule, i) => {
      const reference = referenceText(fieldValue(record.values, rule.sourceField));
      if (reference === null) {
        values[rule.sourceField] = null;
        return;
      }
      const translated = translations[i].get(reference);
      if (translated && 'value' in translated) {
        values[rule.sourceField] = translated.value;
        return;
      }
      values[rule.sourceField] = null;
      const list = problems.get(record.id) ?? [];
      list.push({
        message: translated?.problem ?? `Field "${rule.sourceField}": reference ${reference} was not looked up.`,
        clear: rule.lookup.clearValueOnFailedSync,
      });
      problems.set(record.id, list);
    });
    return { ...record, values };
  });
  return { records: out, problems };
}

/** Decisions that carry a record's values across (or record them as carried): the ones a lookup problem matters to. */
const CARRIES_VALUES = new Set(['insert', 'restore', 'modify', 'unchanged']);

/**
 * What a record's lookup problems make of its decision: nothing (no problem, or
 * a decision that carries no values), a failure, or a warning when every
 * problem's field clears its value instead.
 */
export function lookupVerdict(problems: readonly LookupProblem[] | undefined, action: string): { fail: boolean; message: string } | null {
  if (!problems?.length || !CARRIES_VALUES.has(action)) return null;
  const failing = problems.filter((p) => !p.clear);
  const reported = failing.length > 0 ? failing : problems;
  return { fail: failing.length > 0, message: reported.map((p) => p.message).join(' ') };
}
