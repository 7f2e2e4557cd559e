/**
 * What to do with one source record in a pass: BC's change detection, update
 * conflicts and deletion conflicts, and what this project adds (pending
 * directions, source deletions), as pure functions. The engine gathers the
 * inputs in batches and carries the decisions out in batches. docs/SEMANTICS.md
 * states the rules for administrators.
 */
import type { Side, SourceDeletion, SyncDirection, UpdateConflictResolution } from '../common/types';
import type { IntegrationTableMapping } from './mapping';
import { bidirectionalFieldWouldChange, createValues, diffValues, mapValues, type FieldPlan } from './field-plan';
import type { UnmappedOption } from './option-mapping';
import { TransformationError } from './transform';

export const MESSAGES = {
  conflict: 'The record was changed on both sides since the last synchronization; choose a direction or set an update-conflict resolution.',
  deletedCounterpart: 'The record is coupled to a deleted record; remove the coupling or restore the record (deletion-conflict resolution).',
  sourceDeleted: (side: Side, counterpartId: string): string =>
    `The ${side} record no longer exists; its coupling to ${counterpartId} is kept (source deletion rule KeepCoupling): uncouple it, or set sourceDeletion to RemoveCoupling or DeleteCounterpart.`,
  counterpartChanged: (side: Side, counterpartId: string): string =>
    `The ${side} record no longer exists, but its counterpart changed since the last synchronization, so ${counterpartId} was not deleted: delete or uncouple it by hand.`,
  createTargetCoupled: (side: Side, key: string, mapping: string, owner: string): string =>
    `The ${side} record ${key} this record's create would write is already coupled in mapping ${mapping} to ${owner}; uncouple it first.`,
} as const;

/** What the engine knows of a coupling when deciding, in the pass's direction. */
export interface CouplingState {
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  /** Last result in this pass's direction. */
  lastResult: 'Success' | 'Failure' | null;
  /** This direction has a change to carry. */
  pending: boolean;
  /** The other direction has a change to carry. */
  pendingOther: boolean;
  skipped: boolean;
}

export interface RecordState {
  id: string;
  modifiedOn: string;
  version?: string;
  values: Record<string, unknown>;
}

export interface DecisionOptions {
  /** Full synchronization (and single-record sync): repair drift on records neither side changed. */
  force?: boolean;
  /** Process records whose coupling is skipped (the user retried them). */
  includeSkipped?: boolean;
  /** Create uncoupled records even when the mapping syncs only coupled ones (single-record sync). */
  createUncoupled?: boolean;
  /** Direction the user chose to win a conflict. */
  winner?: SyncDirection;
  /** Mark a conflicting record skipped at once instead of after two failures (single-record sync). */
  skipOnConflict?: boolean;
  /** Create a deleted counterpart again, whatever the mapping's deletion-conflict resolution (the console's Restore record). */
  restoreDeleted?: boolean;
}

export type Decision =
  | { action: 'ignore' }
  | { action: 'skip' }
  | { action: 'insert'; values: Record<string, unknown> }
  /** `otherPending`: the destination had changed, so the other direction may still have something to carry. */
  | { action: 'modify'; changes: Record<string, unknown>; expectedVersion: string; otherPending: boolean }
  /** `record`: store both current modified-on values as synced (the source had changed, the values agree). */
  | { action: 'unchanged'; record: boolean; otherPending: boolean }
  /** The conflict's winner is the other direction: it carries the record, this pass writes nothing. */
  | { action: 'deferred' }
  | { action: 'fail'; message: string }
  | { action: 'uncouple' }
  | { action: 'restore'; values: Record<string, unknown> }
  | { action: 'deleteCounterpart' };

type MappingRules = Pick<IntegrationTableMapping, 'direction' | 'syncOnlyCoupledRecords' | 'updateConflictResolution' | 'deletionConflictResolution'>;

export interface DecisionInput {
  plan: FieldPlan;
  mapping: MappingRules;
  source: RecordState;
  /** Null when the source record is not coupled. */
  coupling: CouplingState | null;
  /** The coupled destination record; null when it no longer exists. Ignored when not coupled. */
  destination: RecordState | null;
  /** For an uncoupled source: its failed create, if one is remembered (retried even when the mapping syncs only coupled records). */
  uncoupledFailure?: { skipped: boolean };
  options?: DecisionOptions;
  /** Where the unmapped options of `collect` fields go, left out of the values (the engine collects them per batch). */
  unmapped?: UnmappedOption[];
}

export function conflictWinner(resolution: UpdateConflictResolution): SyncDirection | null {
  if (resolution === 'SendToIntegration') return 'ToIntegrationTable';
  if (resolution === 'GetFromIntegration') return 'FromIntegrationTable';
  return null;
}

