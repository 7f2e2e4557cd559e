/** Reaches the run's one dev server and runs a worker on a task queue of the test's own. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { CouplingSyncClient } from '../../client';
import type { Systems } from '../../activities';
import type { Store } from '../../store/store';
import { createWorker } from '../../worker/create-worker';

export interface TestTemporal {
  client: Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function connectTestTemporal(): Promise<TestTemporal> {
  if (!runtimeInstalled) {
    // Expected failures (bad input, exhausted retries) would otherwise fill the output with warnings.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (global setup starts the dev server).');
  // The dev server is shared by the whole run on a busy machine: the SDK's 10 s connect deadline was seen to pass there.
  const connection = await Connection.connect({ address, connectTimeout: '60s' });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    nativeConnection,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export interface WorkerHarness {
  taskQueue: string;
  worker: Worker;
  sync: CouplingSyncClient;
}

/** Runs `fn` while a worker serves a fresh task queue with the prebuilt bundle. */
export async function withWorker<T>(temporal: TestTemporal, deps: { store: Store; systems: Systems }, fn: (h: WorkerHarness) => Promise<T>): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const bundlePath = process.env.TEMPORAL_TEST_BUNDLE;
  if (!bundlePath) throw new Error('TEMPORAL_TEST_BUNDLE is not set: run the tests through jest.');
  const worker = await createWorker({
    connection: temporal.nativeConnection,
    store: deps.store,
    systems: deps.systems,
    taskQueue,
    workflowBundle: { codePath: bundlePath },
  });
  const sync = new CouplingSyncClient({ client: temporal.client, taskQueue });
  return worker.runUntil(() => fn({ taskQueue, worker, sync }));
}
