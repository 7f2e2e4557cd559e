/**
 * `npm start`: the whole product on one machine. Starts the Temporal dev server
 * (Web UI included), migrates the embedded SQLite store, seeds the demo systems
 * and the CUSTOMER mapping, and runs the worker until Ctrl-C.
 * `npm start -- --emulators`: the same demo between the Business Central and
 * Dataverse emulators, through the real connectors.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Store } from '../store/store';
import { TASK_QUEUE } from '../common/constants';
import { createWorker } from './create-worker';
import { startDevServer } from './dev-server';
import { demoMapping, DEMO_MAPPING_NAME, seedDemo } from './demo/demo-data';
import { runMain } from '../support/fatal';
import { demoSystems, type OpenedSystems } from './systems-config';
import { startDemoSet } from './demo/demo-set';
import type { MappingDefinition } from '../domain/mapping';
import { Client, Connection } from '@temporalio/client';
import { CouplingSyncClient } from '../client';
import { SyncSchedules } from '../client/schedules';
import { startConsoleFromEnv } from '../console/main';

interface DemoSystems {
  systems: OpenedSystems['systems'];
  mappings: MappingDefinition[];
  /** What to try first, one line each. */
  tryLines: string[];
  storeUrl: string;
  lines: string[];
  close(): Promise<void>;
}

async function sqliteDemo(dataDir: string): Promise<DemoSystems> {
  const opened = demoSystems(dataDir);
  const { seeded } = await seedDemo(opened.knexes.local, opened.knexes.integration);
  const storeFile = path.join(dataDir, 'coupling-sync.sqlite');
  return {
    systems: opened.systems,
    mappings: [demoMapping],
    tryLines: [
      'Try it (in another terminal): couple by name and e-mail, then synchronize',
      `  npm run try -- matchBasedCouplingWorkflow '{"mapping":"${DEMO_MAPPING_NAME}"}'`,
      `  npm run try -- bulkSyncWorkflow '{"mapping":"${DEMO_MAPPING_NAME}"}'`,
      `or in the Web UI: Start Workflow, task queue "${TASK_QUEUE}", type "bulkSyncWorkflow", input {"mapping":"${DEMO_MAPPING_NAME}"}`,
    ],
    storeUrl: process.env.DATABASE_URL ?? `sqlite:${storeFile}`,
    lines: [
      `Store:             ${process.env.DATABASE_URL ? 'DATABASE_URL' : storeFile}${seeded ? ' (demo data seeded)' : ''}`,
      `Demo mapping:      ${DEMO_MAPPING_NAME} (customer <-> account, two SQLite databases in ${dataDir})`,
    ],
    close: () => opened.close(),
  };
}

async function emulatorDemo(dataDir: string): Promise<DemoSystems> {
  // The emulators keep their records in memory: couplings from an earlier start would point at records that are gone.
  const dir = path.join(dataDir, 'emulators');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const emulated = await startDemoSet();
  const bc = emulated.businessCentral;
  return {
    systems: emulated.systems,
    mappings: emulated.mappings,
    storeUrl: `sqlite:${path.join(dir, 'coupling-sync.sqlite')}`,
    lines: [
      `Store:             ${path.join(dir, 'coupling-sync.sqlite')} (new on every start)`,
      `Business Central:  ${bc.apiUrl} (EMULATOR, ${bc.records('customers').length} customers, ${bc.records('contacts').length} contacts)`,
      `Dataverse:         ${emulated.dataverse.environmentUrl}${emulated.dataverse.apiPath} (EMULATOR, ${emulated.dataverse.all('systemusers').length} users, ${emulated.dataverse.all('accounts').length} account)`,
      `Demo mappings:     ${emulated.mappings.map((m) => m.name).join(', ')} (BC's default set, with lookups and dependencies)`,
    ],
    tryLines: [
      'Try it (in another terminal): synchronize the whole set in dependency order, coupling first where both sides hold records',
      '  npx coupling-sync full-sync',
      `or in the Web UI: Start Workflow, task queue "${TASK_QUEUE}", type "fullSynchronizationWorkflow", input {}`,
    ],
    close: () => emulated.close(),
  };
}

async function main(): Promise<void> {
  const options = new Command('npm start')
    .description('Temporal dev server + Web UI + worker + demo systems, until Ctrl-C.')
    .option('--emulators', 'run the demo between the Business Central and Dataverse emulators instead of two SQLite databases')
    .parse(process.argv)
    .opts<{ emulators?: boolean }>();
  const dataDir = path.resolve(process.env.COUPLING_SYNC_DATA_DIR ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

  const demo = options.emulators ? await emulatorDemo(dataDir) : await sqliteDemo(dataDir);
  const store = Store.open({ databaseUrl: demo.storeUrl });
  await store.migrate();
  for (const mapping of demo.mappings) await store.saveMapping(mapping);

  console.log('Starting the Temporal dev server...');
  const env = await startDevServer({ port, uiPort, dbFilename: path.join(dataDir, 'temporal-dev.sqlite'), log: (l) => console.log(l) });
  const worker = await createWorker({ connection: env.nativeConnection, store, systems: demo.systems, log: (l) => console.log(l) });
  const connection = await Connection.connect({ address: env.address });
  const client = new Client({ connection });
  const webConsole = await startConsoleFromEnv({
    store,
    sync: new CouplingSyncClient({ client, taskQueue: TASK_QUEUE }),
    schedules: new SyncSchedules(client, TASK_QUEUE),
    namespace: 'default',
    webUiUrl: `http://localhost:${uiPort}`,
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the worker and the dev server...`);
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  console.log(
    [
      '',
      `Temporal Web UI:   http://localhost:${uiPort}/namespaces/default/workflows`,
      `Console:           ${webConsole.url} (couplings and errors, jobs, mappings)`,
      `Temporal address:  localhost:${port}   task queue: ${TASK_QUEUE}`,
      ...demo.lines,
      '',
      ...demo.tryLines,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );

  try {
    await worker.run();
  } finally {
    await webConsole.close();
    await connection.close();
    await env.teardown();
    await demo.close();
    await store.close();
    console.log('Stopped.');
  }
}

runMain(main);
