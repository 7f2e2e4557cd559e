/**
 * The activity factory the worker registers: `createActivities({ store, systems })`,
 * one feature factory per concern, spread into one object. Workflows import
 * only its type; the inputs and results are in common/protocol.
 */
import type { ActivityDeps } from './deps';
import { verifyConnector } from '../connectors/connector';
import { createStoreActivities } from './store-activities';
import { createLeaseActivities, keepingLeases } from './run-lease';
import { createPassActivities } from './sync/pass';
import { createBatchActivities } from './sync/batch';
import { createSingleRecordActivities } from './sync/single';
import { createCouplingJobActivities } from './coupling/jobs';
import { createSetUpCouplingActivities } from './coupling/set-up';
import { createUncoupleActivities } from './coupling/uncouple';
import { createMatchRoundActivities } from './coupling/match-rounds';
import { createMatchFinishActivities } from './coupling/match-finish';
import { createFullSyncActivities } from './full-sync';
import { createScheduleActivities } from './schedule-backoff';
import { createLiveActivities } from './live-wait';
import { createRetentionActivities } from './retention';

export function createActivities(deps: ActivityDeps) {
  for (const [name, connector] of Object.entries(deps.systems)) verifyConnector(name, connector);
  return {
    ...createStoreActivities(deps),
    ...createLeaseActivities(deps),
    ...createFullSyncActivities(deps),
    ...createScheduleActivities(),
    ...createLiveActivities(),
    ...createRetentionActivities(deps),
    // Activities that write under a run's lease keep it renewed while they work.
    ...keepingLeases(deps, {
      ...createPassActivities(deps),
      ...createBatchActivities(deps),
      ...createSingleRecordActivities(deps),
      ...createCouplingJobActivities(deps),
      ...createSetUpCouplingActivities(deps),
      ...createUncoupleActivities(deps),
      ...createMatchRoundActivities(deps),
      ...createMatchFinishActivities(deps),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, Systems } from './deps';
export type * from '../common/protocol';
