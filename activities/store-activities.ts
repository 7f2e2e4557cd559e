/** Activities that only read the store: what a person sees before starting a run. */
import type { JobCounters } from '../common/types';
import type { ActivityDeps } from './deps';
import { loadMapping } from './pass-loader';

export interface MappingOverview {
  name: string;
  direction: string;
  localTable: string;
  integrationTable: string;
  couplings: number;
  lastJob: { jobId: string; status: string; counters: JobCounters } | null;
}

export function createStoreActivities(deps: ActivityDeps) {
  return {
    /** A mapping with its coupling count and last job: ids and counts only. */
    async describeMapping(input: { mapping: string }): Promise<MappingOverview> {
      const mapping = await loadMapping(deps, input.mapping);
      const [couplings, jobs] = await Promise.all([deps.store.countCouplings(mapping.name), deps.store.listJobs({ mappingName: mapping.name, limit: 1 })]);
      const last = jobs[0];
      return {
        name: mapping.name,
        direction: mapping.direction,
        localTable: `${mapping.local.system}.${mapping.local.table}`,
        integrationTable: `${mapping.integration.system}.${mapping.integration.table}`,
        couplings,
        lastJob: last ? { jobId: last.id, status: last.status, counters: last.counters } : null,
      };
    },
  };
}
