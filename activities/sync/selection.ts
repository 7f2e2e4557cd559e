/**
 * Which source records a sync batch works on, read in batches: a keyset range
 * of the scan, given ids, the couplings and failed uncoupled records the retry
 * phase visits, or a page of couplings whose source records the deletion sweep
 * checks. Each read tells the engine which records exist and are within the
 * source side's table filter, which coupled ones are gone, and which given ids
 * it must refuse.
 */
import type { SourceRecord } from '../../connectors/connector';
import type { Store } from '../../store/store';
import type { BatchRecords } from './engine';
import type { LoadedPass } from '../pass-loader';
import type { BatchSelection, GivenIds } from '../../common/protocol';
import type { Side } from '../../common/types';
import { KEYSET_READ_LIMIT } from '../defaults';

export interface SelectionRead extends BatchRecords {
  /** Source records read. */
  scanned: number;
  /** For paged selections: where the next page starts, or null at the end. */
  nextAfterId: number | null;
}

function sourceOf(pass: LoadedPass): { table: string; filter: LoadedPass['mapping']['tableFilter'] } {
  const local = pass.plan.sourceSide === 'local';
  return {
    table: local ? pass.mapping.local.table : pass.mapping.integration.table,
    filter: local ? pass.mapping.tableFilter : pass.mapping.integrationTableFilter,
  };
}

/**
 * The records of these ids that exist within the source filter, and which of
 * the others do not exist at all (the rest exist outside the filter).
 */
async function readWithin(pass: LoadedPass, ids: readonly string[]): Promise<{ records: SourceRecord[]; missing: Set<string>; outside: Set<string> }> {
  const { table, filter } = sourceOf(pass);
  if (ids.length === 0) return { records: [], missing: new Set(), outside: new Set() };
  const records = await pass.source.getMany({ table, ids: [...ids], fields: pass.plan.sourceFields, filter });
  const found = new Set(records.map((r) => r.id));
  const absent = ids.filter((id) => !found.has(id));
  if (absent.length === 0) return { records, missing: new Set(), outside: new Set() };
  if (filter.length === 0) return { records, missing: new Set(absent), outside: new Set() };
  const existing = new Set((await pass.source.getMany({ table, ids: absent, fields: [] })).map((r) => r.id));
  return { records, missing: new Set(absent.filter((id) => !existing.has(id))), outside: new Set(absent.filter((id) => existing.has(id))) };
}

/**
 * Given ids of the destination side as source ids: each names its coupled
 * counterpart; an uncoupled one has nothing to carry in this direction (its own
 * pass carries it), but one that does not exist at all is `absent`.
 */
export async function resolveGivenIds(pass: LoadedPass, store: Store, side: Side, ids: readonly string[]): Promise<GivenIds> {
  const { mapping, plan } = pass;
  const given = [...new Set(ids)];
  const couplings = await store.getCouplings(mapping.name, side, given);
  const bySide = new Map(couplings.map((c) => [side === 'local' ? c.localId : c.integrationId, plan.sourceSide === 'local' ? c.localId : c.integrationId]));
  const uncoupled = given.filter((id) => !bySide.has(id));
  const existing = new Set<string>();
  for (let i = 0; i < uncoupled.length; i += RESOLVE_CHUNK) {
    const part = uncoupled.slice(i, i + RESOLVE_CHUNK);
    const table = side === 'local' ? mapping.local.table : mapping.integration.table;
    for (const r of await pass.destination.getMany({ table, ids: part, fields: [] })) existing.add(r.id);
  }
  return {
    side: plan.sourceSide,
    sourceIds: given.flatMap((id) => bySide.get(id) ?? []),
    absent: uncoupled.filter((id) => !existing.has(id)),
  };
}

/** Why a given id of the destination side was refused (GivenIds.absent). */
export function absentMessage(pass: LoadedPass, id: string): string {
  const side = pass.plan.destinationSide;
  const other = side === 'local' ? pass.mapping.local : pass.mapping.integration;
  return `The ${side} record ${id} does not exist in ${other.system}.${other.table}.`;
}

/** Ids per existence check of uncoupled given ids. */
const RESOLVE_CHUNK = 1_000;

function lastId(page: readonly { id: number }[], limit: number): number | null {
  const last = page[page.length - 1];
  return page.length < limit || !last ? null : last.id;
}

/**
 * Reads a selection. `pendingIds` (source ids) is a retry of the same batch:
 * only those records are read again, with the selection's meaning (the page
 * itself was read by the first attempt).
 */
