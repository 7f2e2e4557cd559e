/**
 * Carries lookup fields across a pass: per batch and lookup field, at most one
 * read of the referenced records by key (when the reference is a number or a
 * code, not an id), one coupling read, and one read of the counterparts' keys.
 * Never per record.
 */
import { FAILURE_TYPES } from '../../common/constants';
import type { Side } from '../../common/types';
import type { Connector, SourceRecord } from '../../connectors/connector';
import type { FieldPlan } from '../../domain/field-plan';
import { fieldValue } from '../../domain/field-plan';
import { applyLookups, lookupRules, problemMessage, referencesOf, referenceText, type LookupFieldRule, type LookupProblem } from '../../domain/lookups';
import type { StoredMapping } from '../../domain/mapping';
import type { ActivityDeps } from '../deps';
import { nonRetryable } from '../failure-policy';
import { connectorFor, loadMapping } from '../pass-loader';

export interface LookupOutcome<R extends SourceRecord = SourceRecord> {
  records: R[];
  /** Per source record id: the references that could not be carried across. */
  problems: Map<string, LookupProblem[]>;
}

export type LookupTranslator = <R extends SourceRecord>(records: readonly R[]) => Promise<LookupOutcome<R>>;

type Translation = Map<string, { value: string } | { problem: string }>;

function tableOf(mapping: StoredMapping, side: Side): { system: string; table: string } {
  return side === 'local' ? mapping.local : mapping.integration;
}

async function referencedMapping(deps: ActivityDeps, rule: LookupFieldRule): Promise<StoredMapping> {
  try {
    return await loadMapping(deps, rule.lookup.mapping);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw nonRetryable(
      `Field "${rule.sourceField}" -> "${rule.destinationField}": its lookup mapping ${rule.lookup.mapping} cannot be used: ${reason}`,
      FAILURE_TYPES.invalidMapping,
    );
  }
}

/** Source ids of the references: the references themselves, or the records found by their key column. */
async function sourceIds(connector: Connector, table: string, key: string | null, references: string[]): Promise<Map<string, string | null>> {
  if (!key) return new Map(references.map((r) => [r, r]));
  const found = await connector.findCandidates({
    table,
    fields: [key],
    filter: [],
    conditions: [{ field: key, values: references, caseSensitive: true }],
    limit: references.length * 2 + 10,
  });
  const byKey = new Map<string, string | null>(references.map((r) => [r, null]));
  // A superset may come back: only exact matches count.
  for (const record of found) {
    const text = referenceText(fieldValue(record.values, key));
    if (text !== null && byKey.has(text) && byKey.get(text) === null) byKey.set(text, record.id);
  }
  return byKey;
}

async function translate(deps: ActivityDeps, plan: FieldPlan, rule: LookupFieldRule, records: readonly SourceRecord[]): Promise<Translation> {
  const translation: Translation = new Map();
  const references = referencesOf(records, rule.sourceField);
  if (references.length === 0) return translation;
  const referenced = await referencedMapping(deps, rule);
  const source = tableOf(referenced, plan.sourceSide);
  const destination = tableOf(referenced, plan.destinationSide);
  const where = { sourceSide: plan.sourceSide, sourceTable: `${source.system}.${source.table}` };
  const ids = await sourceIds(connectorFor(deps, referenced, source.system), source.table, rule.lookup.sourceKey, references);
  const known = [...new Set([...ids.values()].filter((id): id is string => id !== null))];
  const couplings = known.length ? await deps.store.getCouplings(referenced.name, plan.sourceSide, known) : [];
  const counterpart = new Map(couplings.map((c) => (plan.sourceSide === 'local' ? [c.localId, c.integrationId] : [c.integrationId, c.localId])));
  let keys: Map<string, string | null> | null = null;
  if (rule.lookup.destinationKey && counterpart.size > 0) {
    const key = rule.lookup.destinationKey;
    const rows = await connectorFor(deps, referenced, destination.system).getMany({
      table: destination.table,
      ids: [...new Set(counterpart.values())],
      fields: [key],
    });
    keys = new Map(rows.map((r) => [r.id, referenceText(fieldValue(r.values, key))]));
  }
  for (const reference of references) {
    const id = ids.get(reference) ?? null;
    const other = id === null ? undefined : counterpart.get(id);
    const value = other === undefined ? undefined : keys ? keys.get(other) : other;
    if (id === null) translation.set(reference, { problem: problemMessage(rule, where, reference, 'notFound') });
    else if (other === undefined) translation.set(reference, { problem: problemMessage(rule, where, reference, 'notCoupled') });
    else if (value === undefined || value === null) translation.set(reference, { problem: problemMessage(rule, where, reference, 'counterpartMissing') });
    else translation.set(reference, { value });
  }
  return translation;
}

/** The pass's lookup translator; null when the plan has no lookup field. */
export function lookupTranslator(deps: ActivityDeps, plan: FieldPlan): LookupTranslator | null {
  const rules = lookupRules(plan.rules);
  if (rules.length === 0) return null;
  return async <R extends SourceRecord>(records: readonly R[]): Promise<LookupOutcome<R>> => {
    if (records.length === 0) return { records: [...records], problems: new Map() };
    const translations = await Promise.all(rules.map((rule) => translate(deps, plan, rule, records)));
    return applyLookups(records, rules, translations);
  };
}
