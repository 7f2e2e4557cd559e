/**
 * Builds the dedicated Temporal Worker for our task queue on top of the plugin:
 * our workflows (a prebuilt bundle or the workflows folder) and activities
 * bound to a store and systems.
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../common/constants';
import { codecDataConverterFromEnv } from '../codec/aes-gcm-codec';
import type { Systems } from '../activities';
import { CouplingSyncPlugin, WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../plugin';
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
  /**
   * Payload codec and converters; must match the clients'. @default the AES-256-GCM
   * codec when COUPLING_SYNC_CODEC_KEY is set (codec/), otherwise Temporal's default.
   */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Extra Worker options (concurrency, identity...). */
  workerOptions?: Partial<WorkerOptions>;
  log?: (line: string) => void;
}

export { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH };

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    plugins: [new CouplingSyncPlugin({ store: options.store, systems: options.systems, log: options.log })],
    maxConcurrentActivityTaskExecutions: 20,
    dataConverter: options.dataConverter ?? codecDataConverterFromEnv(),
    ...options.workerOptions,
  });
}
