/**
 * The store (PostgreSQL) goes away for 30 seconds in the middle of a bulk sync:
 * the worker reaches it through a TCP proxy that cuts every open connection and
 * then, for 15 s, accepts and resets new ones and, for 15 s more, refuses them
 * (nothing listens). Activities must retry through it with the default
 * retry policy; once the proxy forwards again the run completes with no error
 * row and the checker passes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { CouplingSyncClient } from '../../client';
import type { RunResult } from '../../common/types';
import { sqliteConfig } from '../../store/database-url';
import { Store } from '../../store/store';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { customer, testMapping } from '../helpers/systems';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { CHECKS, checkConsistency, type ConsistencyReport } from './checker';
import { sleep, waitFor } from './fault-kit';
import { dropSchemas, postgresTarget, requirePostgres, schemaName, urlFor } from './pg';
import { failureText, tally, withFindings, writeSection, type InvariantTally } from './results';
import { TcpProxy } from './tcp-proxy';
import { spawnWorker, type WorkerProcess } from './worker-processes';

const RECORDS = 3000;
const PHASE_MS = 15_000;
const MAPPING = 'OUTAGE';

let temporal: TestTemporal;
let dir: string;
let schema: string;
let store: Store;
let local: Knex;
let integration: Knex;
let proxy: TcpProxy;
let worker: WorkerProcess | null = null;
const started = Date.now();
const tallies = new Map<string, InvariantTally>();
const metrics: Record<string, string | number> = {};
const trialRow: Record<string, string | number | boolean> = {};
let passed = 0;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  await requirePostgres('The store-outage fault test');
  schema = schemaName('outage');
  store = Store.open({ databaseUrl: urlFor(schema), schema, poolMax: 4 });
  await store.migrate();
  dir = mkdtempSync(path.join(os.tmpdir(), 'fault-outage-'));
  local = knexFactory(sqliteConfig(path.join(dir, 'local.sqlite')));
  integration = knexFactory(sqliteConfig(path.join(dir, 'integration.sqlite')));
  await createCustomerTable(local);
  await createAccountTable(integration);
  for (let i = 0; i < RECORDS; i += 400) await local('customer').insert(Array.from({ length: Math.min(400, RECORDS - i) }, (_, k) => customer(i + k)));
  await store.saveMapping(testMapping({ name: MAPPING }));
  proxy = new TcpProxy(postgresTarget());
  await proxy.start();
});

afterAll(async () => {
  writeSection({
    id: 'store-outage',
    title: 'Store outage',
    fault: `The worker's store is PostgreSQL behind a TCP proxy. Mid bulk sync (${RECORDS.toLocaleString('en-US')} records, default retry policy) the proxy cuts every open connection, accepts and resets new ones for ${PHASE_MS / 1000} s, refuses them for ${PHASE_MS / 1000} s more (nothing listens), then forwards again.`,
    runs: 1,
    passed,
    invariants: [...tallies.values()],
    metrics,
    trials: [trialRow],
    notes: withFindings(
      [
        'No change to the error classification was needed: a query cut mid-flight fails with "Connection terminated unexpectedly" and a refused or reset connect with ECONNREFUSED / ECONNRESET, which connectors/db-errors.ts already treats as transient, so batch activities retry them without limit (bounded only by their schedule-to-close timeout) and never turn them into error rows.',
        'Control activities (startPass, planBatches, finishPass) allow 10 attempts; with the default policy (1 s doubling to 1 minute) that is about 4 minutes of outage before a run would fail. A shorter retry override (e.g. initialIntervalMs 500) shrinks that budget to under 30 s.',
      ],
      tallies,
      CHECKS.countersAddUp,
    ),
    seconds: (Date.now() - started) / 1000,
  });
  await worker?.stop();
  await proxy?.close();
  await Promise.all([local?.destroy(), integration?.destroy(), store?.close()]);
  if (schema) await dropSchemas([schema]);
  await temporal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('bulk sync survives a 30 s store outage: activities retry, the run completes, no error rows', async () => {
  const taskQueue = `fault-outage-${Date.now()}`;
  worker = await spawnWorker({
    STORE_URL: urlFor(schema, { host: '127.0.0.1', port: proxy.port }),
    LOCAL_URL: `sqlite:${path.join(dir, 'local.sqlite')}`,
    INTEGRATION_URL: `sqlite:${path.join(dir, 'integration.sqlite')}`,
    TASK_QUEUE: taskQueue,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS as string,
    BUNDLE_PATH: process.env.TEMPORAL_TEST_BUNDLE as string,
    DELAY_MS: '20',
  });
  const sync = new CouplingSyncClient({ client: temporal.client, taskQueue });
  const handle = await sync.startBulkSync({ mapping: MAPPING, batchSize: 100, maxBatchesInFlight: 2 });
  let report: ConsistencyReport | null = null;
  const failures = new Map<string, number>();
  let maxAttempt = 0;
  const extra: { name: string; ok: boolean }[] = [];
  try {
    await waitFor('the run to be under way', async () => (await store.countCouplings(MAPPING)) >= RECORDS * 0.1, 60_000, 50);
    trialRow['couplings at cut'] = await store.countCouplings(MAPPING);
    const cutAt = Date.now();
    /** What the server knows about the batch activities while the store is away: attempts and their last failure. */
    const watch = async (until: number): Promise<void> => {
      while (Date.now() < until) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        for (const activity of pending) {
          maxAttempt = Math.max(maxAttempt, activity.attempt ?? 0);
          const message = activity.lastFailure?.message;
          if (message) {
            const kind = message.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
            failures.set(kind, (failures.get(kind) ?? 0) + 1);
          }
        }
        await sleep(500);
      }
    };
    await proxy.reset();
    await watch(cutAt + PHASE_MS);
    await proxy.refuse();
    await watch(cutAt + 2 * PHASE_MS);
    const couplingsAtRestore = await store.countCouplings(MAPPING);
    await proxy.restore();
    const restoredAt = Date.now();
    trialRow['outage'] = `${((restoredAt - cutAt) / 1000).toFixed(1)} s`;
    trialRow['couplings at restore'] = couplingsAtRestore;
    const result = (await handle.result()) as RunResult;
    trialRow['restore to completion'] = `${((Date.now() - restoredAt) / 1000).toFixed(1)} s`;
    report = await checkConsistency({
      store,
      mapping: MAPPING,
      source: { knex: local, table: 'customer', naturalKey: 'name' },
      destination: { knex: integration, table: 'account', naturalKey: 'name' },
      jobIds: result.jobs.map((j) => j.jobId),
    });
    extra.push({ name: 'the run completed', ok: result.jobs.every((j) => j.status === 'succeeded') });
    extra.push({ name: 'activities retried through the outage (attempt > 1)', ok: maxAttempt > 1 });
    expect(result.jobs.map((j) => j.status)).toEqual(['succeeded']);
    expect(report.problems).toEqual([]);
    expect(report.counts.errorRows).toBe(0);
    expect(report.counts.couplings).toBe(RECORDS);
    expect(proxy.stats.dropped).toBeGreaterThan(0);
    expect(maxAttempt).toBeGreaterThan(1);
  } catch (error) {
    if (extra.length === 0) extra.push({ name: 'the run completed', ok: false });
    trialRow.problems = failureText(report, error);
    throw error;
  } finally {
    tally(tallies, report, extra);
    if (report?.ok && extra.every((e) => e.ok)) passed = 1;
    trialRow.held = passed === 1;
    Object.assign(metrics, {
      'connections cut by the proxy': proxy.stats.dropped,
      'connections reset on accept': proxy.stats.reset,
      'highest attempt of a batch activity during the outage': maxAttempt,
      'failures the server recorded during the outage': [...failures.keys()].join('; ') || '(none seen)',
    });
  }
});
