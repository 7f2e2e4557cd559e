/**
 * Which field values travel in a pass, and how: the enabled field mappings whose
 * direction is the pass's or Bidirectional, with their constants,
 * transformations and option mappings, and the templates of the records the
 * pass creates. Pure; unit-tested without Temporal.
 */
import type { Scalar, Side, SyncDirection } from '../common/types';
import type { IntegrationTableMapping, TransformationRule } from './mapping';
import { optionLookup, translateOption, UnmappedOptionError, type OptionLookup, type UnmappedOption } from './option-mapping';
import { checkTemplateColumns, checkTemplateKeyWrites, templateDefaults, templateSourceFields, templatesFor, type PassTemplate } from './templates';
import { applyTransformations, TransformationError } from './transform';
import { fieldValue, valuesEqual } from './values';

export { fieldValue, valuesEqual } from './values';

export interface FieldRule {
  /** Source column, or null when a constant is written. */
  sourceField: string | null;
  destinationField: string;
  constant: Scalar | undefined;
  transformation: readonly TransformationRule[] | undefined;
  /** The field's value pairs in the pass's direction, applied after the transformation. */
  options: OptionLookup | undefined;
  /** Bidirectional fields are the ones that can conflict. */
  bidirectional: boolean;
  /** A reference to a record of another mapping, carried across through its couplings (domain/lookups.ts). */
  lookup?: LookupRule;
}

/** A lookup as one pass sees it: the referenced mapping, and the column the reference holds on each side (null: the id). */
export interface LookupRule {
  mapping: string;
  sourceKey: string | null;
  destinationKey: string | null;
  clearValueOnFailedSync: boolean;
}

export interface FieldPlan {
  direction: SyncDirection;
  sourceSide: Side;
  destinationSide: Side;
  rules: FieldRule[];
  /** Source columns to read (the templates' filters' too). */
  sourceFields: string[];
  /** Destination columns to read, to diff and detect conflicts. */
  destinationFields: string[];
  /** Templates of the records this pass creates, in the order they are tried. */
  templates: PassTemplate[];
}

export class NoFieldsForDirectionError extends Error {
  override readonly name = 'NoFieldsForDirectionError';
}

export function sidesOf(direction: SyncDirection): { sourceSide: Side; destinationSide: Side } {
  return direction === 'ToIntegrationTable' ? { sourceSide: 'local', destinationSide: 'integration' } : { sourceSide: 'integration', destinationSide: 'local' };
}

export function directionFrom(sourceSide: Side): SyncDirection {
  return sourceSide === 'local' ? 'ToIntegrationTable' : 'FromIntegrationTable';
}

/** Directions a mapping synchronizes, in the order a run goes through them. */
export function passDirections(mapping: Pick<IntegrationTableMapping, 'direction'>, requested?: SyncDirection): SyncDirection[] {
  if (requested) return [requested];
  if (mapping.direction === 'Bidirectional') return ['ToIntegrationTable', 'FromIntegrationTable'];
  return [mapping.direction];
}

export function mappingAllows(mapping: Pick<IntegrationTableMapping, 'direction'>, direction: SyncDirection): boolean {
  return mapping.direction === 'Bidirectional' || mapping.direction === direction;
}

export function planFields(mapping: IntegrationTableMapping, direction: SyncDirection): FieldPlan {
  const { sourceSide, destinationSide } = sidesOf(direction);
  const rules: FieldRule[] = [];
  for (const [fieldIndex, field] of mapping.fields.entries()) {
    if (!field.enabled) continue;
    if (field.direction !== direction && field.direction !== 'Bidirectional') continue;
    const source = sourceSide === 'local' ? field.localField : field.integrationField;
    const destination = destinationSide === 'local' ? field.localField : field.integrationField;
    if (!destination) continue;
    if (!source && field.constantValue === undefined) continue;
    const transformationApplies =
      field.transformationDirection === undefined || field.transformationDirection === 'Bidirectional' || field.transformationDirection === direction;
    rules.push({
      sourceField: source ?? null,
      destinationField: destination,
      constant: source ? undefined : field.constantValue,
      transformation: transformationApplies ? field.transformation : undefined,
      options:
        field.optionMapping && source ? optionLookup({ mappingName: mapping.name, fieldIndex, optionMapping: field.optionMapping, direction }) : undefined,
      bidirectional: field.direction === 'Bidirectional' && mapping.direction === 'Bidirectional',
      ...(field.lookup && {
        lookup: {
          mapping: field.lookup.mapping,
          sourceKey: (sourceSide === 'local' ? field.lookup.localKey : field.lookup.integrationKey) ?? null,
          destinationKey: (destinationSide === 'local' ? field.lookup.localKey : field.lookup.integrationKey) ?? null,
          clearValueOnFailedSync: field.lookup.clearValueOnFailedSync,
        },
      }),
    });
  }
  if (rules.length === 0) {
    throw new NoFieldsForDirectionError(
      `Mapping ${mapping.name} has no enabled field mapping for direction ${direction}: enable a field whose direction is ${direction} or Bidirectional.`,
    );
  }
  const templates = templatesFor(mapping.templates, direction);
  return {
    direction,
    sourceSide,
    destinationSide,
    rules,
    sourceFields: [...new Set([...rules.flatMap((r) => (r.sourceField ? [r.sourceField] : [])), ...templateSourceFields(templates)])],
    destinationFields: [...new Set(rules.map((r) => r.destinationField))],
    templates,
  };
}

