/**
 * The standalone worker: connects to Temporal (TEMPORAL_* variables), opens the
 * store (DATABASE_URL) and the systems (SYSTEMS_CONFIG, or the demo's), and runs
 * until SIGINT/SIGTERM, finishing the activities in flight.
 */
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { Store } from '../store/store';
import { temporalConfigFromEnv } from './config';
import { createWorker } from './create-worker';
import { runMain } from '../support/fatal';
import { demoSystems, systemsFromFile } from './systems-config';

async function main(): Promise<void> {
  const temporal = temporalConfigFromEnv();
  const store = Store.open({ databaseUrl: process.env.DATABASE_URL });
  await store.migrate();
  const opened = process.env.SYSTEMS_CONFIG ? systemsFromFile(process.env.SYSTEMS_CONFIG) : demoSystems(path.resolve('data'));
  const connection = await NativeConnection.connect({ address: temporal.address, tls: temporal.tls, apiKey: temporal.apiKey });
  try {
    const worker = await createWorker({
      connection,
      store,
      systems: opened.systems,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      log: console.log,
    });
    console.log(`Worker listening on task queue "${temporal.taskQueue}" at ${temporal.address} (namespace ${temporal.namespace}).`);
    await worker.run();
  } finally {
    await connection.close();
    await opened.close();
    await store.close();
  }
}

runMain(main, () => ({ temporalAddress: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233', databaseUrl: process.env.DATABASE_URL ?? '' }));
