/**
 * The one base of the errors connectors throw. Its `kind` says what the
 * failure is, so the activities decide from it (connectors/transient.ts) and
 * never from a class name; `status` and `serviceCode` say what the system
 * answered, `cause` (ES2022) what the error was raised from.
 */

/**
 * What a connector failure is:
 * - 'transient': passes by itself (5xx, a timeout, a dropped connection); the engine retries without spending a record's attempts.
 * - 'throttled': the system asked us to wait (see ThrottledError's retryAfterMs).
 * - 'auth': our credentials were refused, or would go where they must not; no retry can fix it, the run stops at once.
 * - 'permanent': the request or the configuration is wrong; retrying is not expected to help.
 * - 'conflict': the record changed since it was read.
 * - 'notFound': the record or table is not there.
 */
export type ConnectorErrorKind = 'transient' | 'throttled' | 'auth' | 'permanent' | 'conflict' | 'notFound';

export interface ConnectorErrorDetails {
  kind: ConnectorErrorKind;
  /** HTTP status of the system's answer, when there was one. */
  status?: number;
  /** The system's own error code, e.g. Dataverse's "0x80060888" or Business Central's "BadRequest_NotFound". */
  serviceCode?: string;
  /** The error this one was raised from. */
  cause?: unknown;
}

/** Marks our errors in a way that holds across realms and module copies, where `instanceof` does not. */
const CONNECTOR_ERROR = Symbol.for('temporal-coupling-sync.ConnectorError');

export class ConnectorError extends Error {
  override readonly name: string = 'ConnectorError';
  readonly kind: ConnectorErrorKind;
  readonly status?: number;
  readonly serviceCode?: string;

  constructor(message: string, details: ConnectorErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = details.kind;
    this.status = details.status;
    this.serviceCode = details.serviceCode;
    Object.defineProperty(this, CONNECTOR_ERROR, { value: true });
  }
}

/** Whether `error` is a ConnectorError, also one raised in another realm (a test's VM context) or by another copy of this module. */
export function isConnectorError(error: unknown): error is ConnectorError {
  return (
    error instanceof ConnectorError || (typeof error === 'object' && error !== null && (error as { [CONNECTOR_ERROR]?: unknown })[CONNECTOR_ERROR] === true)
  );
}

/**
 * The kind of a request the system refused as a whole, from its status. The
 * HTTP layer has already thrown for the statuses worth retrying (5xx, 408, 429).
 */
export function refusalKind(status: number | undefined): ConnectorErrorKind {
  if (status === 404) return 'notFound';
  if (status === 409 || status === 412) return 'conflict';
  return 'permanent';
}
