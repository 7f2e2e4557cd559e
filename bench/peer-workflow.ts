/**
 * The peer: the design a Temporal user would write first, one activity per
 * record, with a sliding window of `inFlight` activities (100 in the
 * benchmark): each slot starts the next record as soon as its last one is
 * done, as the sliding-window batch samples do (they run a child workflow per
 * record; an activity per record is the cheaper variant). It does not
 * continue as new: the benchmark's few thousand records stay far below the
 * history limits.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { PeerActivities } from './peer-activities';

const { peerListIds, peerSyncOne, peerMatchOne } = proxyActivities<PeerActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** Runs `each` over `ids` with at most `inFlight` running at once; returns the sum of what they return. */
async function slidingWindow(ids: readonly string[], inFlight: number, each: (id: string) => Promise<number>): Promise<number> {
  let next = 0;
  let total = 0;
  const slot = async (): Promise<void> => {
    while (next < ids.length) {
      // Not `total += await ...`: that reads `total` before the await and loses the other slots' additions.
      const n = await each(ids[next++]);
      total += n;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, ids.length)) }, slot));
  return total;
}

export interface PeerInput {
  mapping: string;
  jobId: string;
  inFlight: number;
}

export async function peerBulkSyncWorkflow(input: PeerInput): Promise<number> {
  const ids = await peerListIds({ mapping: input.mapping });
  await slidingWindow(ids, input.inFlight, async (id) => {
    await peerSyncOne({ mapping: input.mapping, jobId: input.jobId, id });
    return 1;
  });
  return ids.length;
}

export async function peerMatchWorkflow(input: PeerInput): Promise<number> {
  const ids = await peerListIds({ mapping: input.mapping });
  return slidingWindow(ids, input.inFlight, (id) => peerMatchOne({ mapping: input.mapping, id }));
}
