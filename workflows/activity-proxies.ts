/**
 * Activity proxies with explicit timeouts and retry policies. Batch activities
 * retry without a fixed attempt limit (throttling and outages must not turn into
 * error records); the activity itself writes error rows once a record has
 * failed `maxAttempts` times, and the schedule-to-close timeout bounds the rest.
 */
import { proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_RETRY } from '../common/constants';
import type { RetryOverride } from '../common/inputs';

const control: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { ...DEFAULT_RETRY, maximumAttempts: 10 },
};

const batch: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 hour',
  // No maximumAttempts: unlimited, bounded by scheduleToCloseTimeout.
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

const defaults = {
  control: proxyActivities<Activities>(control),
  batch: proxyActivities<Activities>(batch),
  single: proxyLocalActivities<Activities>(single),
};

export interface Proxies {
  control: Activities;
  batch: Activities;
  /** Local activities for single-record work. */
  single: Activities;
  /** Attempts after which a failing record gets an error row. */
  maxAttempts: number;
}

/** The proxies for a run; an input's retry override gives shorter or longer retries. */
export function proxiesFor(retry: RetryOverride | undefined): Proxies {
  if (!retry) return { ...defaults, maxAttempts: DEFAULT_RETRY.maximumAttempts };
  const initialInterval = retry.initialIntervalMs ?? 1000;
  return {
    control: proxyActivities<Activities>({ ...control, retry: { ...control.retry, initialInterval, maximumInterval: Math.max(initialInterval * 8, 1000) } }),
    batch: proxyActivities<Activities>({
      ...batch,
      heartbeatTimeout: retry.heartbeatTimeoutMs ?? batch.heartbeatTimeout,
      retry: { ...batch.retry, initialInterval, maximumInterval: Math.max(initialInterval * 8, 1000) },
    }),
    single: proxyLocalActivities<Activities>({ ...single, retry: { ...single.retry, initialInterval, maximumInterval: Math.max(initialInterval * 8, 1000) } }),
    maxAttempts: retry.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts,
  };
}
