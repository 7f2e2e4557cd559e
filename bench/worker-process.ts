/**
 * The worker alone in its own process, so the benchmark can read its peak
 * resident memory (VmHWM) apart from the driver's. Env: BENCH_DIR, TASK_QUEUE,
 * TEMPORAL_ADDRESS. Prints "ready" once polling; the SDK stops it on SIGTERM.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { openSqliteFiles } from './fixtures';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = process.env.BENCH_DIR as string;
  const { store, systems, local, integration } = openSqliteFiles(dir);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const worker = await createWorker({
    connection,
    store,
    systems,
    taskQueue: process.env.TASK_QUEUE as string,
    workflowBundle: { codePath: process.env.BUNDLE_PATH as string },
  });
  const running = worker.run();
  console.log('ready');
  await running;
  // Open database pools would keep the process alive after the worker stopped.
  await connection.close();
  await Promise.all([store.close(), local.destroy(), integration.destroy()]);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
