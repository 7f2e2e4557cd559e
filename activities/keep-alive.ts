/**
 * Control activities carry no progress worth a heartbeat, yet without one a
 * worker lost during one (a kill, a crash, a lost host) costs its whole
 * start-to-close timeout before the server retries it elsewhere. While one
 * runs, this heartbeats it, with no details, every third of its heartbeat
 * timeout: a live worker is never timed out, a dead one is noticed within the
 * timeout. Activities that heartbeat their own progress (batches) are left
 * alone, since a heartbeat without details would erase their resume point.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export function keepAlive(activityNames: ReadonlySet<string>): ActivityInterceptorsFactory {
  return (ctx) => {
    const timeoutMs = ctx.info.heartbeatTimeoutMs;
    if (!activityNames.has(ctx.info.activityType) || !timeoutMs) return {};
    return {
      inbound: {
        async execute(input, next) {
          const timer = setInterval(() => ctx.heartbeat(), Math.max(50, Math.floor(timeoutMs / 3)));
          try {
            return await next(input);
          } finally {
            clearInterval(timer);
          }
        },
      },
    };
  };
}
