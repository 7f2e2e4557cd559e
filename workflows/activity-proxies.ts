/**
 * Activity proxies, one per group, each with its own timeouts and retry
 * policy, and typed to the activities of that group only, so an activity
 * cannot be called with another group's options by mistake.
 */
import { proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { CONTROL_HEARTBEAT_TIMEOUT, type ControlActivityName } from '../common/activity-groups';
import { DEFAULT_RETRY } from '../common/constants';
import type { RetryOverride } from '../common/inputs';

/** Short bookkeeping (job rows, leases, planning): a minute each, ten attempts, kept alive by the worker's heartbeats. */
export type ControlActivities = Pick<Activities, ControlActivityName>;

/** Work on a batch of records (or, for a full synchronization's review, a count of a mapping's records): long, heartbeating, resumable. */
export type BatchActivities = Pick<Activities, 'syncBatch' | 'uncoupleBatch' | 'claimMatchBatch' | 'resolveMatchLevel' | 'finishMatchBatch' | 'reviewMapping'>;

/** Single-record work, run as a local activity. */
export type SingleActivities = Pick<Activities, 'syncSingleRecord'>;

/** Live sync's short waits, in the worker (activities/live-wait.ts says why). */
export type LiveActivities = Pick<Activities, 'liveDebounce'>;

const control: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  // The worker heartbeats control activities while they run (activities/keep-alive.ts): a lost worker costs this, not the minute.
  heartbeatTimeout: CONTROL_HEARTBEAT_TIMEOUT,
  retry: { ...DEFAULT_RETRY, maximumAttempts: 10 },
};

/**
 * Batch activities retry without a fixed attempt limit (throttling and outages
 * must not turn into error records); the activity itself writes error rows once
 * a record has failed `maxAttempts` times, and the schedule-to-close timeout
 * bounds the rest.
 */
const batch: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: DEFAULT_RETRY.initialInterval, backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/**
 * A single-record sync is a local activity: it runs inside the workflow task,
 * sparing two trips through the task queue (most of its latency).
 */
const single: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: DEFAULT_RETRY.initialInterval, backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/** A wait of at most WORKER_WAIT_MAX_MS: a worker lost during one costs the timeout, once. */
const live: ActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 1 },
};

const defaults = {
  control: proxyActivities<ControlActivities>(control),
  batch: proxyActivities<BatchActivities>(batch),
  single: proxyLocalActivities<SingleActivities>(single),
  live: proxyActivities<LiveActivities>(live),
};

export interface Proxies {
  control: ControlActivities;
  batch: BatchActivities;
  single: SingleActivities;
  live: LiveActivities;
  /** Attempts after which a failing record gets an error row. */
  maxAttempts: number;
}

/** The proxies for a run; an input's retry override gives shorter or longer retries. */
export function proxiesFor(retry: RetryOverride | undefined): Proxies {
  if (!retry) return { ...defaults, maxAttempts: DEFAULT_RETRY.maximumAttempts };
  const initialInterval = retry.initialIntervalMs ?? 1000;
  const maximumInterval = Math.max(initialInterval * 8, 1000);
  return {
    control: proxyActivities<ControlActivities>({
      ...control,
      heartbeatTimeout: retry.heartbeatTimeoutMs ?? control.heartbeatTimeout,
      retry: { ...control.retry, initialInterval, maximumInterval },
    }),
    batch: proxyActivities<BatchActivities>({
      ...batch,
      heartbeatTimeout: retry.heartbeatTimeoutMs ?? batch.heartbeatTimeout,
      retry: { ...batch.retry, initialInterval, maximumInterval },
    }),
    single: proxyLocalActivities<SingleActivities>({ ...single, retry: { ...single.retry, initialInterval, maximumInterval } }),
    live: defaults.live,
    maxAttempts: retry.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts,
  };
}
