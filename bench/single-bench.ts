/**
 * Single-record sync against its baseline, an empty workflow (bench/empty-workflow.ts)
 * on the same server, client and worker options, run beside it in every run:
 * latency one after another (client start to result) and throughput with many
 * started at once, from a remote client (its own gRPC connection, as another
 * service would call) and from a client embedded in the worker's process on
 * its NativeConnection with eager workflow start.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { CouplingSyncClient } from '../client';
import { BENCH_WORKER_OPTIONS, withBenchWorker, type Ctx } from './context';
import { openBenchEnv, seed } from './fixtures';
import { loadAverage, log, percentile, round, timed } from './stats';

export interface SingleSamples {
  p50: number[];
  p99: number[];
  concurrent: number[];
  eagerStarts: number;
}

export interface SingleResults {
  remote: SingleSamples;
  eager: SingleSamples;
  empty: SingleSamples;
  sequential: number;
  concurrent: number;
}

const emptySamples = (): SingleSamples => ({ p50: [], p99: [], concurrent: [], eagerStarts: 0 });

/** Starts the workflow for record `id`; resolves with its handle once started. */
type StartOne = (id: string) => Promise<{ eagerlyStarted?: boolean; result(): Promise<unknown> }>;

/** `sequential` runs one after the other (client start to result), then `concurrent` started at once; ids from `offset`. */
async function measureSingle(start: StartOne, offset: number, counts: { sequential: number; concurrent: number }, into: SingleSamples): Promise<void> {
  const id = (i: number): string => `R${String(offset + i).padStart(8, '0')}`;
  const latencies: number[] = [];
  for (let i = 0; i < counts.sequential; i++) {
    latencies.push(
      (await timed(async () => {
        const handle = await start(id(i));
        if (handle.eagerlyStarted) into.eagerStarts++;
        await handle.result();
      })) * 1000,
    );
  }
  into.p50.push(percentile(latencies, 50));
  into.p99.push(percentile(latencies, 99));
  const ids = Array.from({ length: counts.concurrent }, (_, i) => id(counts.sequential + i));
  const seconds = await timed(async () => {
    const handles = await Promise.all(ids.map(start));
    for (const h of handles) if (h.eagerlyStarted) into.eagerStarts++;
    await Promise.all(handles.map((h) => h.result()));
  });
  into.concurrent.push(counts.concurrent / seconds);
}

export async function singleRuns(ctx: Ctx, counts: { sequential: number; concurrent: number }): Promise<SingleResults> {
  const emptyBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./empty-workflow'), logger: new DefaultLogger('WARN') });
  const results: SingleResults = { remote: emptySamples(), eager: emptySamples(), empty: emptySamples(), ...counts };
  const perClient = counts.sequential + counts.concurrent;
  for (let run = 0; run < ctx.runs; run++) {
    const emptyQueue = `empty-${randomUUID()}`;
    const emptyWorker = await Worker.create({
      connection: ctx.native,
      taskQueue: emptyQueue,
      workflowBundle: { code: emptyBundle.code },
      ...BENCH_WORKER_OPTIONS,
    });
    await emptyWorker.runUntil(() =>
      measureSingle(
        (id) => ctx.client.workflow.start('emptyWorkflow', { taskQueue: emptyQueue, workflowId: `empty-${emptyQueue}-${id}`, args: [id] }),
        0,
        counts,
        results.empty,
      ),
    );
    const benchEnv = await openBenchEnv('sqlite');
    try {
      await seed(benchEnv.local, 'src', 2 * perClient);
      await withBenchWorker(ctx, benchEnv, async (sync, taskQueue) => {
        await measureSingle((recordId) => sync.startSingleSync({ mapping: 'BENCH', recordId }), 0, counts, results.remote);
        const embedded = new CouplingSyncClient({ client: new Client({ connection: ctx.native }), taskQueue, eagerStart: true });
        await measureSingle((recordId) => embedded.startSingleSync({ mapping: 'BENCH', recordId }), perClient, counts, results.eager);
      });
    } finally {
      await benchEnv.close();
    }
    const { remote, eager, empty } = results;
    log(
      `single run ${run + 1}: empty workflow p50 ${round(empty.p50[run], 1)} ms, ${round(empty.concurrent[run])}/s; ` +
        `singleSync remote p50 ${round(remote.p50[run], 1)} ms, p99 ${round(remote.p99[run], 1)} ms, ${round(remote.concurrent[run])}/s; ` +
        `eager p50 ${round(eager.p50[run], 1)} ms, ${round(eager.concurrent[run])}/s; load ${loadAverage().join(' ')}`,
    );
  }
  return results;
}
