/**
 * Integration table mappings and field mappings: the definition a team writes
 * in code or JSON, validated with zod before it is stored.
 */
import { z } from 'zod';
import { filterSchema } from '../common/inputs';
import { DELETION_CONFLICT_RESOLUTIONS, MAPPING_DIRECTIONS, SOURCE_DELETIONS, UPDATE_CONFLICT_RESOLUTIONS } from '../common/types';
import { optionMappingProblems, optionMappingSchema } from './option-mapping';
import { constant, identifier } from './schema-parts';
import { MAX_PATTERN_LENGTH } from './regex';
import { templateProblems, templateSchema, MAX_TEMPLATES } from './templates';
import { checkTransformation, MAX_TRANSFORM_LENGTH } from './transform';

/** Longest find text or replacement a rule may hold. @default 1000 */
export const MAX_RULE_TEXT = 1000;
export { MAX_CONSTANT_TEXT } from './schema-parts';
/** Most mappings one mapping may depend on. @default 50 */
export const MAX_DEPENDS_ON = 50;

export const transformationRuleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('trim') }),
  z.strictObject({ type: z.literal('uppercase') }),
  z.strictObject({ type: z.literal('lowercase') }),
  z.strictObject({ type: z.literal('titleCase') }),
  z.strictObject({ type: z.literal('replace'), find: z.string().min(1).max(MAX_RULE_TEXT), replaceWith: z.string().max(MAX_RULE_TEXT) }),
  z
    .strictObject({
      type: z.literal('regexReplace'),
      pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
      flags: z
        .string()
        .regex(/^[gimsuy]*$/)
        .optional(),
      replaceWith: z.string().max(MAX_RULE_TEXT),
    })
    // Compiled here, on the engine it runs on, so a pattern that cannot run is refused when the mapping is saved.
    .superRefine((rule, ctx) => {
      const problem = checkTransformation(rule);
      if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    }),
  z.strictObject({ type: z.literal('truncate'), length: z.number().int().min(0).max(MAX_TRANSFORM_LENGTH) }),
]);
export type TransformationRule = z.infer<typeof transformationRuleSchema>;

const mappingName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be a mapping name (letters, digits, "_", "." and "-")');

/**
 * A field whose value references a record of another mapping (or of this one): the engine carries the
 * reference across through that mapping's couplings. A side's key is the referenced table's column the
 * reference holds (a BC number or code); the record's id when absent.
 */
export const lookupSchema = z.strictObject({
  mapping: mappingName,
  localKey: identifier.optional(),
  integrationKey: identifier.optional(),
  /** BC's "Clear Value on Failed Sync": a reference to an uncoupled record is written empty (with a warning row) instead of failing the record. */
  clearValueOnFailedSync: z.boolean().default(false),
});
export type Lookup = z.output<typeof lookupSchema>;

export const fieldMappingSchema = z
  .strictObject({
    /** Column on the local table; absent when a constant is written to the integration side. */
    localField: identifier.optional(),
    /** Column on the integration table; absent when a constant is written to the local side. */
    integrationField: identifier.optional(),
    direction: z.enum(MAPPING_DIRECTIONS).default('Bidirectional'),
    /** Written when there is no source field. */
    constantValue: constant.optional(),
    enabled: z.boolean().default(true),
    /** Rules applied in order to the value on its way to the destination. */
    transformation: z.array(transformationRuleSchema).max(20).optional(),
    /** Direction the transformation applies in; both when absent. */
    transformationDirection: z.enum(MAPPING_DIRECTIONS).optional(),
    useForMatching: z.boolean().default(false),
    caseSensitiveMatching: z.boolean().default(false),
    matchPriority: z.number().int().min(0).max(1000).default(0),
    lookup: lookupSchema.optional(),
    /** Value pairs the field's values are translated through, in both directions (BC's "CRM Option Mapping"). */
    optionMapping: optionMappingSchema.optional(),
  })
  .refine((f) => f.localField !== undefined || f.integrationField !== undefined, {
    message: 'a field mapping needs localField, integrationField or both',
  })
  .superRefine((f, ctx) => {
    if (f.lookup) {
      // A reference is an id of one system: a constant, a rule or a match on it would mean nothing on the other side.
      if (f.localField === undefined || f.integrationField === undefined)
        ctx.addIssue({ code: 'custom', path: ['lookup'], message: 'a lookup field needs both localField and integrationField' });
      if (f.constantValue !== undefined) ctx.addIssue({ code: 'custom', path: ['constantValue'], message: 'a lookup field cannot have a constant value' });
      if (f.transformation?.length) ctx.addIssue({ code: 'custom', path: ['transformation'], message: 'a lookup field cannot be transformed' });
      if (f.useForMatching) ctx.addIssue({ code: 'custom', path: ['useForMatching'], message: 'a lookup field cannot be used for matching' });
    }
    if (f.lookup && f.optionMapping) ctx.addIssue({ code: 'custom', path: ['optionMapping'], message: 'a lookup field cannot have an option mapping' });
    if (f.optionMapping) for (const message of optionMappingProblems(f)) ctx.addIssue({ code: 'custom', path: ['optionMapping'], message });
  });
