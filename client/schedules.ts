/**
 * Recurring sync per mapping on Temporal Schedules: BC's job queue entry, every
 * 30 minutes by default, never two runs at once (overlap SKIP), a catch-up
 * window so a server outage does not fire a storm of missed runs, and idle
 * back-off (common/idle-backoff.ts): runs that find nothing lengthen the
 * interval up to BC's inactivity timeout, a run with work restores it.
 */
import { ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSummary } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { TASK_QUEUE } from '../common/constants';
import { bulkSyncInputSchema, type BulkSyncInput } from '../common/inputs';
import { MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import { parseInput } from '../common/validate';
import { DEFAULT_IDLE_UP_TO, DURATION_PATTERN } from '../common/idle-backoff';
import { workflowIds } from './workflow-ids';

/** @default '30 minutes' (BC's default job queue interval) */
export const DEFAULT_SCHEDULE_INTERVAL = '30 minutes';
/** @default '1 hour' */
export const DEFAULT_CATCHUP_WINDOW = '1 hour';

export const scheduleIdFor = (mapping: string): string => `sync-schedule/${mapping}`;

export interface ScheduleOptions {
  /** How often: a duration such as '30 minutes', '5m', '1 hour'. @default DEFAULT_SCHEDULE_INTERVAL */
  every?: string;
  /** Extra bulkSync input (direction, batch size...). */
  input?: Omit<BulkSyncInput, 'mapping' | 'continuation'>;
  /** Start paused. */
  paused?: boolean;
  /** @default DEFAULT_CATCHUP_WINDOW */
  catchupWindow?: string;
  /**
   * Idle back-off: each run that finds nothing to do doubles the interval, up to this; a run that
   * finds work (or a live sync run) restores `every`. `false`: a fixed interval. @default DEFAULT_IDLE_UP_TO
   */
  idleUpTo?: string | false;
}

export interface ScheduleInfo {
  scheduleId: string;
  mapping: string;
  /** The interval now (lengthened by idle runs when it backs off). */
  every: string | null;
  /** The interval it was given, and how far idle runs may lengthen it; null: a fixed interval. */
  normalEvery: string | null;
  idleUpTo: string | null;
  paused: boolean;
  note: string | null;
  recentRuns: number;
  nextRunAt: Date | null;
}

/** Checks a human duration before it reaches the server, so the message names the option. */
export function checkInterval(every: string, option = 'every'): Duration {
  if (!DURATION_PATTERN.test(every)) {
    throw new Error(`Option "${option}": "${every}" is not a duration; use e.g. "30 minutes", "5m" or "1 hour".`);
  }
  return every.trim() as Duration;
}

/** 1800000 -> "30 minutes": how a person wrote it. */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? '' : 's'}`;
  }
  return `${ms} ms`;
}

/** The idle back-off a Schedule's bulkSync input carries, if any. */
export function scheduleBackoffOf(d: ScheduleDescription): { every: string; idleUpTo?: string } | null {
  const args = d.action.type === 'startWorkflow' ? (d.action.args as unknown[] | undefined) : undefined;
  const input = args?.[0] as Partial<BulkSyncInput> | undefined;
  return input?.schedule ?? null;
}

function toInfo(mapping: string, scheduleId: string, d: ScheduleDescription): ScheduleInfo {
  const interval = d.spec.intervals?.[0]?.every;
  const backoff = scheduleBackoffOf(d);
  return {
    scheduleId,
    mapping,
    every: interval === undefined ? null : typeof interval === 'number' ? formatInterval(interval) : String(interval),
    normalEvery: backoff?.every ?? null,
    idleUpTo: backoff ? (backoff.idleUpTo ?? DEFAULT_IDLE_UP_TO) : null,
    paused: d.state.paused,
    note: d.state.note ?? null,
    recentRuns: d.info.recentActions.length,
    nextRunAt: d.info.nextActionTimes[0] ?? null,
  };
}

export class SyncSchedules {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string = TASK_QUEUE,
  ) {}

  async create(mapping: string, options: ScheduleOptions = {}): Promise<ScheduleInfo> {
    const every = checkInterval(options.every ?? DEFAULT_SCHEDULE_INTERVAL);
    const idleUpTo = options.idleUpTo === false ? null : checkInterval(options.idleUpTo ?? DEFAULT_IDLE_UP_TO, 'idleUpTo');
    const schedule = idleUpTo === null ? {} : { schedule: { every, idleUpTo } };
    const input = parseInput('bulkSync', bulkSyncInputSchema, { ...options.input, ...schedule, mapping });
    const scheduleId = scheduleIdFor(input.mapping);
    const handle = await this.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'bulkSyncWorkflow',
        args: [input],
        taskQueue: this.taskQueue,
        workflowId: workflowIds.bulkSync(input.mapping),
        typedSearchAttributes: [
          { key: MAPPING_SEARCH_ATTRIBUTE, value: input.mapping },
          { key: RUN_KIND_SEARCH_ATTRIBUTE, value: 'bulkSync' },
        ],
        staticSummary: `Scheduled bulk sync of ${input.mapping}`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: (options.catchupWindow ?? DEFAULT_CATCHUP_WINDOW) as Duration },
      state: { paused: options.paused ?? false, note: `Recurring sync of ${input.mapping} every ${every}` },
    });
    return toInfo(input.mapping, scheduleId, await handle.describe());
  }

  async describe(mapping: string): Promise<ScheduleInfo> {
    const scheduleId = scheduleIdFor(mapping);
    return toInfo(mapping, scheduleId, await this.client.schedule.getHandle(scheduleId).describe());
  }

  async updateInterval(mapping: string, every: string): Promise<ScheduleInfo> {
    const interval = checkInterval(every);
    const handle = this.client.schedule.getHandle(scheduleIdFor(mapping));
    await handle.update((previous) => {
      const action = previous.action;
      const input = action.type === 'startWorkflow' ? (action.args?.[0] as BulkSyncInput | undefined) : undefined;
      // The new interval is also the one idle back-off returns to.
      const args = input?.schedule ? [{ ...input, schedule: { ...input.schedule, every: interval } }] : undefined;
      return {
        ...previous,
        spec: { ...previous.spec, intervals: [{ every: interval }] },
        ...(args && action.type === 'startWorkflow' ? { action: { ...action, args } } : {}),
      };
    });
    return this.describe(mapping);
  }

  async pause(mapping: string, note = 'Paused'): Promise<void> {
    await this.client.schedule.getHandle(scheduleIdFor(mapping)).pause(note);
  }

  async resume(mapping: string, note = 'Resumed'): Promise<void> {
    await this.client.schedule.getHandle(scheduleIdFor(mapping)).unpause(note);
  }

  /** Runs now, unless a run of this mapping is already going. */
  async trigger(mapping: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleIdFor(mapping)).trigger(ScheduleOverlapPolicy.SKIP);
  }

  async delete(mapping: string): Promise<void> {
    await this.client.schedule.getHandle(scheduleIdFor(mapping)).delete();
  }

  async list(): Promise<ScheduleInfo[]> {
    const out: ScheduleInfo[] = [];
    for await (const summary of this.client.schedule.list() as AsyncIterable<ScheduleSummary>) {
      if (!summary.scheduleId.startsWith('sync-schedule/')) continue;
      const mapping = summary.scheduleId.slice('sync-schedule/'.length);
      out.push(await this.describe(mapping));
    }
    return out;
  }
}
