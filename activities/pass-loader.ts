/**
 * Loads and checks what a pass needs: the mapping, its field plan for the
 * direction and both connectors. Validation problems become non-retryable
 * failures whose message names the field. Checked mappings are cached briefly:
 * every batch needs them and they rarely change.
 */

import { FAILURE_TYPES } from '../common/constants';
import { checkFilter } from '../common/filter-grammar';
import type { SyncDirection } from '../common/types';
import type { Connector } from '../connectors/connector';
import { checkKeyColumnWrites, checkMappingColumns, mappingAllows, NoFieldsForDirectionError, planFields, type FieldPlan } from '../domain/field-plan';
import type { StoredMapping } from '../domain/mapping';
import { checkTransformations } from '../domain/transform';
import { UnknownMappingError } from '../store/store';
import type { ActivityDeps } from './deps';
import { nonRetryable } from './failure-policy';
import { MAPPING_CACHE_MS } from './defaults';

export interface LoadedPass {
  mapping: StoredMapping;
  plan: FieldPlan;
  source: Connector;
  destination: Connector;
  local: Connector;
  integration: Connector;
}

/**
 * The worker's connector for a system the mapping names. Only the systems'
 * own keys count: a name such as "constructor" or "__proto__" must not resolve
 * through the object prototype to something that is not a connector.
 */
export function connectorFor(deps: ActivityDeps, mapping: StoredMapping, system: string): Connector {
  const connector = Object.hasOwn(deps.systems, system) ? deps.systems[system] : undefined;
  if (!connector) {
    const field = system === mapping.local.system ? 'local.system' : 'integration.system';
    throw nonRetryable(
      `Mapping ${mapping.name}: ${field} "${system}" is not a system of this worker; its systems are: ${Object.keys(deps.systems).join(', ') || '(none)'}.`,
      FAILURE_TYPES.invalidMapping,
    );
  }
  return connector;
}

const cache = new WeakMap<ActivityDeps, Map<string, { at: number; mapping: Promise<StoredMapping> }>>();

/** The stored mapping, checked against its tables' columns. */
export async function loadMapping(deps: ActivityDeps, name: string): Promise<StoredMapping> {
  let perDeps = cache.get(deps);
  if (!perDeps) cache.set(deps, (perDeps = new Map()));
  const hit = perDeps.get(name);
  if (hit && Date.now() - hit.at < MAPPING_CACHE_MS) return hit.mapping;
  const loading = (async () => {
    let mapping: StoredMapping;
    try {
      mapping = await deps.store.requireMapping(name);
    } catch (error) {
      if (error instanceof UnknownMappingError) throw nonRetryable(error.message, FAILURE_TYPES.unknownMapping);
      throw error;
    }
    const local = connectorFor(deps, mapping, mapping.local.system);
    const integration = connectorFor(deps, mapping, mapping.integration.system);
    const [localColumns, integrationColumns] = await Promise.all([
      local.describeTable(mapping.local.table),
      integration.describeTable(mapping.integration.table),
    ]);
    const problems = checkMappingColumns(mapping, localColumns, integrationColumns);
    problems.push(
      ...checkKeyColumnWrites(mapping, {
        local: local.keyColumns?.(mapping.local.table) ?? null,
        integration: integration.keyColumns?.(mapping.integration.table) ?? null,
      }),
    );
    // Mappings stored before the filter grammar was enforced at save are held to it here.
    problems.push(
      ...[...checkFilter(mapping.tableFilter, 'tableFilter'), ...checkFilter(mapping.integrationTableFilter, 'integrationTableFilter')].map(
        (p) => `Mapping ${mapping.name}: ${p}`,
      ),
    );
    for (const [i, f] of mapping.fields.entries()) {
      const bad = checkTransformations(f.transformation);
      if (bad) problems.push(`Mapping ${mapping.name}: fields[${i}].transformation${bad}`);
    }
    if (problems.length > 0) throw nonRetryable(`${problems.slice(0, 5).join('; ')}.`, FAILURE_TYPES.invalidMapping);
    return mapping;
  })();
  perDeps.set(name, { at: Date.now(), mapping: loading });
  loading.catch(() => perDeps?.delete(name));
  return loading;
}

export async function loadPass(deps: ActivityDeps, name: string, direction: SyncDirection): Promise<LoadedPass> {
  const mapping = await loadMapping(deps, name);
  if (!mappingAllows(mapping, direction)) {
    throw nonRetryable(`Field "direction": mapping ${name} is ${mapping.direction} and cannot synchronize ${direction}.`, FAILURE_TYPES.invalidInput);
  }
  let plan: FieldPlan;
  try {
    plan = planFields(mapping, direction);
  } catch (error) {
    if (error instanceof NoFieldsForDirectionError) throw nonRetryable(error.message, FAILURE_TYPES.invalidMapping);
    throw error;
  }
  const local = connectorFor(deps, mapping, mapping.local.system);
  const integration = connectorFor(deps, mapping, mapping.integration.system);
  return {
    mapping,
    plan,
    local,
    integration,
    source: plan.sourceSide === 'local' ? local : integration,
    destination: plan.destinationSide === 'local' ? local : integration,
  };
}
