/**
 * A worker in a process of its own, so a test can SIGKILL it mid-run.
 * Env: STORE_URL, LOCAL_URL, INTEGRATION_URL (sqlite: or postgres: URLs; a
 * PostgreSQL URL may pick its schema with ?options=-c%20search_path%3D<schema>),
 * TASK_QUEUE, TEMPORAL_ADDRESS, BUNDLE_PATH, DELAY_MS (slows each write so a
 * kill lands mid-run). Optional: FAIL_KEYS (comma-separated creation keys whose
 * creates on the integration side keep failing, transiently), WORKER_IDENTITY
 * (the identity Temporal records in the history), EAGER_ACTIVITIES=0 (no eager
 * activity execution, so activities go through the task queue to any worker), WAIT_FOR_GO=1 (a standby:
 * everything is opened and the worker created, but it polls only once "go" arrives
 * on stdin, so a replacement takes over without paying for its start-up).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../../worker/create-worker';
import { openKnexSystems } from '../../worker/systems-config';
import { Store } from '../../store/store';
import { FaultyConnector } from './faulty-connector';

function goSignal(): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    process.stdin.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('go')) resolve();
    });
  });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const store = Store.open({ databaseUrl: process.env.STORE_URL });
  const opened = openKnexSystems({
    local: { databaseUrl: process.env.LOCAL_URL as string },
    integration: { databaseUrl: process.env.INTEGRATION_URL as string },
  });
  const delayMs = Number(process.env.DELAY_MS ?? 0);
  const failIds = new Set((process.env.FAIL_KEYS ?? '').split(',').filter(Boolean));
  const systems = { ...opened.systems, integration: new FaultyConnector(opened.systems.integration, { delayMs, failIds }) };
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const worker = await createWorker({
    connection,
    store,
    systems,
    taskQueue: process.env.TASK_QUEUE as string,
    workflowBundle: { codePath: process.env.BUNDLE_PATH as string },
    workerOptions: {
      stickyQueueScheduleToStartTimeout: '1s',
      ...(process.env.WORKER_IDENTITY ? { identity: process.env.WORKER_IDENTITY } : {}),
      ...(process.env.EAGER_ACTIVITIES === '0' ? { maxEagerActivityReservationsPerWorkflowTask: 0 } : {}),
    },
  });
  if (process.env.WAIT_FOR_GO === '1') {
    console.log('standby');
    await goSignal();
  }
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
