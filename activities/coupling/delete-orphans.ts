/**
 * Delete records (BC's answer to a deletion conflict beside Restore): the
 * given records whose counterpart no longer exists are deleted, then their
 * couplings removed. A record whose counterpart still exists is never deleted
 * here: it keeps its coupling and gets an error row saying so. Safe to
 * repeat: deleting a record already gone succeeds, and a coupling already
 * removed is not counted twice (the store tallies removals by job).
 */
import type { Side } from '../../common/types';
import type { StoredMapping } from '../../domain/mapping';
import type { JobErrorRow } from '../../store/job-rows';
import type { ActivityDeps } from '../deps';
import { writeErrorMessage } from '../sync/failures';

export interface OrphansDeleted {
  deleted: number;
  uncoupled: number;
  failed: number;
}

export async function deleteOrphanedRecords(
  deps: ActivityDeps,
  mapping: StoredMapping,
  side: Side,
  ids: readonly string[],
  jobId: string,
): Promise<OrphansDeleted> {
  const { store } = deps;
  const own = side === 'local' ? mapping.local : mapping.integration;
  const other = side === 'local' ? mapping.integration : mapping.local;
  const couplings = await store.getCouplings(mapping.name, side, ids);
  const counterpartOf = (c: (typeof couplings)[number]): string => (side === 'local' ? c.integrationId : c.localId);
  const ownIdOf = (c: (typeof couplings)[number]): string => (side === 'local' ? c.localId : c.integrationId);
  const present = new Set((await deps.systems[other.system].getMany({ table: other.table, ids: couplings.map(counterpartOf), fields: [] })).map((r) => r.id));
  const errors: JobErrorRow[] = [];
  const orphans = couplings.filter((c) => {
    if (!present.has(counterpartOf(c))) return true;
    errors.push({
      jobId,
      mappingName: mapping.name,
      sourceRecordId: ownIdOf(c),
      destinationRecordId: counterpartOf(c),
      message: `Not deleted: its counterpart ${counterpartOf(c)} still exists (delete a record only when the one it is coupled to was deleted); its coupling is kept.`,
      fullMessage: null,
      attempts: 1,
    });
    return false;
  });
  const results = orphans.length ? await deps.systems[own.system].deleteMany(own.table, orphans.map(ownIdOf)) : [];
  const deleted: string[] = [];
  results.forEach((result, i) => {
    const id = ownIdOf(orphans[i]);
    if (result.ok || result.error.kind === 'notFound') deleted.push(id);
    else if (result.error.kind === 'transient') throw new Error(`Deleting ${own.table} ${id}: ${result.error.message}`);
    else
      errors.push({
        jobId,
        mappingName: mapping.name,
        sourceRecordId: id,
        destinationRecordId: counterpartOf(orphans[i]),
        message: writeErrorMessage(result.error),
        fullMessage: result.error.detail ?? null,
        attempts: 1,
      });
  });
  const uncoupled = deleted.length ? await store.deleteCouplings(mapping.name, side, deleted, jobId) : 0;
  if (errors.length) await store.insertErrors(errors);
  return { deleted: deleted.length, uncoupled, failed: errors.length };
}
