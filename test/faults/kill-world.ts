/**
 * What the fault tests that kill worker processes share: a store and two
 * SQLite systems in a temporary directory, the environment their worker
 * processes start with, and a client on a task queue of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { CouplingSyncClient } from '../../client';
import { sqliteConfig } from '../../store/database-url';
import { Store } from '../../store/store';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import type { WorkerEnv, WorkerProcess } from './worker-processes';

export interface KillWorld {
  temporal: TestTemporal;
  dir: string;
  store: Store;
  local: Knex;
  integration: Knex;
  env: WorkerEnv;
  sync: CouplingSyncClient;
}

export async function openKillWorld(name: string, options: { delayMs: number; failKeys: readonly string[] }): Promise<KillWorld> {
  const temporal = await connectTestTemporal();
  const dir = mkdtempSync(path.join(os.tmpdir(), `fault-${name}-`));
  const url = (file: string): string => `sqlite:${path.join(dir, `${file}.sqlite`)}`;
  const store = Store.open({ databaseUrl: url('store') });
  await store.migrate();
  const taskQueue = `fault-${name}-${Date.now()}`;
  return {
    temporal,
    dir,
    store,
    local: knexFactory(sqliteConfig(path.join(dir, 'local.sqlite'))),
    integration: knexFactory(sqliteConfig(path.join(dir, 'integration.sqlite'))),
    env: {
      STORE_URL: url('store'),
      LOCAL_URL: url('local'),
      INTEGRATION_URL: url('integration'),
      TASK_QUEUE: taskQueue,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS as string,
      BUNDLE_PATH: process.env.TEMPORAL_TEST_BUNDLE as string,
      DELAY_MS: String(options.delayMs),
      FAIL_KEYS: options.failKeys.join(','),
    },
    sync: new CouplingSyncClient({ client: temporal.client, taskQueue }),
  };
}

/** Stops the worker processes and releases everything; FAULT_KEEP_DIR=1 keeps the systems and the store for a look after a failed trial. */
export async function closeKillWorld(
  world: KillWorld | undefined,
  workers: { current: WorkerProcess | null; standby: Promise<WorkerProcess> | null },
): Promise<void> {
  await workers.current?.kill();
  await (await workers.standby?.catch(() => null))?.kill();
  if (!world) return;
  await Promise.all([world.local.destroy(), world.integration.destroy(), world.store.close()]);
  await world.temporal.close();
  if (!process.env.FAULT_KEEP_DIR) rmSync(world.dir, { recursive: true, force: true });
  else console.log(`[fault] kept ${world.dir}`);
}
