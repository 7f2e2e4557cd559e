/**
 * Which way a single-record sync ("Synchronize Now") goes, and the checks
 * that its record, and the pass's source record, exist within their filters.
 */
import { FAILURE_TYPES } from '../../common/constants';
import { type Side, type SyncDirection } from '../../common/types';
import { directionFrom, mappingAllows, sidesOf } from '../../domain/field-plan';
import { sideChanged } from '../../domain/sync-decision';
import { directionState } from '../../store/store';
import type { ActivityDeps } from '../deps';
import { connectorFor, loadMapping, loadPass } from '../pass-loader';
import { nonRetryable } from '../failure-policy';
import type { SingleDirection } from '../../common/protocol';

/**
 * The direction of a single-record sync: the one given; the mapping's when it
 * has one; for a coupled record of a bidirectional mapping the side that
 * changed (pending directions count); both -> the conflict rule's winner, or a
 * conflict the pass fails and marks skipped until the user chooses.
 */
export async function chooseDirection(
  deps: ActivityDeps,
  input: { mapping: string; recordId: string; side: Side; direction: SyncDirection | null },
): Promise<SingleDirection> {
  const mapping = await loadMapping(deps, input.mapping);
  const natural = directionFrom(input.side);
  if (input.direction && !mappingAllows(mapping, input.direction)) {
    throw nonRetryable(
      `Field "direction": mapping ${mapping.name} is ${mapping.direction} and cannot synchronize ${input.direction}.`,
      FAILURE_TYPES.invalidInput,
    );
  }
  const [coupling] = await deps.store.getCouplings(mapping.name, input.side, [input.recordId]);
  if (!coupling) {
    // Not coupled: create on the other side when the mapping allows that direction.
    if (input.direction && input.direction !== natural) {
      throw nonRetryable(
        `Field "direction": record ${input.recordId} (${input.side}) is not coupled, so it can only be sent ${natural}.`,
        FAILURE_TYPES.invalidInput,
      );
    }
    if (!mappingAllows(mapping, natural)) {
      throw nonRetryable(
        `Record ${input.recordId} is not coupled and mapping ${mapping.name} (${mapping.direction}) does not create records from the ${input.side} side.`,
        FAILURE_TYPES.invalidInput,
      );
    }
    return { direction: natural, sourceId: input.recordId, conflict: false };
  }
  const idOn = (side: Side): string => (side === 'local' ? coupling.localId : coupling.integrationId);
  if (input.direction) return { direction: input.direction, sourceId: idOn(sidesOf(input.direction).sourceSide), conflict: false };
  if (mapping.direction !== 'Bidirectional') return { direction: mapping.direction, sourceId: idOn(sidesOf(mapping.direction).sourceSide), conflict: false };
  // Only the two records' modified-on are read: no direction's field plan, since the natural one may map no field.
  const [[localRecord], [integrationRecord]] = await Promise.all([
    connectorFor(deps, mapping, mapping.local.system).getMany({ table: mapping.local.table, ids: [coupling.localId], fields: [] }),
    connectorFor(deps, mapping, mapping.integration.system).getMany({ table: mapping.integration.table, ids: [coupling.integrationId], fields: [] }),
  ]);
  // A side changed: its record differs from what was synced, or its direction still needs the record (failed or
  // pending; not while the coupling is skipped, which only a chosen direction lifts).
  const needs = (direction: SyncDirection): boolean => {
    const state = directionState(coupling, direction);
    return !coupling.skipped && (state.pending || state.result === 'Failure');
  };
  const localChanged = !!localRecord && sideChanged(localRecord.modifiedOn, coupling.lastSyncedLocalModifiedOn, needs('ToIntegrationTable'));
  const integrationChanged =
    !!integrationRecord && sideChanged(integrationRecord.modifiedOn, coupling.lastSyncedIntegrationModifiedOn, needs('FromIntegrationTable'));
  if (localChanged && integrationChanged) {
    if (mapping.updateConflictResolution === 'SendToIntegration') return { direction: 'ToIntegrationTable', sourceId: coupling.localId, conflict: false };
    if (mapping.updateConflictResolution === 'GetFromIntegration')
      return { direction: 'FromIntegrationTable', sourceId: coupling.integrationId, conflict: false };
    // Both changed and no rule says who wins: the pass fails the record and marks it skipped until the user chooses.
    return { direction: natural, sourceId: idOn(input.side), conflict: true };
  }
  if (integrationChanged) return { direction: 'FromIntegrationTable', sourceId: coupling.integrationId, conflict: false };
  if (localChanged) return { direction: 'ToIntegrationTable', sourceId: coupling.localId, conflict: false };
  return { direction: natural, sourceId: idOn(input.side), conflict: false };
}

/**
 * A single sync's record, and the pass's source record when that is its
 * counterpart, must exist and be within their table filters; otherwise the run
 * fails, non-retryable, naming the record, the table and the side.
 */
export async function requireSource(deps: ActivityDeps, mappingName: string, choice: SingleDirection, input: { recordId: string; side: Side }): Promise<void> {
  const pass = await loadPass(deps, mappingName, choice.direction);
  const { mapping, plan } = pass;
  const check = async (side: Side, id: string, which: string): Promise<void> => {
    const local = side === 'local';
    const connector = local ? pass.local : pass.integration;
    const table = local ? mapping.local.table : mapping.integration.table;
    const filter = local ? mapping.tableFilter : mapping.integrationTableFilter;
    const where = `${local ? mapping.local.system : mapping.integration.system}.${table} (${side} side)`;
    const [inside] = await connector.getMany({ table, ids: [id], fields: [], filter });
    if (inside) return;
    const [exists] = filter.length ? await connector.getMany({ table, ids: [id], fields: [] }) : [];
    if (exists)
      throw nonRetryable(
        `Record ${id}${which} in ${where} is outside the mapping's ${local ? 'table filter' : 'integration table filter'}, so it is not synchronized.`,
        FAILURE_TYPES.invalidInput,
      );
    throw nonRetryable(`Record ${id}${which} does not exist in ${where}.`, FAILURE_TYPES.invalidInput);
  };
  await check(input.side, input.recordId, '');
  if (choice.sourceId !== input.recordId || plan.sourceSide !== input.side) {
    await check(plan.sourceSide, choice.sourceId, ` (the counterpart of ${input.side} record ${input.recordId})`);
  }
}
