/**
 * The console's actions on selected rows, each one workflow: Retry and
 * Synchronize are a bulkSync of the given ids with includeSkipped (Synchronize
 * names the winner of their conflicts), Delete coupling is an uncouple of the ids,
 * Restore record the same bulkSync with restoreDeleted (a deletion conflict's counterpart created again),
 * Delete record an uncouple with deleteRecords (the record whose counterpart is gone deleted too).
 */
import { MAX_RECORD_IDS } from '../common/constants';
import type { Side, SyncDirection } from '../common/types';
import type { CouplingSyncClient } from '../client';
import type { StoredMapping } from '../domain/mapping';
import { UserFacingError } from '../support/user-facing-error';

export const SELECTION_ACTIONS = ['retry', 'sync', 'uncouple', 'restore', 'delete'] as const;
export type SelectionAction = (typeof SELECTION_ACTIONS)[number];

export class SelectionError extends UserFacingError {
  override readonly name: string = 'SelectionError';
}

export interface StartedRun {
  workflowId: string;
  runId: string;
}

/** The directions a person may choose for a mapping: both for a bidirectional one, else its own. */
export function choosableDirections(mapping: Pick<StoredMapping, 'direction'>): SyncDirection[] {
  return mapping.direction === 'Bidirectional' ? ['ToIntegrationTable', 'FromIntegrationTable'] : [mapping.direction];
}

/** "<side>:<id>" keys of the selected rows, all of one side. */
export function parseSelection(keys: readonly string[]): { side: Side; recordIds: string[] } {
  if (keys.length === 0) throw new SelectionError('Select at least one row.');
  if (keys.length > MAX_RECORD_IDS) throw new SelectionError(`Select at most ${MAX_RECORD_IDS} rows at once.`);
  let side: Side | null = null;
  const recordIds: string[] = [];
  for (const key of keys) {
    const at = key.indexOf(':');
    const keySide = key.slice(0, at);
    if (at <= 0 || (keySide !== 'local' && keySide !== 'integration')) throw new SelectionError(`Not a row of this page: "${key}".`);
    if (side !== null && keySide !== side)
      throw new SelectionError('Select rows of one side at a time (failed creates of the integration side apart from the rest).');
    side = keySide;
    recordIds.push(key.slice(at + 1));
  }
  return { side: side as Side, recordIds: [...new Set(recordIds)] };
}

export async function startSelectionAction(
  sync: CouplingSyncClient,
  mapping: StoredMapping,
  action: SelectionAction,
  keys: readonly string[],
  direction: string | undefined,
): Promise<StartedRun> {
  const { side, recordIds } = parseSelection(keys);
  const started = async (handle: Promise<{ workflowId: string; firstExecutionRunId: string }>): Promise<StartedRun> => {
    const h = await handle;
    return { workflowId: h.workflowId, runId: h.firstExecutionRunId };
  };
  switch (action) {
    case 'retry':
      return started(sync.startBulkSync({ mapping: mapping.name, recordIds, side, includeSkipped: true }));
    case 'sync': {
      const allowed = choosableDirections(mapping);
      const chosen = allowed.find((d) => d === direction);
      if (!chosen) throw new SelectionError(`Choose a direction: ${allowed.join(' or ')}.`);
      // Every direction runs: the chosen one writes, the other finds the records in sync (and clears its own failure).
      return started(sync.startBulkSync({ mapping: mapping.name, recordIds, side, winner: chosen, includeSkipped: true }));
    }
    case 'uncouple':
      return started(sync.startUncouple({ mapping: mapping.name, recordIds, side }));
    case 'delete':
      // A deletion conflict the other way: the record whose counterpart is gone is deleted too (BC: Delete records).
      return started(sync.startUncouple({ mapping: mapping.name, recordIds, side, deleteRecords: true }));
    case 'restore':
      // A deletion conflict: the counterpart is created again and coupled (BC: Restore records).
      return started(sync.startBulkSync({ mapping: mapping.name, recordIds, side, restoreDeleted: true, includeSkipped: true }));
  }
}
