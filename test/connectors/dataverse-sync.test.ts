/**
 * Bulk sync on the real dev server with a SQLite "customer" table on the local
 * side and the Dataverse emulator behind a DataverseConnector on the
 * integration side: batching, paging, stale ETags under the conflict rules,
 * throttling, a dropped connection after a create batch, one token.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import knexFactory, { type Knex } from 'knex';
import { createActivities, type Systems } from '../../activities';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { DataverseConnector, type DataverseConnectorOptions } from '../../connectors/dataverse';
import type { MappingDefinition } from '../../domain/mapping';
import { MESSAGES } from '../../domain/sync-decision';
import { sqliteConfig } from '../../store/database-url';
import type { Store } from '../../store/store';
import { createCustomerTable } from '../../worker/demo/demo-data';
import { startDataverseEmulator, type DataverseEmulator, type Row } from '../../emulators/dataverse/dataverse-emulator';
import { sqliteDialect } from '../helpers/stores';
import { customer, testMapping, tick } from '../helpers/systems';
import { connectTestTemporal, withWorker, type TestTemporal, type WorkerHarness } from '../helpers/temporal';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

interface Ctx {
  store: Store;
  systems: Systems;
  local: Knex;
  emulator: DataverseEmulator;
  run<T>(fn: (h: WorkerHarness) => Promise<T>): Promise<T>;
  accountOf(localId: string): Promise<Row | undefined>;
  close(): Promise<void>;
}

async function setup(mapping: Partial<MappingDefinition> = {}, connector: Partial<DataverseConnectorOptions> = {}): Promise<Ctx> {
  const { store, cleanup } = await sqliteDialect.open();
  const local = knexFactory(sqliteConfig(':memory:'));
  await createCustomerTable(local);
  const emulator = await startDataverseEmulator();
  const systems: Systems = {
    local: new KnexTableConnector({ name: 'local', knex: local }),
    integration: new DataverseConnector({
      name: 'dataverse',
      environmentUrl: emulator.environmentUrl,
      credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
      tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: ['name', 'emailaddress1', 'telephone1', 'address1_city'] } },
      ...connector,
    }),
  };
  await store.saveMapping(testMapping(mapping));
  return {
    store,
    systems,
    local,
    emulator,
    run: (fn) => withWorker(temporal, { store, systems }, fn),
    accountOf: async (localId) => {
      const [coupling] = await store.getCouplings('CUSTOMER', 'local', [localId]);
      return coupling ? emulator.get('accounts', coupling.integrationId) : undefined;
    },
    close: async () => {
      await emulator.close();
      await local.destroy();
      await cleanup();
    },
  };
}

/** Customers last modified a minute ago: many rows stamped with tick() would run into the future, past the job's start. */
function customers(count: number): Record<string, unknown>[] {
  const base = Date.now() - 60_000;
  return Array.from({ length: count }, (_, i) => customer(i, { modified_on: new Date(base + i).toISOString() }));
}

const batchRequests = (e: DataverseEmulator) => e.log.filter((l) => l.method === 'POST' && l.url.endsWith('$batch'));
const apiRequests = (e: DataverseEmulator) => e.log.filter((l) => l.url.startsWith(e.apiPath));
const tokenRequests = (e: DataverseEmulator) => e.log.filter((l) => l.url.includes('/oauth2/v2.0/token'));

test('local to Dataverse: creates go in $batch requests, then only the changed records, then nothing; one token throughout', async () => {
  const ctx = await setup();
  try {
    await ctx.local.batchInsert('customer', customers(1200), 200);
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(first.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 1200, coupled: 1200, failed: 0 } });
      expect(ctx.emulator.all('accounts')).toHaveLength(1200);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(1200);
      expect(await ctx.accountOf('C3')).toMatchObject({ name: 'Customer 3', emailaddress1: 'c3@example.com', telephone1: '555-3', address1_city: 'Seattle' });
      // Three batches of the run's 500 records, each one $batch request.
      expect(
        batchRequests(ctx.emulator)
          .map((b) => b.operations)
          .sort(),
      ).toEqual([200, 500, 500]);
      expect(apiRequests(ctx.emulator).length / 1200).toBeLessThan(0.1);

      await ctx.local('customer').where('id', 'C2').update({ city: 'Atlanta', modified_on: tick() });
      await ctx.local('customer').where('id', 'C4').update({ name: 'Renamed', modified_on: tick() });
      const before = batchRequests(ctx.emulator).length;
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs[0].counters).toMatchObject({ inserted: 0, modified: 2, unchanged: 0, failed: 0 });
      expect(await ctx.accountOf('C2')).toMatchObject({ address1_city: 'Atlanta', name: 'Customer 2' });
      expect(await ctx.accountOf('C4')).toMatchObject({ name: 'Renamed' });
      expect(
        batchRequests(ctx.emulator)
          .slice(before)
          .map((b) => b.operations),
      ).toEqual([2]);

      const third = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(third.jobs[0].counters).toMatchObject({ inserted: 0, modified: 0, unchanged: 0 });
      expect(tokenRequests(ctx.emulator)).toHaveLength(1);
    });
  } finally {
    await ctx.close();
  }
});

