/**
 * The worker alone in its own process, so the benchmark can read its peak
 * resident memory (VmHWM) apart from the driver's. Env: BENCH_DIR, TASK_QUEUE,
 * TEMPORAL_ADDRESS, BUNDLE_PATH, WORKER_OPTIONS (JSON, optional). Prints
 * "ready" once polling; the SDK stops it on SIGTERM, and it then prints one
 * line `memory {...}`: the largest of each process.memoryUsage() figure, sampled
 * every 100 ms. On SIGUSR2 it writes heap snapshots into HEAP_SNAPSHOT_DIR: the
 * main thread's (activities, connectors, the SDK) and the workflow threads'
 * (the workflow bundle and the V8 contexts of the cached workflows).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import workerThreads from 'node:worker_threads';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { openSqliteFiles } from './fixtures';

/** The SDK's workflow threads, kept so a heap snapshot can be asked of them (it creates them with `new worker_threads.Worker`). */
const workflowThreads: workerThreads.Worker[] = [];
const OriginalWorker = workerThreads.Worker;
class RecordedWorker extends OriginalWorker {
  constructor(...args: ConstructorParameters<typeof OriginalWorker>) {
    super(...args);
    workflowThreads.push(this);
  }
}
workerThreads.Worker = RecordedWorker;

const peaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
function sample(): void {
  const now = process.memoryUsage();
  for (const key of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[key] = Math.max(peaks[key], now[key]);
}

async function writeSnapshots(dir: string): Promise<void> {
  const stamp = Date.now();
  const main = v8.writeHeapSnapshot(path.join(dir, `main-${stamp}.heapsnapshot`));
  const threads = await Promise.all(
    workflowThreads.map(async (thread, i) => {
      const file = path.join(dir, `workflow-thread-${i}-${stamp}.heapsnapshot`);
      await pipeline(await thread.getHeapSnapshot(), createWriteStream(file));
      return file;
    }),
  );
  console.log(`snapshots ${JSON.stringify([main, ...threads])}`);
}

async function main(): Promise<void> {
  // SIGUSR2 asks for heap snapshots here, so it is no shutdown signal (the SDK's default list has it).
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT'] });
  const dir = process.env.BENCH_DIR as string;
  const { store, systems, local, integration } = openSqliteFiles(dir);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const workerOptions = JSON.parse(process.env.WORKER_OPTIONS ?? '{}') as Partial<WorkerOptions>;
  const worker = await createWorker({
    connection,
    store,
    systems,
    taskQueue: process.env.TASK_QUEUE as string,
    workflowBundle: { codePath: process.env.BUNDLE_PATH as string },
    workerOptions,
  });
  const sampler = setInterval(sample, 100);
  const snapshotDir = process.env.HEAP_SNAPSHOT_DIR;
  if (snapshotDir) process.on('SIGUSR2', () => void writeSnapshots(snapshotDir).catch((error: unknown) => console.error(error)));
  const running = worker.run();
  console.log('ready');
  await running;
  clearInterval(sampler);
  sample();
  console.log(`memory ${JSON.stringify(peaks)}`);
  // Open database pools would keep the process alive after the worker stopped.
  await connection.close();
  await Promise.all([store.close(), local.destroy(), integration.destroy()]);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