function lastSyncedOf(coupling: CouplingState, side: Side): string | null {
  return side === 'local' ? coupling.lastSyncedLocalModifiedOn : coupling.lastSyncedIntegrationModifiedOn;
}

/**
 * A side changed since the last sync: its modified-on differs from the one
 * stored (any difference, so a clock set back still counts), nothing was ever
 * stored, or its direction still has a change to carry.
 */
export function sideChanged(modifiedOn: string, lastSynced: string | null, pending: boolean): boolean {
  return pending || lastSynced === null || modifiedOn !== lastSynced;
}

/** The destination of a pass changed since the last sync (the other direction's pending flag counts). */
export function destinationChanged(plan: FieldPlan, coupling: CouplingState, destination: RecordState): boolean {
  return sideChanged(destination.modifiedOn, lastSyncedOf(coupling, plan.destinationSide), coupling.pendingOther);
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
    // A failed create is only there because a run was asked to create the record: it is retried until created or skipped.
    if (mapping.syncOnlyCoupledRecords && !options.createUncoupled && !input.uncoupledFailure) return { action: 'ignore' };
    if (input.uncoupledFailure?.skipped && !options.includeSkipped) return { action: 'skip' };
    return { action: 'insert', values: createValues(plan, source.values, input.unmapped) };
  }
  if (coupling.skipped && !options.includeSkipped) return { action: 'skip' };

  const sourceChanged =
    coupling.lastResult === 'Failure' || coupling.skipped || sideChanged(source.modifiedOn, lastSyncedOf(coupling, plan.sourceSide), coupling.pending);

  if (!destination) {
    if (!sourceChanged && !options.force) return { action: 'unchanged', record: false, otherPending: false };
    switch (options.restoreDeleted ? 'RestoreRecords' : mapping.deletionConflictResolution) {
      case 'RemoveCoupling':
        return { action: 'uncouple' };
      case 'RestoreRecords':
        return { action: 'restore', values: createValues(plan, source.values, input.unmapped) };
      default:
        return { action: 'fail', message: MESSAGES.deletedCounterpart };
    }
  }

  const targetChanged = destinationChanged(plan, coupling, destination);
  const changes = diffValues(mapValues(plan, source.values, input.unmapped), destination.values);
  const empty = Object.keys(changes).length === 0;
  const expectedVersion = destination.version ?? destination.modifiedOn;
  // Only a bidirectional mapping has another direction that could still carry something.
  const otherPending = targetChanged && mapping.direction === 'Bidirectional';

  if (!sourceChanged) {
    if (options.force && !targetChanged && !empty) return { action: 'modify', changes, expectedVersion, otherPending: false };
    return { action: 'unchanged', record: false, otherPending: false };
  }
  if (targetChanged && mapping.direction === 'Bidirectional' && bidirectionalFieldWouldChange(plan, changes)) {
    const winner = options.winner ?? conflictWinner(mapping.updateConflictResolution);
    if (winner === null) return { action: 'fail', message: MESSAGES.conflict };
    if (winner !== plan.direction) return { action: 'deferred' };
  }
  if (empty) return { action: 'unchanged', record: true, otherPending };
  return { action: 'modify', changes, expectedVersion, otherPending };
}

/** What to do with a coupling whose source record of the pass no longer exists. */
export type MissingSourceDecision = { action: 'fail'; message: string } | { action: 'uncouple' } | { action: 'deleteCounterpart' };

export function decideMissingSource(input: {
  rule: SourceDeletion;
  plan: FieldPlan;
  coupling: CouplingState;
  /** The counterpart (the pass's destination), null when it is gone too. */
  destination: RecordState | null;
  counterpartId: string;
}): MissingSourceDecision {
  const { rule, plan, coupling, destination, counterpartId } = input;
  switch (rule) {
    case 'RemoveCoupling':
      return { action: 'uncouple' };
    case 'DeleteCounterpart':
      if (!destination) return { action: 'uncouple' };
      // A counterpart someone changed since the last sync holds work nobody has seen: never delete it silently.
      if (destinationChanged(plan, coupling, destination)) return { action: 'fail', message: MESSAGES.counterpartChanged(plan.sourceSide, counterpartId) };
      return { action: 'deleteCounterpart' };
    default:
      return { action: 'fail', message: MESSAGES.sourceDeleted(plan.sourceSide, counterpartId) };
  }
}

/** A record that fails twice in a row with the same error (in one direction) becomes skipped. */
export function nextFailureState(
  previous: { failureCount: number; lastError: string | null } | null,
  message: string,
): { failureCount: number; skipped: boolean } {
  const failureCount = previous && previous.lastError === message ? previous.failureCount + 1 : 1;
  return { failureCount, skipped: failureCount >= 2 };
}