export type FieldMapping = z.output<typeof fieldMappingSchema>;
export type FieldMappingDefinition = z.input<typeof fieldMappingSchema>;

const tableRef = z.strictObject({ system: z.string().min(1).max(100), table: identifier });

export const mappingDefinitionSchema = z
  .strictObject({
    name: mappingName,
    local: tableRef,
    integration: tableRef,
    direction: z.enum(MAPPING_DIRECTIONS),
    syncOnlyCoupledRecords: z.boolean().default(true),
    tableFilter: filterSchema.default([]),
    integrationTableFilter: filterSchema.default([]),
    updateConflictResolution: z.enum(UPDATE_CONFLICT_RESOLUTIONS).default('None'),
    deletionConflictResolution: z.enum(DELETION_CONFLICT_RESOLUTIONS).default('None'),
    /** A coupled record deleted on a pass's source side: keep the counterpart and coupling (BC's behaviour), remove the coupling, or delete the counterpart. */
    sourceDeletion: z.enum(SOURCE_DELETIONS).default('KeepCoupling'),
    createNewIfNoMatch: z.boolean().default(false),
    syncAfterBulkCoupling: z.boolean().default(false),
    dependsOn: z.array(mappingName).max(MAX_DEPENDS_ON, `at most ${MAX_DEPENDS_ON} mappings`).default([]),
    fields: z.array(fieldMappingSchema).min(1, 'a mapping needs at least one field mapping').max(500),
    /** Default values of the records a pass creates, per direction, chosen by filter and priority (BC's "Table Config Template"). */
    templates: z.array(templateSchema).max(MAX_TEMPLATES).default([]),
  })
  .superRefine((mapping, ctx) => {
    // A lookup replaces its source column's value with the counterpart's reference: the column cannot also travel as it is.
    mapping.fields.forEach((f, i) => {
      if (!f.lookup) return;
      mapping.fields.forEach((other, j) => {
        if (j === i || !other.enabled) return;
        const side = other.localField === f.localField ? 'localField' : other.integrationField === f.integrationField ? 'integrationField' : null;
        if (side)
          ctx.addIssue({ code: 'custom', path: ['fields', j, side], message: `${other[side]} is the lookup of fields[${i}] and cannot be mapped again` });
      });
    });
    for (const problem of templateProblems(mapping)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    mapping.dependsOn.forEach((name, i) => {
      if (name === mapping.name) ctx.addIssue({ code: 'custom', path: ['dependsOn', i], message: `a mapping cannot depend on itself (${name})` });
      else if (mapping.dependsOn.indexOf(name) < i) ctx.addIssue({ code: 'custom', path: ['dependsOn', i], message: `names ${name} twice` });
    });
  });
export type IntegrationTableMapping = z.output<typeof mappingDefinitionSchema>;
export type MappingDefinition = z.input<typeof mappingDefinitionSchema>;

/** A stored mapping with its watermarks. */
export interface StoredMapping extends IntegrationTableMapping {
  localWatermark: string | null;
  integrationWatermark: string | null;
}

export class InvalidMappingError extends Error {
  override readonly name = 'InvalidMappingError';
}

/** A zod path as the messages spell it: fields[2].transformation[0].pattern. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

export function parseMappingDefinition(definition: unknown): IntegrationTableMapping {
  const parsed = mappingDefinitionSchema.safeParse(definition);
  if (parsed.success) return parsed.data;
  const name = (definition as { name?: unknown } | null)?.name;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${fieldPath(i.path) || '(mapping)'}: ${i.message}`)
    .join('; ');
  throw new InvalidMappingError(`Mapping ${typeof name === 'string' ? name : '(unnamed)'} is invalid: ${problems}.`);
}

/**
 * The mappings this one must follow: those it names in dependsOn and those its
 * lookups reference (a contact's company must be coupled before the contact
 * can carry it). A lookup into its own mapping is not a dependency.
 */
export function mappingDependencies(mapping: Pick<IntegrationTableMapping, 'name' | 'dependsOn' | 'fields'>): string[] {
  const lookups = mapping.fields.flatMap((f) => (f.enabled && f.lookup && f.lookup.mapping !== mapping.name ? [f.lookup.mapping] : []));
  return [...new Set([...mapping.dependsOn, ...lookups])];
}
