/**
 * The Temporal server goes down and comes back mid bulk sync, twice: a dev
 * server of this test's own (its own port, its state in a SQLite file) is
 * stopped while the run is under way and started again on the same file and
 * port. The worker process and the client stay up and reconnect; the run
 * completes and the checker passes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CouplingSyncClient } from '../../client';
import type { RunResult } from '../../common/types';
import { sqliteConfig } from '../../store/database-url';
import { Store } from '../../store/store';
import { startDevServer } from '../../worker/dev-server';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { customer, testMapping } from '../helpers/systems';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { CHECKS, checkConsistency, type ConsistencyReport } from './checker';
import { freePort, sleep, waitFor } from './fault-kit';
import { failureText, tally, withFindings, writeSection, type InvariantTally } from './results';
import { spawnWorker, type WorkerProcess } from './worker-processes';

const RECORDS = 4000;
const DOWN_MS = 5000;
const RESTART_AT = [0.2, 0.6];
const MAPPING = 'RESTART';
/** Batches whose completion was lost while the server was down are retried after this; the default is 2 minutes. */
const RETRY = { heartbeatTimeoutMs: 5000, initialIntervalMs: 200 };

let shared: TestTemporal;
let dir: string;
let store: Store;
let local: Knex;
let integration: Knex;
let server: TestWorkflowEnvironment | null = null;
let connection: Connection | null = null;
let worker: WorkerProcess | null = null;
const started = Date.now();
const tallies = new Map<string, InvariantTally>();
const restarts: Record<string, string | number | boolean>[] = [];
const metrics: Record<string, string | number> = {};
let passed = 0;

beforeAll(async () => {
  // The shared connection only installs the quiet runtime logger; this test talks to a server of its own.
  shared = await connectTestTemporal();
  dir = mkdtempSync(path.join(os.tmpdir(), 'fault-restart-'));
  store = Store.open({ databaseUrl: `sqlite:${path.join(dir, 'store.sqlite')}` });
  await store.migrate();
  local = knexFactory(sqliteConfig(path.join(dir, 'local.sqlite')));
  integration = knexFactory(sqliteConfig(path.join(dir, 'integration.sqlite')));
  await createCustomerTable(local);
  await createAccountTable(integration);
  for (let i = 0; i < RECORDS; i += 400) await local('customer').insert(Array.from({ length: Math.min(400, RECORDS - i) }, (_, k) => customer(i + k)));
  await store.saveMapping(testMapping({ name: MAPPING }));
});

