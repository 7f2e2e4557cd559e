/**
 * `coupling-sync retention`: delete job and error rows older than N days now,
 * or on a Schedule (BC: "Delete entries older than 7 days"); couplings stay.
 */
import type { CliOutput } from './output';
import { Command } from 'commander';
import type { CouplingSyncClient } from '../client';
import type { RetentionSchedule } from '../client/retention-schedule';
import { UserFacingError } from '../support/user-facing-error';

export interface RetentionCommandDeps extends CliOutput {
  sync(): Promise<CouplingSyncClient>;
  schedule(): Promise<RetentionSchedule>;
  wholeNumber(option: string, min: number, max: number): (value: string) => number;
}

class RetentionOptionsError extends UserFacingError {
  override readonly name: string = 'RetentionOptionsError';
}

export function retentionCommand(deps: RetentionCommandDeps): Command {
  const { print, line, wholeNumber } = deps;
  return new Command('retention')
    .description('delete job and error rows older than --days, now or on a Schedule (--schedule); couplings are never touched')
    .option('--days <n>', 'keep this many days of job and error rows', wholeNumber('days', 1, 36_500))
    .option('--schedule [every]', 'instead of now, on a Schedule that runs every (default 1 day)')
    .option('--remove-schedule', 'delete the Schedule')
    .option('--status', "show the Schedule's days and interval")
    .action(async (o: { days?: number; schedule?: string | true; removeSchedule?: boolean; status?: boolean }) => {
      if (o.status || o.removeSchedule) {
        const schedule = await deps.schedule();
        if (o.removeSchedule) {
          await schedule.delete();
          print({ removed: true }, () => 'Removed the log retention Schedule.');
          return;
        }
        const info = await schedule.describe();
        print(info, () =>
          info
            ? line`Log retention: rows older than ${info.days} days, every ${info.every ?? '?'}${info.paused ? ' (paused)' : ''}`
            : 'No log retention Schedule.',
        );
        return;
      }
      if (o.days === undefined) throw new RetentionOptionsError('Give --days N: how many days of job and error rows to keep.');
      const days = o.days;
      if (o.schedule !== undefined) {
        const info = await (await deps.schedule()).set(days, o.schedule === true ? undefined : o.schedule);
        print(info, () => line`Log retention Schedule: rows older than ${info.days} days, every ${info.every ?? '?'}`);
        return;
      }
      const result = await (await deps.sync()).logRetention({ days });
      print(result, () => line`Deleted ${result.jobsDeleted} job rows and ${result.errorsDeleted} error rows older than ${result.before}.`);
    });
}
