/**
 * The peer, run in the same process and on the same server as ours: one
 * activity per record, 100 in flight (bench/peer-workflow.ts), over fresh
 * databases each run, for a bulk sync (creates) and for match-based coupling.
 * Its worker may run 100 activities at once, so the window is really 100 wide.
 */
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { historyStats, type Ctx } from './context';
import { openBenchEnv, seed, type BenchEnv } from './fixtures';
import { seedMatch } from './match-bench';
import { createPeerActivities } from './peer-activities';
import type { PeerInput } from './peer-workflow';
import { log, round, timed } from './stats';

/** Activities the peer keeps in flight. */
export const PEER_IN_FLIGHT = 100;

export interface PeerSamples {
  rates: number[];
  /** History events per peer run (it does not continue as new). */
  historyEvents: number[];
  /** Records each run handled, and (matching) coupled. */
  records: number;
  coupled: number[];
}

let peerBundle: Promise<string> | null = null;
const peerBundleCode = (): Promise<string> =>
  (peerBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./peer-workflow'), logger: new DefaultLogger('WARN') }).then((b) => b.code));

async function peerRun(
  ctx: Ctx,
  env: BenchEnv,
  workflowType: 'peerBulkSyncWorkflow' | 'peerMatchWorkflow',
  records: number,
): Promise<{ rate: number; events: number; result: number }> {
  const taskQueue = `peer-${randomUUID()}`;
  const deps = { store: env.store, systems: env.systems };
  const worker = await Worker.create({
    connection: ctx.native,
    taskQueue,
    workflowBundle: { code: await peerBundleCode() },
    activities: { ...createActivities(deps), ...createPeerActivities(deps) },
    maxConcurrentActivityTaskExecutions: PEER_IN_FLIGHT,
  });
  const workflowId = `peer-${randomUUID()}`;
  const input: PeerInput = { mapping: 'BENCH', jobId: `peer-${randomUUID()}`, inFlight: PEER_IN_FLIGHT };
  let result = 0;
  let runId: string | undefined;
  const seconds = await worker.runUntil(() =>
    timed(async () => {
      const handle = await ctx.client.workflow.start<(i: PeerInput) => Promise<number>>(workflowType, { taskQueue, workflowId, args: [input] });
      runId = handle.firstExecutionRunId;
      result = await handle.result();
    }),
  );
  const history = await historyStats(ctx.client, workflowId, runId);
  return { rate: records / seconds, events: history.maxEvents, result };
}

/** The peer's bulk sync: `records` new source records created on the other side, one activity each. */
export async function peerBulkRuns(ctx: Ctx, records: number): Promise<PeerSamples> {
  const s: PeerSamples = { rates: [], historyEvents: [], records, coupled: [] };
  for (let run = 0; run < ctx.runs; run++) {
    const env = await openBenchEnv('sqlite');
    try {
      await seed(env.local, 'src', records);
      const r = await peerRun(ctx, env, 'peerBulkSyncWorkflow', records);
      const [dst] = await env.integration('dst').count({ n: '*' });
      if (Number(dst.n) !== records) throw new Error(`peer bulk sync left ${dst.n} rows, expected ${records}`);
      s.rates.push(r.rate);
      s.historyEvents.push(r.events);
      log(`peer bulk run ${run + 1}: ${round(r.rate, 1)}/s, ${r.events} history events`);
    } finally {
      await env.close();
    }
  }
  return s;
}

/** The peer's matching: `records` local records against `integrationCount` integration records, one activity each. */
export async function peerMatchRuns(ctx: Ctx, records: number, integrationCount: number): Promise<PeerSamples> {
  const s: PeerSamples = { rates: [], historyEvents: [], records, coupled: [] };
  for (let run = 0; run < ctx.runs; run++) {
    const env = await openBenchEnv('sqlite');
    try {
      await seedMatch(env, integrationCount, records);
      const r = await peerRun(ctx, env, 'peerMatchWorkflow', records);
      s.rates.push(r.rate);
      s.historyEvents.push(r.events);
      s.coupled.push(r.result);
      log(`peer match run ${run + 1}: ${round(r.rate, 1)}/s, ${r.result} coupled of ${records}, ${r.events} history events`);
    } finally {
      await env.close();
    }
  }
  return s;
}