export async function readSelection(pass: LoadedPass, store: Store, selection: BatchSelection, pendingIds?: readonly string[]): Promise<SelectionRead> {
  const { mapping, plan, source } = pass;
  const { table, filter } = sourceOf(pass);
  const sourceIdOf = (c: { localId: string; integrationId: string }): string => (plan.sourceSide === 'local' ? c.localId : c.integrationId);
  switch (selection.kind) {
    case 'range': {
      if (pendingIds) {
        // A record that vanished or left the filter since the first attempt is the sweep's and the next scan's business.
        const read = await readWithin(pass, pendingIds);
        return { records: read.records, scanned: 0, nextAfterId: null };
      }
      const records = await source.readChanged({
        table,
        fields: plan.sourceFields,
        filter,
        since: selection.since,
        after: selection.after,
        through: selection.through,
        limit: KEYSET_READ_LIMIT,
      });
      return { records, scanned: records.length, nextAfterId: null };
    }
    case 'ids': {
      let ids = [...new Set(pendingIds ?? selection.ids)];
      const refusals: { sourceId: string; message: string; outside?: boolean }[] = [];
      let absent = pendingIds ? [] : (selection.absent ?? []);
      if (!pendingIds && selection.side !== plan.sourceSide) {
        // Runs started before passes resolved their ids (GivenIds) resolve them batch by batch.
        const given = await resolveGivenIds(pass, store, selection.side, ids);
        ids = given.sourceIds;
        absent = given.absent;
      }
      for (const id of absent) refusals.push({ sourceId: id, message: absentMessage(pass, id) });
      const read = await readWithin(pass, ids);
      const coupled = new Set((await store.getCouplings(mapping.name, plan.sourceSide, [...read.missing])).map(sourceIdOf));
      const where = `${plan.sourceSide === 'local' ? mapping.local.system : mapping.integration.system}.${table}`;
      refusals.push(
        ...[...read.outside].map((id) => ({
          sourceId: id,
          message: `The ${plan.sourceSide} record ${id} is outside the mapping's ${plan.sourceSide === 'local' ? 'table filter' : 'integration table filter'}; it is not synchronized.`,
          outside: true,
        })),
        ...[...read.missing]
          .filter((id) => !coupled.has(id))
          .map((id) => ({ sourceId: id, message: `The ${plan.sourceSide} record ${id} does not exist in ${where}.` })),
      );
      // A failed create whose record is gone has nothing left to create.
      const forget = [...read.missing].filter((id) => !coupled.has(id));
      return { records: read.records, missing: [...coupled], refusals, forget, scanned: pendingIds ? 0 : read.records.length, nextAfterId: null };
    }
    case 'retry': {
      let ids = pendingIds;
      let nextAfterId: number | null = null;
      let skipped: { localId: string; sourceId: string }[] = [];
      if (!ids) {
        const page = await store.pageCouplings(mapping.name, {
          afterId: selection.afterId,
          limit: selection.limit,
          needs: plan.direction,
          includeSkipped: selection.includeSkipped,
        });
        skipped = page.filter((c) => c.skipped).map((c) => ({ localId: c.localId, sourceId: sourceIdOf(c) }));
        ids = page.map(sourceIdOf);
        nextAfterId = lastId(page, selection.limit);
      }
      // A record outside the filter is out of this mapping's scope: left as it is (skipped too) until it is back.
      const read = await readWithin(pass, ids);
      const retried = new Set([...read.records.map((r) => r.id), ...read.missing]);
      const clear = selection.includeSkipped ? skipped.filter((c) => retried.has(c.sourceId)) : [];
      // The engine reads the couplings again (flags and counts cleared), and decides these as skipped ones being retried.
      if (clear.length)
        await store.clearSkipped(
          mapping.name,
          clear.map((c) => c.localId),
        );
      return {
        records: read.records,
        missing: [...read.missing],
        unskipped: clear.map((c) => c.sourceId),
        scanned: pendingIds ? 0 : read.records.length,
        nextAfterId,
      };
    }
    case 'retryUncoupled': {
      let ids = pendingIds;
      let nextAfterId: number | null = null;
      let skipped: string[] = [];
      if (!ids) {
        const page = await store.pageUncoupledFailures(mapping.name, plan.sourceSide, {
          afterId: selection.afterId,
          limit: selection.limit,
          includeSkipped: selection.includeSkipped,
        });
        skipped = page.filter((u) => u.skipped).map((u) => u.recordId);
        ids = page.map((u) => u.recordId);
        nextAfterId = lastId(page, selection.limit);
      }
      const read = await readWithin(pass, ids);
      const inside = new Set(read.records.map((r) => r.id));
      const clear = skipped.filter((id) => inside.has(id));
      if (selection.includeSkipped && clear.length) await store.clearUncoupledSkipped(mapping.name, plan.sourceSide, clear);
      return { records: read.records, forget: [...read.missing], scanned: pendingIds ? 0 : read.records.length, nextAfterId };
    }
    case 'matchedBy': {
      let ids = pendingIds;
      let nextAfterId: number | null = null;
      if (!ids) {
        const page = await store.pageCouplings(mapping.name, {
          afterId: selection.afterId,
          limit: selection.limit,
          coupledByJobId: selection.jobId,
          coupledAction: 'matched',
        });
        ids = page.map(sourceIdOf);
        nextAfterId = lastId(page, selection.limit);
      }
      const read = await readWithin(pass, ids);
      return { records: read.records, missing: [...read.missing], scanned: pendingIds ? 0 : read.records.length, nextAfterId };
    }
    case 'sweep': {
      let ids = pendingIds;
      let nextAfterId: number | null = null;
      if (!ids) {
        const page = await store.pageCouplings(mapping.name, { afterId: selection.afterId, limit: selection.limit, includeSkipped: false });
        ids = page.map(sourceIdOf);
        nextAfterId = lastId(page, selection.limit);
      }
      const existing = ids.length ? new Set((await source.getMany({ table, ids: [...ids], fields: [] })).map((r) => r.id)) : new Set<string>();
      return { records: [], missing: ids.filter((id) => !existing.has(id)), scanned: pendingIds ? 0 : ids.length, nextAfterId };
    }
  }
}
