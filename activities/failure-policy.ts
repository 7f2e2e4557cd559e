/**
 * How a failure inside a batch activity becomes what Temporal should do: a
 * throttled system is waited for (its Retry-After as the next retry delay,
 * never an error row, never a spent attempt), refused credentials stop at once
 * (non-retryable), anything else is left to the retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../common/constants';
import { ThrottledError } from '../connectors/connector';
import { isPermanentConfigurationError } from '../connectors/transient';
import { redact } from './redact';

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
