/**
 * A worker in a process of its own, so a test can SIGKILL it mid-run.
 * Env: STORE_URL, LOCAL_URL, INTEGRATION_URL (sqlite: URLs), TASK_QUEUE,
 * TEMPORAL_ADDRESS, BUNDLE_PATH, DELAY_MS (slows each write so a kill lands mid-run).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../../worker/create-worker';
import { openKnexSystems } from '../../worker/systems-config';
import { Store } from '../../store/store';
import { FaultyConnector } from './faulty-connector';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const store = Store.open({ databaseUrl: process.env.STORE_URL });
  const opened = openKnexSystems({ local: { databaseUrl: process.env.LOCAL_URL as string }, integration: { databaseUrl: process.env.INTEGRATION_URL as string } });
  const delayMs = Number(process.env.DELAY_MS ?? 0);
  const systems = { ...opened.systems, integration: new FaultyConnector(opened.systems.integration, { delayMs }) };
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const worker = await createWorker({
    connection, store, systems, taskQueue: process.env.TASK_QUEUE as string,
    workflowBundle: { codePath: process.env.BUNDLE_PATH as string },
    workerOptions: { stickyQueueScheduleToStartTimeout: '1s' },
  });
  const running = worker.run();
  console.log('ready');
  await running;
  // Open database pools would keep the process alive after the worker stopped.
  await connection.close();
  await Promise.all([store.close(), opened.close()]);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
