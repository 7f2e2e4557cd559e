/**
 * What to do with one source record in a pass: BC's change detection, update
 * conflicts and deletion conflicts, as one pure function. The engine gathers
 * the inputs in batches and carries the decisions out in batches.
 */
import type { SyncDirection, UpdateConflictResolution } from '../common/types';
import type { IntegrationTableMapping } from './mapping';
import { bidirectionalFieldWouldChange, diffValues, mapValues, type FieldPlan } from './field-plan';
import { isLater } from './modified-on';
import { TransformationError } from './transform';

export const MESSAGES = {
  conflict: 'The record was changed on both sides since the last synchronization; choose a direction or set an update-conflict resolution.',
  deletedCounterpart: 'The record is coupled to a deleted record; remove the coupling or restore the record (deletion-conflict resolution).',
} as const;

/** What the engine knows of a coupling when deciding. */
export interface CouplingState {
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  /** Last result in this pass's direction. */
  lastResult: 'Success' | 'Failure' | null;
  skipped: boolean;
}

export interface RecordState {
  id: string;
  modifiedOn: string;
  version?: string;
  values: Record<string, unknown>;
}

export interface DecisionOptions {
  /** Full synchronization: repair drift on records neither side changed. */
  force?: boolean;
  /** Process records whose coupling is skipped (the user retried them). */
  includeSkipped?: boolean;
  /** Create uncoupled records even when the mapping syncs only coupled ones (single-record sync). */
  createUncoupled?: boolean;
  /** Direction the user chose to win a conflict. */
  winner?: SyncDirection;
  /** Mark a conflicting record skipped at once instead of after two failures (single-record sync). */
  skipOnConflict?: boolean;
}

export type Decision =
  | { action: 'ignore' }
  | { action: 'skip' }
  | { action: 'insert'; values: Record<string, unknown> }
  | { action: 'modify'; changes: Record<string, unknown>; expectedVersion: string }
  | { action: 'unchanged'; touchCoupling: boolean }
  | { action: 'deferred' }
  | { action: 'fail'; message: string }
  | { action: 'uncouple' }
  | { action: 'restore'; values: Record<string, unknown> };

export interface DecisionInput {
  plan: FieldPlan;
  mapping: Pick<IntegrationTableMapping, 'direction' | 'syncOnlyCoupledRecords' | 'updateConflictResolution' | 'deletionConflictResolution'>;
  source: RecordState;
  /** Null when the source record is not coupled. */
  coupling: CouplingState | null;
  /** The coupled destination record; null when it no longer exists. Ignored when not coupled. */
  destination: RecordState | null;
  options?: DecisionOptions;
}

export function conflictWinner(resolution: UpdateConflictResolution): SyncDirection | null {
  if (resolution === 'SendToIntegration') return 'ToIntegrationTable';
  if (resolution === 'GetFromIntegration') return 'FromIntegrationTable';
  return null;
}

/** The decision for one record; a value a transformation rule cannot take fails that record, not the batch. */
export function decideRecord(input: DecisionInput): Decision {
  try {
    return decide(input);
  } catch (error) {
    if (error instanceof TransformationError) return { action: 'fail', message: error.message };
    throw error;
  }
}

function decide(input: DecisionInput): Decision {
  const { plan, mapping, source, coupling, destination } = input;
  const options = input.options ?? {};
  if (!coupling) {
    if (mapping.syncOnlyCoupledRecords && !options.createUncoupled) return { action: 'ignore' };
    return { action: 'insert', values: mapValues(plan, source.values) };
  }
  if (coupling.skipped && !options.includeSkipped) return { action: 'skip' };

  const sourceLast = plan.sourceSide === 'local' ? coupling.lastSyncedLocalModifiedOn : coupling.lastSyncedIntegrationModifiedOn;
  const destinationLast = plan.destinationSide === 'local' ? coupling.lastSyncedLocalModifiedOn : coupling.lastSyncedIntegrationModifiedOn;
  const sourceChanged = isLater(source.modifiedOn, sourceLast) || coupling.lastResult === 'Failure' || coupling.skipped;

  if (!destination) {
    if (!sourceChanged && !options.force) return { action: 'unchanged', touchCoupling: false };
    switch (mapping.deletionConflictResolution) {
      case 'RemoveCoupling': return { action: 'uncouple' };
      case 'RestoreRecords': return { action: 'restore', values: mapValues(plan, source.values) };
      default: return { action: 'fail', message: MESSAGES.deletedCounterpart };
    }
  }

  // Exact comparison with what we stored after our last write: any difference is a change there.
  const destinationChanged = destinationLast !== null && destination.modifiedOn !== destinationLast;
  const changes = diffValues(mapValues(plan, source.values), destination.values);
  const empty = Object.keys(changes).length === 0;
  const expectedVersion = destination.version ?? destination.modifiedOn;

  if (!sourceChanged) {
    if (options.force && !destinationChanged && !empty) return { action: 'modify', changes, expectedVersion };
    return { action: 'unchanged', touchCoupling: false };
  }
  if (destinationChanged && mapping.direction === 'Bidirectional' && bidirectionalFieldWouldChange(plan, changes)) {
    const winner = options.winner ?? conflictWinner(mapping.updateConflictResolution);
    if (winner === null) return { action: 'fail', message: MESSAGES.conflict };
    if (winner !== plan.direction) return { action: 'deferred' };
  }
  if (empty) {
    return { action: 'unchanged', touchCoupling: source.modifiedOn !== sourceLast || destination.modifiedOn !== destinationLast };
  }
  return { action: 'modify', changes, expectedVersion };
}

/** A record that fails twice in a row with the same error becomes skipped. */
export function nextFailureState(previous: { failureCount: number; lastErrorMessage: string | null } | null, message: string): { failureCount: number; skipped: boolean } {
  const failureCount = previous && previous.lastErrorMessage === message ? previous.failureCount + 1 : 1;
  return { failureCount, skipped: failureCount >= 2 };
}
