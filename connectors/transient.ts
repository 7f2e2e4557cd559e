/**
 * Which connector failures pass by themselves: a database that is restarting,
 * a service answering 5xx, a dropped connection. The engine retries those for
 * as long as the batch may run instead of counting them against a record's
 * attempts, so an outage never turns into error rows.
 */
import { isConnectorError } from './connector-error';
import { isTransientDbError } from './db-errors';

export function isTransientError(error: unknown): boolean {
  return (isConnectorError(error) && error.kind === 'transient') || isTransientDbError(error);
}

/** Failures no retry can fix: the system refused our credentials, or would have them sent to a host nobody configured (kind 'auth'). */
export function isPermanentConfigurationError(error: unknown): boolean {
  return isConnectorError(error) && error.kind === 'auth';
}