test('Dataverse to local: pages of the emulator read in keyset ranges, then only the records edited in Dataverse', async () => {
  const ctx = await setup({ direction: 'FromIntegrationTable' }, { pageSize: 250 });
  try {
    const seeded = ctx.emulator.put(
      'accounts',
      Array.from({ length: 900 }, (_, i) => ({
        name: `Account ${i}`,
        emailaddress1: `a${i}@example.com`,
        modifiedon: `2026-01-01T00:00:0${i % 4}Z`,
      })),
    );
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: 'CUSTOMER', batchSize: 200 });
      expect(first.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 900, coupled: 900, failed: 0 } });
      expect(Number((await ctx.local('customer').count({ n: '*' }).first())?.n)).toBe(900);
      const pages = ctx.emulator.log.filter((l) => l.method === 'GET' && l.url.includes('$skiptoken='));
      expect(pages.length).toBeGreaterThan(0);
      expect(pages.every((p) => p.status === 200)).toBe(true);

      const edited = [seeded[10], seeded[500]].map((r) => String(r.accountid));
      for (const id of edited) ctx.emulator.edit('accounts', id, { telephone1: 'edited' });
      const second = await sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(second.jobs[0].counters).toMatchObject({ inserted: 0, modified: 2, failed: 0 });
      const couplings = await ctx.store.getCouplings('CUSTOMER', 'integration', edited);
      const phones = await ctx
        .local('customer')
        .whereIn(
          'id',
          couplings.map((c) => c.localId),
        )
        .pluck('phone');
      expect(phones).toEqual(['edited', 'edited']);
    });
  } finally {
    await ctx.close();
  }
});

describe('a record edited in Dataverse between our read and our write (stale ETag)', () => {
  const staleSetup = async (updateConflictResolution: 'None' | 'SendToIntegration'): Promise<Ctx> => {
    const ctx = await setup({ direction: 'Bidirectional', updateConflictResolution });
    await ctx.local('customer').insert([customer(1), customer(2)]);
    return ctx;
  };

  test.each([
    ['None', 'the record fails as a conflict with an error row; neither side is overwritten'],
    ['SendToIntegration', 'the local value wins on the retry'],
  ] as const)('%s: %s', async (resolution, _outcome) => {
    const ctx = await staleSetup(resolution);
    try {
      await ctx.run(async ({ sync }) => {
        await sync.bulkSync({ mapping: 'CUSTOMER' });
        const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        await ctx.local('customer').where('id', 'C1').update({ name: 'Local edit', modified_on: tick() });
        // Someone edits the account in Dataverse just before our update batch arrives: our ETag is stale.
        ctx.emulator.intercept({
          when: (r) => r.method === 'POST' && r.url.endsWith('$batch'),
          times: 1,
          run: () => {
            ctx.emulator.edit('accounts', c1.integrationId, { name: 'Remote edit' });
          },
        });
        const conflictsBefore = ctx.emulator.stats.preconditionFailed;
        const run = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable', retry: FAST_RETRY });
        expect(ctx.emulator.stats.preconditionFailed).toBe(conflictsBefore + 1);
        const errors = await ctx.store.listErrors({ mappingName: 'CUSTOMER' });
        const [after] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
        if (resolution === 'None') {
          expect(run.jobs[0].counters).toMatchObject({ modified: 0, failed: 1 });
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatchObject({ sourceRecordId: 'C1', destinationRecordId: c1.integrationId, message: MESSAGES.conflict });
          expect(after).toMatchObject({ lastToIntegrationResult: 'Failure', toIntegrationFailureCount: 1 });
          expect(await ctx.accountOf('C1')).toMatchObject({ name: 'Remote edit' });
          expect(await ctx.local('customer').where('id', 'C1').first()).toMatchObject({ name: 'Local edit' });
        } else {
          expect(run.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
          expect(errors).toHaveLength(0);
          expect(after).toMatchObject({ lastToIntegrationResult: 'Success', toIntegrationFailureCount: 0 });
          expect(await ctx.accountOf('C1')).toMatchObject({ name: 'Local edit' });
        }
      });
    } finally {
      await ctx.close();
    }
  });
});

test('Dataverse answers 429 with Retry-After: the run waits at least that long, completes, and writes no error rows', async () => {
  const ctx = await setup();
  try {
    await ctx.local.batchInsert('customer', customers(600), 200);
    ctx.emulator.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 1 }, times: 2, when: (r) => r.url.endsWith('$batch') });
    await ctx.run(async ({ sync }) => {
      const started = Date.now();
      // Two attempts only: the two throttled ones must not count against them.
      const result = await sync.bulkSync({ mapping: 'CUSTOMER', batchSize: 1000, retry: { maximumAttempts: 2, initialIntervalMs: 20 } });
      const elapsed = Date.now() - started;
      expect(result.jobs[0].counters).toMatchObject({ inserted: 600, coupled: 600, failed: 0 });
      expect(elapsed).toBeGreaterThanOrEqual(2000);
      expect(await ctx.store.listErrors()).toHaveLength(0);
      const log = batchRequests(ctx.emulator);
      expect(log.map((b) => b.status)).toEqual([429, 429, 200]);
      expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(1000);
      expect(log[2].at - log[1].at).toBeGreaterThanOrEqual(1000);
      expect(log[2].operations).toBe(600);
      expect(ctx.emulator.all('accounts')).toHaveLength(600);
    });
  } finally {
    await ctx.close();
  }
});

