/**
 * One line per job closed, through the SDK's activity logger (the Runtime's
 * logger, with the activity's workflow and run ids attached) and, when the
 * worker asks for plain lines (the demo), its `log` sink too.
 */
import { Context } from '@temporalio/activity';
import type { JobCounters, JobStatus, SyncDirection } from '../common/types';
import type { ActivityDeps } from './deps';

export interface ClosedJob {
  jobId: string;
  mapping: string;
  direction?: SyncDirection;
  status: JobStatus;
  counters: JobCounters;
}

/** The logger of the activity running now; none when an activity function is called directly (a test). */
function activityLogger(): Context['log'] | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}

export function logJobClosed(deps: ActivityDeps, job: ClosedJob): void {
  activityLogger()?.info('Job closed', { ...job });
  deps.log?.(`job ${job.jobId} ${job.mapping}${job.direction ? ` ${job.direction}` : ''} ${job.status} ${JSON.stringify(job.counters)}`);
}
