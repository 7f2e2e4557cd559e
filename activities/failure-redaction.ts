/**
 * The last gate before an activity's failure leaves the worker. Whatever an
 * activity throws (a driver error quoting its SQL and connection string, an
 * HTTP client quoting a token request) becomes an ApplicationFailure whose
 * message is redacted and stripped of SQL, with no stack or cause chain, since
 * the failure is written to the workflow history, shown in the Web UI, logged
 * by the worker and copied into job rows. Its type, retryability and retry
 * delay are kept, so retry policies and callers behave as before.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { dbErrorMessage } from '../connectors/db-errors';
import { redact } from '../support/redact';

/** Errors the SDK itself must see as they are. */
const PASS_THROUGH = new Set(['CompleteAsyncError']);

export function redactFailure(error: unknown): unknown {
  if (error instanceof CancelledFailure) return error;
  if (error instanceof Error && PASS_THROUGH.has(error.name)) return error;
  if (error instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: redact(error.message),
      type: error.type ?? undefined,
      nonRetryable: error.nonRetryable ?? undefined,
      details: error.details ?? undefined,
      nextRetryDelay: error.nextRetryDelay ?? undefined,
      category: error.category ?? undefined,
    });
  }
  return ApplicationFailure.create({
    message: redact(dbErrorMessage(error)),
    type: error instanceof Error ? error.name : 'Error',
  });
}

/** Activity interceptors that redact the failures of the named activities (ours), leaving a team's own alone. */
export function failureRedaction(activityNames: ReadonlySet<string>): ActivityInterceptorsFactory {
  return (ctx) =>
    activityNames.has(ctx.info.activityType)
      ? {
          inbound: {
            async execute(input, next) {
              try {
                return await next(input);
              } catch (error) {
                throw redactFailure(error);
              }
            },
          },
        }
      : {};
}
