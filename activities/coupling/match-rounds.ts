/**
 * Match-based coupling by rounds, one per match priority (see
 * domain/match-rounds): batches claim candidates into the claims table (the
 * smallest local id holds a claim, whatever order batches run in), the round
 * is resolved into couplings, and a last pass over the records still
 * uncoupled creates them (create-new) or writes an error row saying why. Each
 * activity reads and writes in batches and is safe to repeat.
 */
import { Context } from '@temporalio/activity';
import { emptyCounters } from '../../common/types';
import { ThrottledError } from '../../connectors/connector';
import { claimWinners, levelResults } from '../../domain/match-rounds';
import type { ActivityDeps } from '../deps';
import { throttledFailure } from '../failure-policy';
import { asMatchRecords, fetchCandidates, loadMatchContext, pendingOf, readScope } from './match-context';
import { connectorFor, loadMapping } from '../pass-loader';
import { requireLease } from '../run-lease';
import type { ClaimBatchInput, KeyRange, MatchBatchResult, PlanLocalBatchesInput, PlanLocalBatchesResult, RecordKey, RunLease } from '../../common/protocol';
import { RESOLVE_PAGE } from '../defaults';

export function createMatchRoundActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /**
     * Plans the next match batches: keyset ranges of local records within the
     * filters, each holding up to batchSize uncoupled ones. Keys only, so the
     * workflow carries no record contents; coupled records cost no batch.
     */
    async planLocalBatches(input: PlanLocalBatchesInput): Promise<PlanLocalBatchesResult> {
      const mapping = await loadMapping(deps, input.mapping);
      const local = connectorFor(deps, mapping, mapping.local.system);
      await requireLease(deps, input.mapping, input.lease);
      await store.updateJob(input.jobId, { counters: input.counters });
      const limit = input.batchSize * input.count;
      const keys = await local.scanKeys({
        table: mapping.local.table,
        filter: [...mapping.tableFilter, ...input.filter],
        since: null,
        after: input.after,
        limit,
      });
      const coupled = new Set(
        (
          await store.getCouplings(
            mapping.name,
            'local',
            keys.map((k) => k.id),
          )
        ).map((x) => x.localId),
      );
      const ranges: KeyRange[] = [];
      let after = input.after;
      let size = 0;
      let last: RecordKey | null = null;
      for (const key of keys) {
        if (coupled.has(key.id)) continue;
        size++;
        last = key;
        if (size === input.batchSize) {
          ranges.push({ after, through: key, size });
          after = key;
          size = 0;
        }
      }
      if (size > 0 && last) ranges.push({ after, through: last, size });
      return { ranges, next: keys.length > 0 ? keys[keys.length - 1] : input.after, exhausted: keys.length < limit };
    },

    /** One round for one batch: each uncoupled record with exactly one candidate free at the round's start claims it. */
    async claimMatchBatch(input: ClaimBatchInput): Promise<MatchBatchResult> {
      const c = await loadMatchContext(deps, input);
      const level = c.levels[input.level];
      try {
        const scope = await readScope(c, input.selection);
        // Records are created only after the last round, so no round meets one this job created.
        const records = asMatchRecords(scope.records);
        if (!level || records.length === 0) return { counters: emptyCounters(), scanned: scope.scanned };
        const { candidates, undecidable } = await fetchCandidates(c, level, records);
        const coupled = candidates.length
          ? await store.getRecordCouplings(
              c.mapping.integration,
              'integration',
              candidates.map((x) => x.id),
            )
          : [];
        const results = levelResults({ level, locals: records, candidates, unavailable: new Set(coupled.map((x) => x.integrationId)), undecidable });
        const claims = [...results].flatMap(([localId, r]) => (r.result === 'claim' ? [{ integrationId: r.candidateId, localId }] : []));
        await requireLease(deps, input.mapping, input.lease);
        // Winners within the batch first: one row per candidate, and the store keeps the smallest id across batches.
        const winners = claimWinners(results);
        await store.claimCandidates(
          c.jobId,
          level.priority,
          claims.filter((x) => winners.get(x.integrationId) === x.localId),
        );
        return { counters: emptyCounters(), scanned: scope.scanned };
      } catch (error) {
        if (error instanceof ThrottledError) throw throttledFailure(c.integration.name, error, 'the batch', Context.current().info.attempt - 1);
        throw error;
      }
    },

    /** Turns a round's winning claims into couplings, pending in every direction the mapping allows. */
    async resolveMatchLevel(input: { mapping: string; jobId: string; level: number; lease?: RunLease }): Promise<{ coupled: number }> {
      const ctx = Context.current();
      const c = await loadMatchContext(deps, { ...input, filter: [], createNewIfNoMatch: false });
      await requireLease(deps, input.mapping, input.lease);
      const level = c.levels[input.level];
      if (!level) return { coupled: 0 };
      let after = typeof ctx.info.heartbeatDetails === 'string' ? ctx.info.heartbeatDetails : null;
      for (;;) {
        const claims = await store.pageClaims(c.jobId, level.priority, { afterIntegrationId: after, limit: RESOLVE_PAGE });
        await store.insertCouplings(
          c.mapping,
          null,
          c.jobId,
          claims.map((x) => ({
            localId: x.localId,
            integrationId: x.integrationId,
            lastSyncedLocalModifiedOn: null,
            lastSyncedIntegrationModifiedOn: null,
            coupledAction: 'matched' as const,
            level: level.priority,
            pending: pendingOf(c.mapping),
          })),
        );
        if (claims.length < RESOLVE_PAGE) break;
        after = claims[claims.length - 1].integrationId;
        ctx.heartbeat(after);
      }
      return { coupled: (await store.countCoupledBy(c.mapping.name, c.jobId)).byLevel.get(level.priority) ?? 0 };
    },

    /** Ends a round or a run: the claims this job made are no longer needed. */
    async clearMatchClaims(input: { jobId: string }): Promise<void> {
      await store.deleteClaims(input.jobId);
    },
  };
}
