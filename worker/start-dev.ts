/**
 * `npm start`: the whole product on one machine. Starts the Temporal dev server
 * (Web UI included), migrates the embedded SQLite store, seeds the demo systems
 * and the CUSTOMER mapping, and runs the worker until Ctrl-C.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Store } from '../store/store';
import { TASK_QUEUE } from '../common/constants';
import { createWorker } from './create-worker';
import { startDevServer } from './dev-server';
import { demoMapping, DEMO_MAPPING_NAME, seedDemo } from './demo/demo-data';
import { runMain } from './fatal';
import { demoSystems } from './systems-config';

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.COUPLING_SYNC_DATA_DIR ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

  const store = Store.open({ databaseUrl: process.env.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'coupling-sync.sqlite')}` });
  await store.migrate();
  const opened = demoSystems(dataDir);
  const { seeded } = await seedDemo(opened.knexes.local, opened.knexes.integration);
  await store.saveMapping(demoMapping);

  console.log('Starting the Temporal dev server...');
  const env = await startDevServer({ port, uiPort, dbFilename: path.join(dataDir, 'temporal-dev.sqlite'), log: (l) => console.log(l) });
  const worker = await createWorker({ connection: env.nativeConnection, store, systems: opened.systems, log: (l) => console.log(l) });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the worker and the dev server...`);
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  console.log([
    '',
    `Temporal Web UI:   http://localhost:${uiPort}/namespaces/default/workflows`,
    `Temporal address:  localhost:${port}   task queue: ${TASK_QUEUE}`,
    `Store:             ${path.join(dataDir, 'coupling-sync.sqlite')}${seeded ? ' (demo data seeded)' : ''}`,
    `Demo mapping:      ${DEMO_MAPPING_NAME} (customer <-> account)`,
    '',
    'Try it (in another terminal): couple by name and e-mail, then synchronize',
    `  npm run try -- matchBasedCouplingWorkflow '{"mapping":"${DEMO_MAPPING_NAME}"}'`,
    `  npm run try -- bulkSyncWorkflow '{"mapping":"${DEMO_MAPPING_NAME}"}'`,
    `or in the Web UI: Start Workflow, task queue "${TASK_QUEUE}", type "bulkSyncWorkflow", input {"mapping":"${DEMO_MAPPING_NAME}"}`,
    '',
    'Ctrl-C stops everything.',
  ].join('\n'));

  try {
    await worker.run();
  } finally {
    await env.teardown();
    await opened.close();
    await store.close();
    console.log('Stopped.');
  }
}

runMain(main);
