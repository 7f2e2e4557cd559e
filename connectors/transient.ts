/**
 * Which connector failures pass by themselves: a database that is restarting,
 * a service answering 5xx, a dropped connection. The engine retries those for
 * as long as the batch may run instead of counting them against a record's
 * attempts, so an outage never turns into error rows.
 */
import { isTransientDbError } from './db-errors';
import { TransientHttpError } from './http/http-client';
import { UntrustedUrlError } from './http/url-policy';
import { AuthenticationError } from './http/token-client';

export function isTransientError(error: unknown): boolean {
  // By name too: an error raised in another realm (a test's VM context) is not an instance of our class.
  return error instanceof TransientHttpError || (error instanceof Error && error.name === 'TransientHttpError') || isTransientDbError(error);
}

/** Failures no retry can fix: the system refused our credentials, or would have them sent to a host nobody configured. */
export function isPermanentConfigurationError(error: unknown): boolean {
  return error instanceof AuthenticationError || error instanceof UntrustedUrlError
    || (error instanceof Error && (error.name === 'AuthenticationError' || error.name === 'UntrustedUrlError'));
}
