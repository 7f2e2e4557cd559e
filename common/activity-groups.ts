/**
 * The control activities by name: short bookkeeping (job rows, leases,
 * planning). Workflows schedule them with the control options
 * (workflows/activity-proxies.ts); the worker keeps them alive with heartbeats
 * (activities/keep-alive.ts), so both read the one list.
 */
export const CONTROL_ACTIVITIES = [
  'planRun',
  'describeMapping',
  'suspendRun',
  'resumeRun',
  'acquireRunLock',
  'releaseRunLock',
  'startPass',
  'planBatches',
  'failBatch',
  'finishPass',
  'startCouplingJob',
  'setUpCoupling',
  'saveJobCounters',
  'finishCouplingJob',
  'planLocalBatches',
  'clearMatchClaims',
  'planFullSynchronization',
  'adjustScheduleInterval',
  'deleteOldLogRows',
] as const;

export type ControlActivityName = (typeof CONTROL_ACTIVITIES)[number];

/** How soon a worker lost during a control activity is noticed (and the activity retried elsewhere). */
export const CONTROL_HEARTBEAT_TIMEOUT = '10 seconds';
