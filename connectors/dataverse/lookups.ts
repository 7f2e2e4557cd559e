/**
 * Dataverse lookups as a mapping sees them: one column holding the referenced
 * record's GUID. The Web API reads it as `_<lookup>_value` and writes it only
 * through the navigation property, `<navigation>@odata.bind: "/<entityset>(<guid>)"`
 * (null disassociates); this module translates both ways.
 */
import { isGuid } from '../odata/literals';
import type { DataverseTableOptions } from './options';

/** A lookup of a table: the single-valued navigation property to bind and the entity set it points to. */
export interface DataverseLookup {
  navigationProperty: string;
  entitySet: string;
}

export function lookupOf(config: DataverseTableOptions, field: string): DataverseLookup | undefined {
  return config.lookups && Object.hasOwn(config.lookups, field) ? config.lookups[field] : undefined;
}

/** The attribute the Web API reads a column as. */
export function readName(config: DataverseTableOptions, field: string): string {
  return lookupOf(config, field) ? `_${field}_value` : field;
}

/** The column a read attribute is, for a lookup's `_<lookup>_value`. */
export function columnOf(config: DataverseTableOptions, attribute: string): string {
  const m = /^_(.+)_value$/.exec(attribute);
  return m && lookupOf(config, m[1]) ? m[1] : attribute;
}

/** Values as the Web API takes them: lookups bound through their navigation property. Null when a reference is not a GUID. */
export function writeValues(config: DataverseTableOptions, values: Record<string, unknown>): { body: Record<string, unknown> } | { problem: string } {
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    const lookup = lookupOf(config, field);
    if (!lookup) {
      body[field] = value;
      continue;
    }
    if (value === null || value === undefined || value === '') {
      body[`${lookup.navigationProperty}@odata.bind`] = null;
      continue;
    }
    if (typeof value !== 'string' || !isGuid(value))
      return { problem: `lookup ${field}: ${JSON.stringify(value)} is not the GUID of a ${lookup.entitySet} record` };
    body[`${lookup.navigationProperty}@odata.bind`] = `/${lookup.entitySet}(${value.toLowerCase()})`;
  }
  return { body };
}
