/**
 * The naive design the benchmark compares against: one activity per record,
 * the way a first Temporal port of BC's row-by-row engine would look.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { NaiveActivities } from './naive-activities';

const { naiveListIds, naiveSyncOne, naiveMatchOne } = proxyActivities<NaiveActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

export async function naiveBulkSyncWorkflow(input: { mapping: string; jobId: string }): Promise<number> {
  const ids = await naiveListIds({ mapping: input.mapping });
  for (const id of ids) await naiveSyncOne({ mapping: input.mapping, jobId: input.jobId, id });
  return ids.length;
}

export async function naiveMatchWorkflow(input: { mapping: string }): Promise<number> {
  const ids = await naiveListIds({ mapping: input.mapping });
  let coupled = 0;
  for (const id of ids) coupled += await naiveMatchOne({ mapping: input.mapping, id });
  return coupled;
}
