/**
 * The activity factory the worker registers: `createActivities({ store, systems })`.
 * Workflows import only its type.
 */
import type { ActivityDeps } from './deps';
import { verifyConnector } from '../connectors/connector';
import { createSyncActivities } from './sync-activities';
import { createStoreActivities } from './store-activities';
import { createCouplingActivities } from './coupling-activities';
import { createMatchActivities } from './match-activities';
import { createLeaseActivities, keepingLeases } from './run-lease';

export function createActivities(deps: ActivityDeps) {
  for (const [name, connector] of Object.entries(deps.systems)) verifyConnector(name, connector);
  return {
    ...createStoreActivities(deps),
    ...createLeaseActivities(deps),
    ...keepingLeases(deps, createSyncActivities(deps)),
    ...keepingLeases(deps, createCouplingActivities(deps)),
    ...keepingLeases(deps, createMatchActivities(deps)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps, Systems } from './deps';
export type * from './sync-activities';
export type * from './coupling-activities';
export type * from './match-activities';
export type { RunLease, RunLockInput } from './run-lease';
