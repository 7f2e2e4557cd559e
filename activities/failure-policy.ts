/**
 * The one failure policy of the activities: how a failure inside an activity
 * becomes what Temporal should do.
 * - Bad input or configuration: non-retryable, naming what is wrong.
 * - A throttled system is waited for: its Retry-After as the next retry delay,
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

/** A failure no retry can fix: the run fails with this message. */
export function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

/** A retry after the delay the system asked for. */
export function throttledFailure(systemName: string, error: ThrottledError, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${systemName} throttled ${what}; retrying after ${error.retryAfterMs} ms`,
    type: FAILURE_TYPES.throttled,
    nextRetryDelay: Math.max(1, error.retryAfterMs),
  });
}

/** What a failed read becomes: a wait for the system's Retry-After, a non-retryable refusal of our credentials, or itself. */
export function readFailure(systemName: string, error: unknown): unknown {
  if (isPermanentConfigurationError(error)) {
    return ApplicationFailure.create({ message: redact((error as Error).message), type: FAILURE_TYPES.authentication, nonRetryable: true });
  }
  if (error instanceof ThrottledError) return throttledFailure(systemName, error, 'a read');
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
