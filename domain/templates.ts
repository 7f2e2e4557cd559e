/**
 * Templates for created records (BC's "Table Config Template"): per
 * direction, default values for the records a pass creates (new ones,
 * restored ones, and match-based coupling's create-new), chosen by a filter on
 * the source record and a priority, lowest number first. The mapped values
 * win: a template only fills the columns the pass does not write. Pure.
 */
import { z } from 'zod';
import { filterSchema } from '../common/inputs';
import { SYNC_DIRECTIONS, type FilterCondition, type Scalar, type SyncDirection } from '../common/types';
import type { IntegrationTableMapping } from './mapping';
import { filterFieldsOf, recordMatchesFilter } from './record-filter';
import { constant, identifier } from './schema-parts';

/** Most templates one mapping holds. @default 50 */
export const MAX_TEMPLATES = 50;
/** Most columns one template sets. @default 200 */
export const MAX_TEMPLATE_VALUES = 200;

export const templateSchema = z.strictObject({
  /** The pass whose created records get these values. */
  direction: z.enum(SYNC_DIRECTIONS),
  /** Lowest first: the first template whose filter matches the source record is the one used. */
  priority: z.number().int().min(0).max(1000).default(0),
  /** On the source record, in the table filters' grammar; empty matches every record. */
  filter: filterSchema.default([]),
  /** Destination column -> value. */
  values: z
    .record(
      // zod would drop a "__proto__" key without a word: refused instead.
      identifier.refine((k) => k !== '__proto__', 'is not a column name'),
      constant,
    )
    .refine((v) => Object.keys(v).length > 0, 'a template sets at least one column')
    .refine((v) => Object.keys(v).length <= MAX_TEMPLATE_VALUES, `a template sets at most ${MAX_TEMPLATE_VALUES} columns`),
});
export type Template = z.output<typeof templateSchema>;

/** A template of one pass, in the order templates are tried. */
export interface PassTemplate {
  /** Position in the mapping's templates, for messages. */
  index: number;
  priority: number;
  filter: readonly FilterCondition[];
  values: Readonly<Record<string, Scalar>>;
}

/** The templates of a direction, lowest priority first. */
export function templatesFor(templates: readonly Template[], direction: SyncDirection): PassTemplate[] {
  return templates
    .map((t, index) => ({ index, priority: t.priority, filter: t.filter, values: t.values, direction: t.direction }))
    .filter((t) => t.direction === direction)
    .sort((a, b) => a.priority - b.priority)
    .map(({ direction: _direction, ...t }) => t);
}

/** Source fields the templates' filters read: a pass reads them with the mapped ones. */
export function templateSourceFields(templates: readonly PassTemplate[]): string[] {
  return filterFieldsOf(templates.flatMap((t) => t.filter));
}

/** The default values a created record gets: the first template whose filter matches its source values; none -> no defaults. */
export function templateDefaults(templates: readonly PassTemplate[], source: Readonly<Record<string, unknown>>): Record<string, Scalar> {
  const chosen = templates.find((t) => recordMatchesFilter(source, t.filter));
  return chosen ? { ...chosen.values } : {};
}

/** Problems of a mapping's templates that need no table: a direction the mapping never runs, two templates tried in no defined order. */
export function templateProblems(
  mapping: Pick<IntegrationTableMapping, 'name' | 'direction'> & { templates: readonly Template[] },
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const seen = new Map<string, number>();
  mapping.templates.forEach((t, i) => {
    if (mapping.direction !== 'Bidirectional' && mapping.direction !== t.direction) {
      problems.push({
        path: ['templates', i, 'direction'],
        message: `mapping ${mapping.name} is ${mapping.direction}, so a ${t.direction} template would never be used`,
      });
    }
    const key = `${t.direction}:${t.priority}`;
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, i);
    else
      problems.push({
        path: ['templates', i, 'priority'],
        message: `templates[${earlier}] has the same direction and priority ${t.priority}; give each template of a direction its own priority`,
      });
  });
  return problems;
}

type TableSide = 'local' | 'integration';
const sidesOf = (direction: SyncDirection): { source: TableSide; destination: TableSide } =>
  direction === 'ToIntegrationTable' ? { source: 'local', destination: 'integration' } : { source: 'integration', destination: 'local' };

/** Template columns that are not columns of the destination table, and filter fields that are not columns of the source table. */
export function checkTemplateColumns(mapping: IntegrationTableMapping, columns: Record<TableSide, readonly string[]>): string[] {
  const problems: string[] = [];
  const sets = { local: new Set(columns.local), integration: new Set(columns.integration) };
  mapping.templates.forEach((t, i) => {
    const { source, destination } = sidesOf(t.direction);
    for (const column of Object.keys(t.values)) {
      if (!sets[destination].has(column)) {
        problems.push(`Mapping ${mapping.name}: templates[${i}].values.${column} "${column}" is not a column of ${mapping[destination].table}`);
      }
    }
    t.filter.forEach((c, j) => {
      if (!sets[source].has(c.field)) {
        problems.push(`Mapping ${mapping.name}: templates[${i}].filter[${j}].field "${c.field}" is not a column of ${mapping[source].table}`);
      }
    });
  });
  return problems;
}

/** Template columns that are the destination's id or modified-on column, which only the system itself writes. */
export function checkTemplateKeyWrites(mapping: IntegrationTableMapping, keys: Record<TableSide, { id: string; modifiedOn: string } | null>): string[] {
  const problems: string[] = [];
  mapping.templates.forEach((t, i) => {
    const { destination } = sidesOf(t.direction);
    const columns = keys[destination];
    if (!columns) return;
    for (const column of Object.keys(t.values)) {
      const which = column === columns.id ? 'id' : column === columns.modifiedOn ? 'modified-on' : null;
      if (which) {
        problems.push(
          `Mapping ${mapping.name}: templates[${i}].values.${column} is the ${which} column of ${mapping[destination].table}, which only the system itself writes; remove it from the template`,
        );
      }
    }
  });
  return problems;
}
