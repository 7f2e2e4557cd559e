/**
 * The one failure policy of the activities: how a failure inside an activity
 * becomes what Temporal should do.
 * - Bad input or configuration: non-retryable, naming what is wrong.
 * - A throttled system is waited for: its Retry-After as the next retry delay,
 *   half as long again for every earlier attempt of the activity (up to 30 s),
 *   never an error row, never a spent attempt.
 * - Refused credentials, or a URL nobody configured: non-retryable at once.
 * - A passing outage (5xx, dropped connection, restarting database): retried
 *   for as long as the batch may run, never counted against a record.
 * - Anything else: retried until `maxAttempts`, then the records get error rows.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../common/constants';
import { ThrottledError } from '../connectors/connector';
import { dbErrorMessage } from '../connectors/db-errors';
import { isPermanentConfigurationError, isTransientError } from '../connectors/transient';
import { redact } from '../support/redact';
import { THROTTLE_BACKOFF_GROWTH, THROTTLE_BACKOFF_MAX_MS } from './defaults';

/** A failure no retry can fix: the run fails with this message. */
export function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

/**
 * How long a throttled activity waits before its next attempt: what the system
 * asked for, at least, and half as long again for every earlier attempt, up to
 * THROTTLE_BACKOFF_MAX_MS (or the system's own longer wait). Retried after
 * Retry-After alone, an attempt that needs more requests than the window frees
 * by then is throttled again near its end every time, and never completes; a
 * growth of 1.5 lets such a window drain within a few attempts while a storm of
 * six 429s costs 21 s of waiting rather than doubling's 61 s.
 */
export function throttleDelayMs(retryAfterMs: number, earlierAttempts: number): number {
  const backoff = Math.min(THROTTLE_BACKOFF_MAX_MS, Math.round(retryAfterMs * THROTTLE_BACKOFF_GROWTH ** Math.min(earlierAttempts, 60)));
  return Math.max(1, retryAfterMs, backoff);
}

/** A retry after the delay the system asked for, longer when this activity was retried before (throttleDelayMs). */
export function throttledFailure(systemName: string, error: ThrottledError, what: string, earlierAttempts = 0): ApplicationFailure {
  const delay = throttleDelayMs(error.retryAfterMs, earlierAttempts);
  return ApplicationFailure.create({
    message: `${systemName} throttled ${what}; retrying after ${delay} ms`,
    type: FAILURE_TYPES.throttled,
    nextRetryDelay: delay,
  });
}

/** What a failed read becomes: a wait for the system's Retry-After, a non-retryable refusal of our credentials, or itself. */
export function readFailure(systemName: string, error: unknown, earlierAttempts = 0): unknown {
  if (isPermanentConfigurationError(error)) {
    return ApplicationFailure.create({ message: redact((error as Error).message), type: FAILURE_TYPES.authentication, nonRetryable: true });
  }
  if (error instanceof ThrottledError) return throttledFailure(systemName, error, 'a read', earlierAttempts);
  return error;
}

/** Whether a batch stops retrying and settles its records with error rows. */
export function givesUp(error: unknown, attempt: number, maxAttempts: number): boolean {
  return isPermanentConfigurationError(error) || (!isTransientError(error) && attempt >= maxAttempts);
}

/**
 * A batch's own failure (not a record's): retried, or once it gives up a
 * non-retryable `BatchFailed` the workflow turns into error rows. Only the
 * driver's message travels on: the SQL it quotes would carry record values
 * into the history.
 */
export function batchFailure(error: unknown, attempt: number, maxAttempts: number): ApplicationFailure {
  const message = redact(dbErrorMessage(error));
  if (givesUp(error, attempt, maxAttempts)) return ApplicationFailure.create({ message, type: 'BatchFailed', nonRetryable: true });
  return ApplicationFailure.create({ message, type: error instanceof Error ? error.name : 'Error' });
}

/** Some records of a batch failed and are retried with the batch: the message says how many and names the first. */
export function recordsFailed(summary: string): ApplicationFailure {
  return ApplicationFailure.create({ message: redact(summary), type: FAILURE_TYPES.recordsFailed });
}
