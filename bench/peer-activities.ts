/** Activities of the peer (bench/peer-workflow.ts): each handles exactly one record with its own queries. */
import type { ActivityDeps } from '../activities';
import { loadPass } from '../activities/pass-loader';
import { syncRecords } from '../activities/sync/engine';

export function createPeerActivities(deps: ActivityDeps) {
  return {
    async peerListIds(input: { mapping: string }): Promise<string[]> {
      const { mapping, source } = await loadPass(deps, input.mapping, 'ToIntegrationTable');
      const keys = await source.scanKeys({ table: mapping.local.table, filter: [], since: null, after: null, limit: 1_000_000 });
      return keys.map((k) => k.id);
    },

    async peerSyncOne(input: { mapping: string; jobId: string; id: string }): Promise<void> {
      const pass = await loadPass(deps, input.mapping, 'ToIntegrationTable');
      const records = await pass.source.getMany({ table: pass.mapping.local.table, ids: [input.id], fields: pass.plan.sourceFields });
      await syncRecords(
        { store: deps.store, source: pass.source, destination: pass.destination },
        { mapping: pass.mapping, plan: pass.plan, jobId: input.jobId, options: {} },
        { records },
        1,
      );
    },

    /** One candidate query per record and priority, compared in memory: BC's per-record matching. */
    async peerMatchOne(input: { mapping: string; id: string }): Promise<number> {
      const pass = await loadPass(deps, input.mapping, 'ToIntegrationTable');
      const [record] = await pass.source.getMany({ table: pass.mapping.local.table, ids: [input.id], fields: pass.plan.sourceFields });
      if (!record) return 0;
      const fields = pass.mapping.fields.filter((f) => f.useForMatching).sort((a, b) => a.matchPriority - b.matchPriority);
      for (const field of fields) {
        const value = String(record.values[field.localField ?? ''] ?? '').trim();
        if (!value || !field.integrationField) continue;
        const candidates = await pass.destination.findCandidates({
          table: pass.mapping.integration.table,
          fields: [field.integrationField],
          filter: [],
          conditions: [{ field: field.integrationField, values: [value.toLowerCase()], caseSensitive: false }],
          limit: 10,
        });
        if (candidates.length === 1) {
          const coupled = await deps.store.getCouplings(pass.mapping.name, 'integration', [candidates[0].id]);
          if (coupled.length > 0) continue;
          await deps.store.insertCouplings(pass.mapping, null, 'peer', [
            {
              localId: record.id,
              integrationId: candidates[0].id,
              lastSyncedLocalModifiedOn: null,
              lastSyncedIntegrationModifiedOn: null,
              coupledAction: 'matched',
            },
          ]);
          return 1;
        }
      }
      return 0;
    },
  };
}

export type PeerActivities = ReturnType<typeof createPeerActivities>;
