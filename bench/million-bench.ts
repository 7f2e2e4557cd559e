/**
 * The large bulk run: `count` records created in one bulkSyncWorkflow (which
 * continues as new as it goes), the worker in a process of its own so its
 * peak resident memory is its own. With `snapshotAfterSeconds`, the worker
 * writes heap snapshots of its main and workflow threads that many seconds
 * into the run (bench/worker-process.ts); the run's own time and memory are
 * then not representative.
 */
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { WorkerOptions } from '@temporalio/worker';
import { CouplingSyncClient } from '../client';
import { historyStats, type Ctx, type HistoryStats } from './context';
import { openBenchEnv, seed } from './fixtures';
import { log, round, timed } from './stats';
import { withWorkerChild, type ProcessSettings, type WorkerMemory } from './worker-child';

export interface MillionResult {
  records: number;
  seconds: number;
  history: HistoryStats;
  memory: WorkerMemory;
  snapshots: string[];
}

export interface MillionOptions {
  workerOptions?: Partial<WorkerOptions>;
  /** How the worker process is started. @default WORKER_PROCESS_SETTINGS */
  settings?: ProcessSettings;
  snapshotAfterSeconds?: number;
  snapshotDir?: string;
}

export async function millionRun(ctx: Ctx, count: number, options: MillionOptions = {}): Promise<MillionResult> {
  const env = await openBenchEnv('sqlite');
  const taskQueue = `million-${randomUUID()}`;
  try {
    log(`seeding ${count} rows`);
    await seed(env.local, 'src', count);
    if (options.snapshotDir) mkdirSync(options.snapshotDir, { recursive: true });
    const { result, memory, snapshots } = await withWorkerChild(
      ctx,
      env,
      taskQueue,
      { workerOptions: options.workerOptions, heapSnapshotDir: options.snapshotDir, settings: options.settings },
      async (child) => {
        const handle = await new CouplingSyncClient({ client: ctx.client, taskQueue }).startBulkSync({
          mapping: 'BENCH',
          batchSize: 1000,
          maxBatchesInFlight: 4,
        });
        const snapshot = options.snapshotAfterSeconds === undefined ? null : setTimeout(() => child.snapshot(), options.snapshotAfterSeconds * 1000);
        try {
          const seconds = await timed(() => Promise.race([handle.result(), child.exited]));
          return { seconds, history: await historyStats(ctx.client, handle.workflowId, handle.firstExecutionRunId) };
        } finally {
          if (snapshot) clearTimeout(snapshot);
        }
      },
    );
    const [dst] = await env.integration('dst').count({ n: '*' });
    if (Number(dst.n) !== count) throw new Error(`the large run left ${dst.n} rows, expected ${count}`);
    log(
      `bulk ${count}: ${round(result.seconds, 1)} s, ${result.history.maxEvents} history events at most per run over ${result.history.runs} runs, worker peak RSS ${memory.peakRssMb} MB`,
    );
    return { records: count, seconds: result.seconds, history: result.history, memory, snapshots };
  } finally {
    await env.close();
  }
}
