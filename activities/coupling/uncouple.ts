/**
 * Uncoupling: removes couplings (records only with deleteRecords, see
 * delete-orphans.ts), by ids or the whole mapping
 * page by page. Progress survives a retry through heartbeat details; what was
 * removed is tallied by the store in the same transaction.
 */
import { Context } from '@temporalio/activity';
import { emptyCounters } from '../../common/types';
import type { ActivityDeps } from '../deps';
import { loadMapping } from '../pass-loader';
import { requireLease } from '../run-lease';
import type { UncoupleBatchInput, UncoupleBatchResult } from '../../common/protocol';
import { UNCOUPLE_PAGE } from '../defaults';
import { deleteOrphanedRecords } from './delete-orphans';

function isCountResume(value: unknown): value is { uncoupled: number; done: boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { uncoupled?: unknown }).uncoupled === 'number';
}

export function createUncoupleActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Removes couplings: the given ids (deleting the records too with deleteRecords), or up to maxCouplings of the whole mapping per call. */
    async uncoupleBatch(input: UncoupleBatchInput): Promise<UncoupleBatchResult> {
      const ctx = Context.current();
      const mapping = await loadMapping(deps, input.mapping);
      const details: unknown = ctx.info.heartbeatDetails;
      let uncoupled = isCountResume(details) ? details.uncoupled : 0;
      const done = (finished: boolean): UncoupleBatchResult => ({ counters: { ...emptyCounters(), uncoupled }, done: finished });
      if (isCountResume(details) && details.done) return done(true);
      const { selection } = input;
      await requireLease(deps, input.mapping, input.lease);
      if (selection.kind === 'ids' && selection.deleteRecords) {
        const result = await deleteOrphanedRecords(deps, mapping, selection.side, selection.ids, input.jobId);
        uncoupled += result.uncoupled;
        ctx.heartbeat({ uncoupled, done: true });
        return { counters: { ...emptyCounters(), uncoupled, deleted: result.deleted, failed: result.failed }, done: true };
      }
      if (selection.kind === 'ids') {
        uncoupled += await store.deleteCouplings(mapping.name, selection.side, selection.ids, input.jobId);
        ctx.heartbeat({ uncoupled, done: true });
        return done(true);
      }
      let afterId = 0;
      for (;;) {
        const page = await store.pageCouplings(mapping.name, { afterId, limit: UNCOUPLE_PAGE });
        if (page.length > 0)
          uncoupled += await store.deleteCouplings(
            mapping.name,
            'local',
            page.map((x) => x.localId),
            input.jobId,
          );
        ctx.heartbeat({ uncoupled, done: page.length < UNCOUPLE_PAGE });
        if (page.length < UNCOUPLE_PAGE) return done(true);
        if (uncoupled >= selection.maxCouplings) return done(false);
        afterId = page[page.length - 1].id;
      }
    },
  };
}
