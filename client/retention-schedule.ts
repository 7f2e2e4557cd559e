/**
 * The Schedule of log retention: one per namespace and task queue, running
 * logRetentionWorkflow every `every` (a day by default), never two at once.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { TASK_QUEUE } from '../common/constants';
import { logRetentionInputSchema } from '../common/inputs';
import { RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import { parseInput } from '../common/validate';
import { checkInterval, formatInterval } from './schedules';
import { workflowIds } from './workflow-ids';

export const RETENTION_SCHEDULE_ID = 'log-retention';
/** @default '1 day' */
export const DEFAULT_RETENTION_EVERY = '1 day';

export interface RetentionScheduleInfo {
  scheduleId: string;
  days: number;
  every: string | null;
  paused: boolean;
  nextRunAt: Date | null;
}

export class RetentionSchedule {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string = TASK_QUEUE,
  ) {}

  /** Creates the Schedule, or replaces its days and interval when it exists. */
  async set(days: number, every: string = DEFAULT_RETENTION_EVERY): Promise<RetentionScheduleInfo> {
    const interval = checkInterval(every);
    const input = parseInput('logRetention', logRetentionInputSchema, { days });
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'logRetentionWorkflow',
      args: [input],
      taskQueue: this.taskQueue,
      workflowId: workflowIds.logRetention,
      typedSearchAttributes: [{ key: RUN_KIND_SEARCH_ATTRIBUTE, value: 'logRetention' }],
      staticSummary: `Delete job and error rows older than ${days} days`,
    };
    const note = `Delete job and error rows older than ${days} days, every ${every}`;
    const handle = this.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    if (await this.describe()) {
      await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every: interval }] }, action, state: { ...previous.state, note } }));
    } else {
      await this.client.schedule.create({
        scheduleId: RETENTION_SCHEDULE_ID,
        spec: { intervals: [{ every: interval }] },
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        state: { note },
      });
    }
    return (await this.describe()) as RetentionScheduleInfo;
  }

  async describe(): Promise<RetentionScheduleInfo | null> {
    try {
      const d = await this.client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
      const args = d.action.type === 'startWorkflow' ? (d.action.args as { days?: number }[] | undefined) : undefined;
      const every = d.spec.intervals?.[0]?.every;
      return {
        scheduleId: RETENTION_SCHEDULE_ID,
        days: Number(args?.[0]?.days ?? 0),
        every: every === undefined ? null : typeof every === 'number' ? formatInterval(every) : String(every),
        paused: d.state.paused,
        nextRunAt: d.info.nextActionTimes[0] ?? null,
      };
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return null;
      throw error;
    }
  }

  async delete(): Promise<void> {
    await this.client.schedule.getHandle(RETENTION_SCHEDULE_ID).delete();
  }
}
