/**
 * Idle back-off of a mapping's Schedule, applied after a run: the rule is
 * common/idle-backoff.ts; this reads the Schedule (through the activity's own
 * Temporal client) and updates its interval only when the rule changes it,
 * never undoing a change someone else made in between.
 * A mapping without a Schedule, or one with a fixed interval, is left alone.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msNumberToTs, msToNumber } from '@temporalio/common/lib/time';
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

/** Reads, computes and writes again when another change landed in between; the activity's retries cover the rest. */
const ATTEMPTS_AGAINST_CONCURRENT_CHANGES = 5;

/**
 * The rule applied through `client` (the activity passes its own; tests pass
 * one they can watch). The write carries the conflict token of the read, so a
 * pause, a note or an interval set by someone else in between is never
 * overwritten with what was read before it: the server drops a write whose
 * token is stale, and the rule is applied again to what is there now.
 */
export async function adjustScheduleIntervalWith(client: Client, input: AdjustScheduleInput): Promise<AdjustScheduleResult> {
  const scheduleId = scheduleIdFor(input.mapping);
  const handle = client.schedule.getHandle(scheduleId);
  for (let attempt = 1; ; attempt++) {
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return { everyMs: null, changed: false };
      throw error;
    }
    const backoff = scheduleBackoffOf(description);
    const current = description.spec.intervals?.[0]?.every;
    const schedule = description.raw.schedule;
    const spec = schedule?.spec;
    if (!backoff || current === undefined || !schedule || !spec?.interval?.[0]) return { everyMs: null, changed: false };
    const currentMs = msToNumber(current);
    const next = nextInterval(
      currentMs,
      { normalMs: msToNumber(backoff.every as Duration), upToMs: msToNumber((backoff.idleUpTo ?? DEFAULT_IDLE_UP_TO) as Duration) },
      input.foundWork,
    );
    if (next === currentMs) return { everyMs: currentMs, changed: false };
    // The raw schedule as read goes back unchanged but for the interval: nothing is decoded and encoded again.
    await client.workflowService.updateSchedule({
      namespace: client.options.namespace,
      scheduleId,
      schedule: { ...schedule, spec: { ...spec, interval: [{ ...spec.interval[0], interval: msNumberToTs(next) }] } },
      conflictToken: description.raw.conflictToken,
      identity: client.options.identity,
      requestId: randomUUID(),
    });
    const after = (await handle.describe()).spec.intervals?.[0]?.every;
    if (after !== undefined && msToNumber(after) === next) return { everyMs: next, changed: true };
    if (attempt >= ATTEMPTS_AGAINST_CONCURRENT_CHANGES) {
      throw new Error(`The Schedule ${scheduleId} kept changing while its interval was being set; trying again`);
    }
  }
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
      return adjustScheduleIntervalWith(client, input);
    },
  };
}