/**
 * The destination values a source record maps to. A value a rule cannot
 * transform, or an option value without a pair, throws TransformationError
 * naming the field; an unmapped option of a `collect` field is left out and
 * pushed to `unmapped`, for the caller to collect.
 */
export function mapValues(plan: FieldPlan, source: Record<string, unknown>, unmapped?: UnmappedOption[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const rule of plan.rules) {
    const raw = rule.sourceField ? fieldValue(source, rule.sourceField) : rule.constant;
    try {
      const value = applyTransformations(raw === undefined ? null : raw, rule.transformation);
      const option = rule.options ? translateOption(rule.options, value) : { mapped: true as const, value };
      if (option.mapped) out[rule.destinationField] = option.value;
      else if (rule.options?.unmapped === 'collect' && rule.sourceField) {
        unmapped?.push({ sourceSide: plan.sourceSide, sourceField: rule.sourceField, destinationField: rule.destinationField, value });
      } else if (rule.options) throw new UnmappedOptionError(rule.options, value);
    } catch (error) {
      if (error instanceof TransformationError) throw new TransformationError(`Field "${rule.sourceField}" -> "${rule.destinationField}": ${error.message}`);
      throw error;
    }
  }
  return out;
}

/** The values of a record the pass creates: its template's defaults, then the mapped values, which win. */
export function createValues(plan: FieldPlan, source: Record<string, unknown>, unmapped?: UnmappedOption[]): Record<string, unknown> {
  return { ...templateDefaults(plan.templates, source), ...mapValues(plan, source, unmapped) };
}

/** Only the values that differ from the destination's current ones. */
export function diffValues(mapped: Record<string, unknown>, current: Record<string, unknown> | null): Record<string, unknown> {
  if (!current) return { ...mapped };
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(mapped)) if (!valuesEqual(value, fieldValue(current, field))) changes[field] = value;
  return changes;
}

/** True when a bidirectional field would change: what makes "changed on both sides" a conflict. */
export function bidirectionalFieldWouldChange(plan: FieldPlan, changes: Record<string, unknown>): boolean {
  return plan.rules.some((r) => r.bidirectional && r.destinationField in changes);
}

/**
 * Fields that would write a destination's id or modified-on column: an update
 * would rewrite the primary key (the coupling then names a record that no
 * longer exists) or the change marker the engine compares. Reading them as a
 * source is fine. Null key columns (a connector that does not say) are not checked.
 */
export function checkKeyColumnWrites(
  mapping: IntegrationTableMapping,
  keys: { local: { id: string; modifiedOn: string } | null; integration: { id: string; modifiedOn: string } | null },
): string[] {
  const problems: string[] = [];
  const check = (i: number, side: 'local' | 'integration', field: string | undefined, writes: boolean): void => {
    const columns = keys[side];
    if (!columns || !field || !writes) return;
    const table = side === 'local' ? mapping.local.table : mapping.integration.table;
    const which = field === columns.id ? 'id' : field === columns.modifiedOn ? 'modified-on' : null;
    if (which) {
      problems.push(
        `Mapping ${mapping.name}: fields[${i}].${side === 'local' ? 'localField' : 'integrationField'} "${field}" is the ${which} column of ${table}, ` +
          'which only the system itself writes; map it onto another column or make it a source only',
      );
    }
  };
  mapping.fields.forEach((f, i) => {
    const toIntegration = mapping.direction !== 'FromIntegrationTable' && f.direction !== 'FromIntegrationTable';
    const toLocal = mapping.direction !== 'ToIntegrationTable' && f.direction !== 'ToIntegrationTable';
    check(i, 'integration', f.integrationField, toIntegration && (f.localField !== undefined || f.constantValue !== undefined));
    check(i, 'local', f.localField, toLocal && (f.integrationField !== undefined || f.constantValue !== undefined));
  });
  return [...problems, ...checkTemplateKeyWrites(mapping, keys)];
}

/** Problems of a mapping against the columns its tables really have, as sentences that name the field. */
export function checkMappingColumns(mapping: IntegrationTableMapping, localColumns: readonly string[], integrationColumns: readonly string[]): string[] {
  const problems: string[] = [];
  const local = new Set(localColumns);
  const integration = new Set(integrationColumns);
  mapping.fields.forEach((f, i) => {
    if (f.localField && !local.has(f.localField)) {
      problems.push(`Mapping ${mapping.name}: fields[${i}].localField "${f.localField}" is not a column of ${mapping.local.table}`);
    }
    if (f.integrationField && !integration.has(f.integrationField)) {
      problems.push(`Mapping ${mapping.name}: fields[${i}].integrationField "${f.integrationField}" is not a column of ${mapping.integration.table}`);
    }
  });
  for (const c of mapping.tableFilter) {
    if (!local.has(c.field)) problems.push(`Mapping ${mapping.name}: tableFilter field "${c.field}" is not a column of ${mapping.local.table}`);
  }
  for (const c of mapping.integrationTableFilter) {
    if (!integration.has(c.field)) {
      problems.push(`Mapping ${mapping.name}: integrationTableFilter field "${c.field}" is not a column of ${mapping.integration.table}`);
    }
  }
  return [...problems, ...checkTemplateColumns(mapping, { local: localColumns, integration: integrationColumns })];
}