test('a connection dropped after Dataverse applied a create batch: the retry adds no duplicate and each record has one coupling', async () => {
  const ctx = await setup();
  try {
    await ctx.local.batchInsert('customer', customers(300), 200);
    ctx.emulator.injectFault({ fault: { kind: 'dropAfterWrite' }, times: 1, when: (r) => r.url.endsWith('$batch') });
    await ctx.run(async ({ sync }) => {
      const result = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY });
      expect(result.jobs[0].counters).toMatchObject({ inserted: 300, coupled: 300, failed: 0 });
      const accounts = ctx.emulator.all('accounts');
      expect(accounts).toHaveLength(300);
      expect(new Set(accounts.map((a) => a.name)).size).toBe(300);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(300);
      const couplings = await ctx.store.getCouplings(
        'CUSTOMER',
        'local',
        Array.from({ length: 300 }, (_, i) => `C${i}`),
      );
      expect(couplings).toHaveLength(300);
      expect(new Set(couplings.map((c) => c.integrationId)).size).toBe(300);
      expect(couplings.every((c) => ctx.emulator.get('accounts', c.integrationId) !== undefined)).toBe(true);
      // The replayed creates found their records (412 on If-None-Match) instead of adding new ones.
      expect(ctx.emulator.stats.preconditionFailed).toBe(300);
      expect(await ctx.store.listErrors()).toHaveLength(0);
    });
  } finally {
    await ctx.close();
  }
});

test("a batch that gives up writes error rows for exactly its range of Dataverse records, in the service's id order", async () => {
  const ctx = await setup({ direction: 'FromIntegrationTable' });
  try {
    // One modifiedon for all: the range is told apart by the GUIDs alone, which Dataverse orders as SQL Server does.
    ctx.emulator.put(
      'accounts',
      Array.from({ length: 300 }, (_, i) => ({ name: `Account ${i}`, modifiedon: '2026-01-01T00:00:01Z' })),
    );
    const keys = await ctx.systems.integration.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 1000 });
    const jobId = randomUUID();
    await ctx.store.createJob({
      id: jobId,
      mappingName: 'CUSTOMER',
      type: 'Synchronization',
      direction: 'FromIntegrationTable',
      workflowId: null,
      runId: null,
    });
    const activities = createActivities({ store: ctx.store, systems: ctx.systems });
    const counters = await activities.failBatch({
      mapping: 'CUSTOMER',
      direction: 'FromIntegrationTable',
      jobId,
      selection: { kind: 'range', since: null, after: keys[99], through: keys[199] },
      message: 'schedule-to-close timeout',
    });
    expect(counters.failed).toBe(100);
    const errors = await ctx.store.listErrors({ jobId, limit: 1000 });
    expect(new Set(errors.map((e) => e.sourceRecordId))).toEqual(new Set(keys.slice(100, 200).map((k) => k.id)));
  } finally {
    await ctx.close();
  }
});

test('a nextLink to another host fails the run at once, non-retryable, naming the host; the token is not sent there', async () => {
  const sent: string[] = [];
  // A service (or something in between) whose answer points the next page at a host of its choosing.
  const hostile = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push(String(url));
    const response = await fetch(url, init);
    const text = (await response.text()).replace(/"@odata\.nextLink":"http:\/\/127\.0\.0\.1:\d+/, '"@odata.nextLink":"https://collector.evil.example');
    return new Response(text, { status: response.status, headers: response.headers });
  }) as typeof fetch;
  const ctx = await setup({ direction: 'FromIntegrationTable' }, { pageSize: 5, fetch: hostile });
  try {
    ctx.emulator.put(
      'accounts',
      Array.from({ length: 20 }, (_, i) => ({ name: `Account ${i}`, emailaddress1: `a${i}@example.com` })),
    );
    await ctx.run(async ({ sync }) => {
      const started = Date.now();
      const error = await sync.bulkSync({ mapping: 'CUSTOMER', retry: FAST_RETRY }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
      expect(cause?.message).toMatch(/refused to send the access token to https:\/\/collector\.evil\.example/);
      // Not retried into its retry policy: one planning attempt.
      expect(Date.now() - started).toBeLessThan(15_000);
    });
    expect(sent.filter((u) => u.includes('evil.example'))).toEqual([]);
    expect(Number((await ctx.local('customer').count({ n: '*' }).first())?.n)).toBe(0);
  } finally {
    await ctx.close();
  }
});