afterAll(async () => {
  writeSection({
    id: 'server-restart',
    title: 'Server restart',
    fault: `A dev server of the test's own (persisted in a SQLite file) is stopped ${RESTART_AT.length} times during one bulk sync of ${RECORDS.toLocaleString('en-US')} records, at about ${RESTART_AT.map((f) => `${f * 100}%`).join(' and ')} of it, kept down ${DOWN_MS / 1000} s, and started again on the same file and port. Worker process and client stay up.`,
    runs: 1,
    passed,
    invariants: [...tallies.values()],
    metrics,
    trials: restarts,
    notes: withFindings(
      [
        `Batch activities of this run have a ${RETRY.heartbeatTimeoutMs / 1000} s heartbeat timeout: an activity whose completion could not be delivered while the server was down is handed out again after it. With the default (2 minutes) a restart can cost up to that long.`,
      ],
      tallies,
      CHECKS.countersAddUp,
    ),
    seconds: (Date.now() - started) / 1000,
  });
  await worker?.stop();
  await connection?.close().catch(() => undefined);
  await server?.teardown();
  await Promise.all([local?.destroy(), integration?.destroy(), store?.close()]);
  await shared?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Whether nothing answers on the port: the server is really down, not just unreachable from one client. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Result of the run, asked again while the server is still coming back. */
async function resultOf(sync: CouplingSyncClient, workflowId: string, deadline: number): Promise<RunResult> {
  for (;;) {
    try {
      return (await sync.client.workflow.getHandle(workflowId).result()) as RunResult;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      const name = (error as Error).name;
      // Only transport trouble is retried; a workflow failure is the answer.
      if (name === 'WorkflowFailedError') throw error;
      await sleep(500);
    }
  }
}

test(`bulk sync survives ${RESTART_AT.length} Temporal server restarts: the run completes and the checker passes`, async () => {
  const port = await freePort();
  const dbFilename = path.join(dir, 'temporal.sqlite');
  const address = `127.0.0.1:${port}`;
  server = await startDevServer({ port, dbFilename });
  worker = await spawnWorker({
    STORE_URL: `sqlite:${path.join(dir, 'store.sqlite')}`,
    LOCAL_URL: `sqlite:${path.join(dir, 'local.sqlite')}`,
    INTEGRATION_URL: `sqlite:${path.join(dir, 'integration.sqlite')}`,
    TASK_QUEUE: 'fault-restart',
    TEMPORAL_ADDRESS: address,
    BUNDLE_PATH: process.env.TEMPORAL_TEST_BUNDLE as string,
    DELAY_MS: '25',
  });
  connection = await Connection.connect({ address });
  const sync = new CouplingSyncClient({ client: new Client({ connection }), taskQueue: 'fault-restart' });
  const handle = await sync.startBulkSync({ mapping: MAPPING, batchSize: 100, maxBatchesInFlight: 2, retry: RETRY });
  const runStarted = Date.now();
  let report: ConsistencyReport | null = null;
  const extra: { name: string; ok: boolean }[] = [];
  try {
    for (const [i, at] of RESTART_AT.entries()) {
      await waitFor(`${at * 100}% of the run`, async () => (await store.countCouplings(MAPPING)) >= RECORDS * at, 120_000, 50);
      const row: Record<string, string | number | boolean> = { restart: i + 1, 'couplings when stopped': await store.countCouplings(MAPPING) };
      const stopping = Date.now();
      await server.teardown();
      server = null;
      row['stop took'] = `${((Date.now() - stopping) / 1000).toFixed(1)} s`;
      await sleep(DOWN_MS);
      row['port refused while down'] = await refused(port);
      row['couplings while down'] = await store.countCouplings(MAPPING);
      expect(row['port refused while down']).toBe(true);
      const starting = Date.now();
      server = await startDevServer({ port, dbFilename });
      row['start took'] = `${((Date.now() - starting) / 1000).toFixed(1)} s`;
      row['worker process alive'] = worker.child.exitCode === null;
      restarts.push(row);
      expect(worker.child.exitCode).toBeNull();
    }
    const result = await resultOf(sync, handle.workflowId, Date.now() + 300_000);
    metrics['run time, restarts included'] = `${((Date.now() - runStarted) / 1000).toFixed(1)} s`;
    metrics['server down per restart'] = `${DOWN_MS / 1000} s`;
    report = await checkConsistency({
      store,
      mapping: MAPPING,
      source: { knex: local, table: 'customer', naturalKey: 'name' },
      destination: { knex: integration, table: 'account', naturalKey: 'name' },
      jobIds: result.jobs.map((j) => j.jobId),
    });
    const description = await handle.describe();
    extra.push({ name: 'the run completed', ok: description.status.name === 'COMPLETED' && result.jobs.every((j) => j.status === 'succeeded') });
    extra.push({ name: 'the worker process lived through the restarts', ok: worker.child.exitCode === null });
    expect(description.status.name).toBe('COMPLETED');
    expect(result.jobs.map((j) => j.status)).toEqual(['succeeded']);
    expect(report.problems).toEqual([]);
    expect(report.counts.couplings).toBe(RECORDS);
    expect(report.counts.errorRows).toBe(0);
  } catch (error) {
    if (extra.length === 0) extra.push({ name: 'the run completed', ok: false });
    metrics.problems = failureText(report, error);
    throw error;
  } finally {
    tally(tallies, report, extra);
    if (report?.ok && extra.every((e) => e.ok)) passed = 1;
  }
});
