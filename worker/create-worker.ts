/**
 * Builds a Temporal Worker for our task queue: our workflows (from a prebuilt
 * bundle or the workflows folder) and activities bound to a store and systems.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../common/constants';
import { createActivities, type Systems } from '../activities';
import type { Store } from '../store/store';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  store: Store;
  systems: Systems;
  /** @default 'default' */
  namespace?: string;
  /** @default TASK_QUEUE */
  taskQueue?: string;
  /** A bundle built once (tests, benchmarks); the workflows folder is bundled at start otherwise. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra Worker options (concurrency, identity...). */
  workerOptions?: Partial<WorkerOptions>;
  log?: (line: string) => void;
}

/** Path of the workflow-only entry point, for bundling. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ store: options.store, systems: options.systems, log: options.log }),
    maxConcurrentActivityTaskExecutions: 20,
    ...options.workerOptions,
  });
}
