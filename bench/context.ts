/**
 * What every section of the benchmark shares: the dev server's clients, the
 * bundle of our workflows, a worker of ours on a task queue of its own, and
 * the history of a run followed through its continue-as-new chain.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CouplingSyncClient } from '../client';
import { createWorker } from '../worker/create-worker';
import type { BenchEnv } from './fixtures';

export interface Ctx {
  env: TestWorkflowEnvironment;
  client: Client;
  native: NativeConnection;
  bundleCode: string;
  quick: boolean;
  runs: number;
}

/** Worker options shared by the bulk and single-sync workers and the empty-workflow baseline. */
export const BENCH_WORKER_OPTIONS = {
  maxConcurrentActivityTaskExecutions: 8,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentLocalActivityExecutions: 40,
} satisfies Partial<WorkerOptions>;

/** Runs `fn` with a worker of ours (the prebuilt bundle, the bench's store and systems) polling a fresh task queue. */
export async function withBenchWorker<T>(ctx: Ctx, benchEnv: BenchEnv, fn: (sync: CouplingSyncClient, taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createWorker({
    connection: ctx.native,
    store: benchEnv.store,
    systems: benchEnv.systems,
    taskQueue,
    workflowBundle: { code: ctx.bundleCode },
    workerOptions: BENCH_WORKER_OPTIONS,
  });
  return worker.runUntil(() => fn(new CouplingSyncClient({ client: ctx.client, taskQueue }), taskQueue));
}

export interface HistoryStats {
  /** Runs in the continue-as-new chain. */
  runs: number;
  /** Events of the longest run. */
  maxEvents: number;
  /** Events of all runs together. */
  totalEvents: number;
}

type HistoryEvent = { workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string | null } | null };

/** Follows a workflow from its first run through every continue-as-new, counting events per run. */
export async function historyStats(client: Client, workflowId: string, firstRunId: string | undefined): Promise<HistoryStats> {
  let runId = firstRunId;
  const stats: HistoryStats = { runs: 0, maxEvents: 0, totalEvents: 0 };
  while (runId) {
    const history: { events?: HistoryEvent[] | null } = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    stats.runs++;
    stats.maxEvents = Math.max(stats.maxEvents, events.length);
    stats.totalEvents += events.length;
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return stats;
}
