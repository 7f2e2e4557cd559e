/**
 * A worker SIGKILLed mid-run, then replaced: the run completes and nothing is
 * created or coupled twice. The worker is a real separate process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { temporal as temporalProto } from '@temporalio/proto';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { customer, testMapping } from '../helpers/systems';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { sqliteConfig } from '../../store/database-url';
import { Store } from '../../store/store';
import { CouplingSyncClient } from '../../client';

const temporalEnums = temporalProto.api.enums.v1;
const RECORDS = 1500;
let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

interface Files {
  dir: string;
  store: Store;
  local: Knex;
  integration: Knex;
  env: Record<string, string>;
}

async function files(taskQueue: string): Promise<Files> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kill-'));
  const url = (name: string): string => `sqlite:${path.join(dir, `${name}.sqlite`)}`;
  const store = Store.open({ databaseUrl: url('store') });
  await store.migrate();
  const local = knexFactory(sqliteConfig(path.join(dir, 'local.sqlite')));
  const integration = knexFactory(sqliteConfig(path.join(dir, 'integration.sqlite')));
  await createCustomerTable(local);
  await createAccountTable(integration);
  for (let i = 0; i < RECORDS; i += 250) await local('customer').insert(Array.from({ length: 250 }, (_, k) => customer(i + k)));
  return {
    dir,
    store,
    local,
    integration,
    env: {
      STORE_URL: url('store'),
      LOCAL_URL: url('local'),
      INTEGRATION_URL: url('integration'),
      TASK_QUEUE: taskQueue,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS as string,
      BUNDLE_PATH: process.env.TEMPORAL_TEST_BUNDLE as string,
      DELAY_MS: '60',
    },
  };
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.resolve('test/helpers/worker-process.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

async function killWhen(child: ChildProcess, ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

async function checkNoDuplicates(f: Files): Promise<void> {
  const accounts: { id: string; name: string }[] = await f.integration('account').select('id', 'name');
  expect(accounts).toHaveLength(RECORDS);
  expect(new Set(accounts.map((a) => a.name)).size).toBe(RECORDS);
  expect(await f.store.countCouplings('CUSTOMER')).toBe(RECORDS);
  const couplings = await f.store.knex('couplings').select('integration_id');
  const accountIds = new Set(accounts.map((a) => a.id));
  expect(couplings.every((c: { integration_id: string }) => accountIds.has(c.integration_id))).toBe(true);
}

test.each(['bulkSync', 'matchBasedCoupling', 'fullSynchronization'] as const)(
  '%s: worker killed mid-run, a new worker finishes it with no duplicate',
  async (kind) => {
    const taskQueue = `kill-${kind}-${Date.now()}`;
    const f = await files(taskQueue);
    try {
      await f.store.saveMapping(
        testMapping({
          fields: [
            { localField: 'name', integrationField: 'name', useForMatching: true },
            { localField: 'email', integrationField: 'emailaddress1' },
          ],
        }),
      );
      const sync = new CouplingSyncClient({ client: temporal.client, taskQueue });
      const retry = { heartbeatTimeoutMs: 2000, initialIntervalMs: 100 };
      const first = await startWorker(f.env);
      const handle =
        kind === 'bulkSync'
          ? await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 100, maxBatchesInFlight: 2, retry })
          : kind === 'matchBasedCoupling'
            ? await sync.startMatchBasedCoupling({ mapping: 'CUSTOMER', createNewIfNoMatch: true, batchSize: 100, maxBatchesInFlight: 2, retry })
            : // The parent and its bulk-sync child both lose their worker: the parent resumes waiting on the same child.
              await sync.startFullSynchronization({ mappings: ['CUSTOMER'], batchSize: 100, maxBatchesInFlight: 2, retry });
      await killWhen(first, async () => Number((await f.integration('account').count({ n: '*' }).first())?.n) > RECORDS / 4);
      const killedAt = Number((await f.integration('account').count({ n: '*' }).first())?.n);
      expect(killedAt).toBeLessThan(RECORDS);
      const second = await startWorker(f.env);
      try {
        const outcome = await handle.result();
        const result = 'jobs' in outcome ? outcome : outcome.mappings[0];
        if (!('jobs' in outcome)) {
          expect(outcome.mappings[0]).toMatchObject({ state: 'done', workflowIds: [`${handle.workflowId}/CUSTOMER/sync`] });
          // The resumed parent found its child again: one child started, one job.
          const events = (await handle.fetchHistory()).events ?? [];
          expect(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(1);
          expect(await f.store.listJobs({ mappingName: 'CUSTOMER' })).toHaveLength(1);
        }
        expect(result.jobs[0].status).toBe('succeeded');
        await checkNoDuplicates(f);
        expect(await f.store.listErrors()).toEqual([]);
      } finally {
        const stopped = new Promise((r) => second.once('exit', r));
        second.kill('SIGTERM');
        await stopped;
      }
    } finally {
      await f.local.destroy();
      await f.integration.destroy();
      await f.store.close();
    }
  },
);

test('a worker killed during a control activity costs its heartbeat timeout, not its one-minute start-to-close', async () => {
  const taskQueue = `kill-control-${Date.now()}`;
  const f = await files(taskQueue);
  // A second connection holds the store's write lock, so the run's first write (acquireRunLock) waits on it.
  const blocker = knexFactory(sqliteConfig(f.env.STORE_URL.slice('sqlite:'.length)));
  try {
    await f.store.saveMapping(testMapping({}));
    const sync = new CouplingSyncClient({ client: temporal.client, taskQueue });
    const first = await startWorker(f.env);
    const trx = await blocker.transaction();
    await trx.raw('CREATE TABLE write_lock_holder (x INTEGER)');
    const handle = await sync.startBulkSync({ mapping: 'CUSTOMER', batchSize: 500, retry: { heartbeatTimeoutMs: 2000, initialIntervalMs: 100 } });
    await killWhen(first, async () =>
      ((await handle.describe()).raw.pendingActivities ?? []).some(
        (a) => a.activityType?.name === 'acquireRunLock' && a.state === temporalEnums.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      ),
    );
    await trx.rollback();
    const second = await startWorker(f.env);
    try {
      expect((await handle.result()).jobs[0].status).toBe('succeeded');
      await checkNoDuplicates(f);
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'acquireRunLock');
      const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString());
      // The killed attempt timed out by its heartbeat; the retry on the new worker took the lease.
      expect(started?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(2);
      expect(started?.activityTaskStartedEventAttributes?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporalEnums.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    } finally {
      const stopped = new Promise((r) => second.once('exit', r));
      second.kill('SIGTERM');
      await stopped;
    }
  } finally {
    await blocker.destroy();
    await f.local.destroy();
    await f.integration.destroy();
    await f.store.close();
  }
});
