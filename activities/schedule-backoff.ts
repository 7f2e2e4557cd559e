/**
 * Idle back-off of a mapping's Schedule, applied after a run: the rule is
 * common/idle-backoff.ts; this reads the Schedule (through the activity's own
 * Temporal client) and updates its interval only when the rule changes it.
 * A mapping without a Schedule, or one with a fixed interval, is left alone.
 */
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { DEFAULT_IDLE_UP_TO, nextInterval } from '../common/idle-backoff';
import { scheduleBackoffOf, scheduleIdFor } from '../client/schedules';

export interface AdjustScheduleInput {
  mapping: string;
  /** The run wrote, coupled, uncoupled or failed a record (or a live change arrived). */
  foundWork: boolean;
}

export interface AdjustScheduleResult {
  /** The interval now, in ms; null when the mapping has no Schedule with idle back-off. */
  everyMs: number | null;
  changed: boolean;
}

export function createScheduleActivities() {
  return {
    async adjustScheduleInterval(input: AdjustScheduleInput): Promise<AdjustScheduleResult> {
      let client;
      try {
        client = Context.current().client;
      } catch {
        // An activity run outside a worker (a test's mock environment) has no Temporal to ask.
        return { everyMs: null, changed: false };
      }
      const handle = client.schedule.getHandle(scheduleIdFor(input.mapping));
      let description;
      try {
        description = await handle.describe();
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return { everyMs: null, changed: false };
        throw error;
      }
      const backoff = scheduleBackoffOf(description);
      const current = description.spec.intervals?.[0]?.every;
      if (!backoff || current === undefined) return { everyMs: null, changed: false };
      const currentMs = msToNumber(current);
      const next = nextInterval(
        currentMs,
        { normalMs: msToNumber(backoff.every as Duration), upToMs: msToNumber((backoff.idleUpTo ?? DEFAULT_IDLE_UP_TO) as Duration) },
        input.foundWork,
      );
      if (next === currentMs) return { everyMs: currentMs, changed: false };
      await handle.update((previous) => ({ ...previous, spec: { ...previous.spec, intervals: [{ every: next }] } }));
      return { everyMs: next, changed: true };
    },
  };
}
