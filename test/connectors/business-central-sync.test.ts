/**
 * Bulk sync on the real dev server with the Business Central emulator as the
 * local side (customers) and a SQLite table as the integration side, in both
 * directions: paging, $batch writes, If-Match and stale ETags, throttling,
 * a dropped connection after a create batch, and racing creates.
 */
import knexFactory, { type Knex } from 'knex';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { sqliteConfig } from '../../store/database-url';
import type { MappingDefinition } from '../../domain/mapping';
import type { Store } from '../../store/store';
import { sqliteDialect } from '../helpers/stores';
import { tick } from '../helpers/systems';
import { connectTestTemporal, withWorker, type TestTemporal, type WorkerHarness } from '../helpers/temporal';
import { startBusinessCentralEmulator, type BusinessCentralEmulator, type BusinessCentralEmulatorOptions } from '../../emulators/business-central/bc-emulator';

const FAST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50 };
const MAPPING = 'BC_CUSTOMER';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

interface Ctx {
  emu: BusinessCentralEmulator;
  store: Store;
  crm: Knex;
  run<T>(fn: (h: WorkerHarness) => Promise<T>): Promise<T>;
  accounts(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function setup(mapping: Partial<MappingDefinition> = {}, emulator: BusinessCentralEmulatorOptions = {}): Promise<Ctx> {
  const emu = await startBusinessCentralEmulator({ pageSize: 20, ...emulator });
  const { store, cleanup } = await sqliteDialect.open();
  const crm = knexFactory(sqliteConfig(':memory:'));
  await crm.schema.createTable('account', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('emailaddress1', 200).nullable();
    t.string('telephone1', 50).nullable();
    t.string('address1_city', 100).nullable();
    t.string('modified_on', 32).notNullable();
    t.index(['modified_on', 'id']);
  });
  const systems = {
    bc: new BusinessCentralConnector(emu.connectorOptions()),
    crm: new KnexTableConnector({ name: 'crm', knex: crm }),
  };
  await store.saveMapping({
    name: MAPPING,
    local: { system: 'bc', table: 'customers' },
    integration: { system: 'crm', table: 'account' },
    direction: 'Bidirectional',
    syncOnlyCoupledRecords: false,
    fields: [
      { localField: 'displayName', integrationField: 'name', direction: 'Bidirectional' },
      { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional' },
      { localField: 'phoneNumber', integrationField: 'telephone1', direction: 'Bidirectional' },
      { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional' },
    ],
    ...mapping,
  });
  return {
    emu,
    store,
    crm,
    run: (fn) => withWorker(temporal, { store, systems }, fn),
    accounts: () => crm('account').select().orderBy('id'),
    close: async () => {
      await emu.close();
      await crm.destroy();
      await cleanup();
    },
  };
}

const bcCustomer = (i: number, extra: Record<string, unknown> = {}) => ({
  displayName: `Customer ${i}`,
  email: `c${i}@example.com`,
  phoneNumber: `555-${i}`,
  city: 'Seattle',
  ...extra,
});
const account = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `A${i}`,
  name: `Account ${i}`,
  emailaddress1: `a${i}@example.com`,
  telephone1: null,
  address1_city: 'Oslo',
  modified_on: tick(),
  ...extra,
});
const batches = (ctx: Ctx) => ctx.emu.log.filter((e) => e.method === 'POST' && e.url.endsWith('/$batch'));

/** Every coupling names a distinct record on each side, and each BC customer is coupled once. */
async function expectOneCouplingPerRecord(ctx: Ctx, count: number): Promise<void> {
  const couplings = await ctx.store.getCouplings(
    MAPPING,
    'integration',
    (await ctx.accounts()).map((a) => String(a.id)),
  );
  expect(couplings).toHaveLength(count);
  expect(new Set(couplings.map((c) => c.localId)).size).toBe(count);
  const customers = ctx.emu.records('customers');
  expect(customers).toHaveLength(count);
  expect(new Set(couplings.map((c) => c.localId))).toEqual(new Set(customers.map((c) => String(c.id))));
}

test('both directions: BC customers page out to the table, table rows come back as customers in $batch writes of at most 100, with If-Match', async () => {
  const ctx = await setup();
  const ifMatch: string[] = [];
  ctx.emu.beforeOperation((op) => {
    if (op.method === 'PATCH') ifMatch.push(op.headers['if-match'] ?? '');
  });
  try {
    const seeded = ctx.emu.seed(
      'customers',
      Array.from({ length: 130 }, (_, i) => bcCustomer(i)),
    );
    await ctx.crm('account').insert(Array.from({ length: 230 }, (_, i) => account(i)));
    await ctx.run(async ({ sync }) => {
      const first = await sync.bulkSync({ mapping: MAPPING, retry: FAST_RETRY });
      expect(first.jobs.map((j) => [j.direction, j.status])).toEqual([
        ['ToIntegrationTable', 'succeeded'],
        ['FromIntegrationTable', 'succeeded'],
      ]);
      expect(first.jobs[0].counters).toMatchObject({ inserted: 130, coupled: 130, failed: 0 });
      expect(first.jobs[1].counters).toMatchObject({ inserted: 230, coupled: 230, failed: 0 });
      // Server-driven pages of 20, followed through nextLink.
      expect(ctx.emu.log.filter((e) => e.method === 'GET' && e.url.includes('$skiptoken=')).length).toBeGreaterThanOrEqual(6);
      expect(batches(ctx).every((e) => e.operations <= 100 && e.status === 200)).toBe(true);
      expect(batches(ctx).reduce((n, e) => n + e.operations, 0)).toBe(230);
      await expectOneCouplingPerRecord(ctx, 360);
      const [c5] = await ctx.store.getCouplings(MAPPING, 'local', [String(seeded[5].id)]);
      expect(await ctx.crm('account').where('id', c5.integrationId).first()).toMatchObject({
        name: 'Customer 5',
        emailaddress1: 'c5@example.com',
        telephone1: '555-5',
        address1_city: 'Seattle',
      });
      const [a7] = await ctx.store.getCouplings(MAPPING, 'integration', ['A7']);
      expect(ctx.emu.record('customers', a7.localId)).toMatchObject({ displayName: 'Account 7', email: 'a7@example.com', phoneNumber: '', city: 'Oslo' });

      // Edits on both sides: each goes the other way, updates carry the ETag read.
      ctx.emu.edit('customers', String(seeded[3].id), { city: 'Atlanta' });
      await ctx.crm('account').where('id', 'A9').update({ name: 'Renamed A9', modified_on: tick() });
      await ctx.crm('account').where('id', 'A11').update({ address1_city: 'Bergen', modified_on: tick() });
      const second = await sync.bulkSync({ mapping: MAPPING, retry: FAST_RETRY });
      expect(second.jobs[0].counters).toMatchObject({ modified: 1, inserted: 0, failed: 0 });
      expect(second.jobs[1].counters).toMatchObject({ modified: 2, inserted: 0, failed: 0 });
      const [c3] = await ctx.store.getCouplings(MAPPING, 'local', [String(seeded[3].id)]);
      expect(await ctx.crm('account').where('id', c3.integrationId).first()).toMatchObject({ address1_city: 'Atlanta' });
      const [a9] = await ctx.store.getCouplings(MAPPING, 'integration', ['A9']);
      expect(ctx.emu.record('customers', a9.localId)).toMatchObject({ displayName: 'Renamed A9' });
      expect(ifMatch).toHaveLength(2);
      expect(ifMatch.every((v) => /^W\/"JzQ0O/.test(v))).toBe(true);

      // Our own writes do not come back.
      const third = await sync.bulkSync({ mapping: MAPPING, retry: FAST_RETRY });
      expect(third.jobs.map((j) => j.counters)).toEqual([
        expect.objectContaining({ inserted: 0, modified: 0, failed: 0 }),
        expect.objectContaining({ inserted: 0, modified: 0, failed: 0 }),
      ]);
      expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
      await expectOneCouplingPerRecord(ctx, 360);
    });
  } finally {
    await ctx.close();
  }
});

describe('a customer changed in BC between our read and our write (stale ETag -> 412)', () => {
  const racedRun = async (updateConflictResolution: 'None' | 'GetFromIntegration') => {
    const ctx = await setup({ updateConflictResolution });
    await ctx.crm('account').insert([account(1), account(2)]);
    await ctx.run(({ sync }) => sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: FAST_RETRY }));
    const [a1] = await ctx.store.getCouplings(MAPPING, 'integration', ['A1']);
    await ctx.crm('account').where('id', 'A1').update({ name: 'Table edit', modified_on: tick() });
    let raced = false;
    ctx.emu.beforeOperation((op) => {
      // A user saves the customer in BC just before our update of it is applied.
      if (op.method === 'PATCH' && !raced) {
        raced = true;
        ctx.emu.edit('customers', a1.localId, { displayName: 'BC edit' });
      }
    });
    const result = await ctx.run(({ sync }) => sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: FAST_RETRY }));
    const statuses = ctx.emu.log.filter((e) => e.url.endsWith('/$batch')).map((e) => e.status);
    return { ctx, result, a1, raced, statuses };
  };

  test('GetFromIntegration: the conflict is re-read and the integration side wins', async () => {
    const { ctx, result, a1, raced } = await racedRun('GetFromIntegration');
    try {
      expect(raced).toBe(true);
      expect(result.jobs[0]).toMatchObject({ status: 'succeeded', counters: { modified: 1, failed: 0 } });
      expect(ctx.emu.record('customers', a1.localId)).toMatchObject({ displayName: 'Table edit' });
      expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
    } finally {
      await ctx.close();
    }
  });

  test("None: the record fails as changed on both sides, and BC keeps the user's edit", async () => {
    const { ctx, result, a1 } = await racedRun('None');
    try {
      expect(result.jobs[0]).toMatchObject({ status: 'succeeded', counters: { failed: 1, modified: 0 } });
      expect(ctx.emu.record('customers', a1.localId)).toMatchObject({ displayName: 'BC edit' });
      const errors = await ctx.store.listErrors({ mappingName: MAPPING });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ sourceRecordId: 'A1', destinationRecordId: a1.localId });
      expect(errors[0].message).toMatch(/changed on both sides/);
    } finally {
      await ctx.close();
    }
  });
});

test('throttling: a 429 with Retry-After is waited out (at least Retry-After), the run completes, no error rows', async () => {
  const ctx = await setup();
  try {
    await ctx.crm('account').insert(Array.from({ length: 40 }, (_, i) => account(i)));
    ctx.emu.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 1 }, times: 1, when: (r) => r.url.endsWith('/$batch') });
    ctx.emu.injectOperationFault({ status: 429, retryAfterSeconds: 1, times: 1, when: (op) => op.inBatch });
    await ctx.run(async ({ sync }) => {
      const run = await sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: FAST_RETRY });
      expect(run.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 40, failed: 0 } });
    });
    const log = batches(ctx);
    expect(log.map((e) => e.status)).toEqual([429, 200, 200]);
    // The first answer was a 429 for the request, the second a 429 inside the batch; each retry came after Retry-After.
    expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(1000);
    expect(log[2].at - log[1].at).toBeGreaterThanOrEqual(1000);
    expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
    await expectOneCouplingPerRecord(ctx, 40);
  } finally {
    await ctx.close();
  }
});

test('throttled reads of BC (planning and the batch read) also wait Retry-After, with no error rows', async () => {
  const ctx = await setup({ direction: 'ToIntegrationTable' });
  try {
    ctx.emu.seed(
      'customers',
      Array.from({ length: 30 }, (_, i) => bcCustomer(i)),
    );
    const reads = (r: { method: string; url: string }) => r.method === 'GET' && r.url.includes('/customers?');
    // Retry-After 2 s: longer than the activity's own backoff, so only honouring it passes.
    // The first read plans the batches, the next reads the batch.
    ctx.emu.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 2 }, times: 1, when: reads });
    let served = 0;
    ctx.emu.beforeOperation((op) => {
      if (op.method === 'GET' && op.path.includes('/customers?') && ++served === 1) {
        ctx.emu.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 2 }, times: 1, when: reads });
      }
    });
    await ctx.run(async ({ sync }) => {
      const run = await sync.bulkSync({ mapping: MAPPING, retry: FAST_RETRY });
      expect(run.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 30, failed: 0 } });
    });
    const log = ctx.emu.log.filter(reads);
    const throttled = log.flatMap((e, i) => (e.status === 429 ? [i] : []));
    expect(throttled).toHaveLength(2);
    for (const i of throttled) expect(log[i + 1].at - log[i].at).toBeGreaterThanOrEqual(2000);
    expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
    await expectOneCouplingPerRecord(ctx, 30);
  } finally {
    await ctx.close();
  }
});

/** 60 customers and 60 accounts synced both ways under a limit of 12 requests per 1.5 s, with `fault` injected: all arrive, no error rows. */
async function syncUnderRequestLimit(fault: Parameters<BusinessCentralEmulator['injectFault']>[0], then: (ctx: Ctx) => void = () => undefined): Promise<void> {
  const ctx = await setup({}, { limits: { requestsPerWindow: 12, windowMs: 1500 } });
  try {
    ctx.emu.seed(
      'customers',
      Array.from({ length: 60 }, (_, i) => bcCustomer(i)),
    );
    await ctx.crm('account').insert(Array.from({ length: 60 }, (_, i) => account(i)));
    ctx.emu.injectFault(fault);
    await ctx.run(async ({ sync }) => {
      const run = await sync.bulkSync({ mapping: MAPPING, retry: { maximumAttempts: 5, initialIntervalMs: 100 } });
      expect(run.jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
      expect(run.jobs[0].counters).toMatchObject({ inserted: 60, failed: 0 });
      expect(run.jobs[1].counters).toMatchObject({ inserted: 60, failed: 0 });
    });
    then(ctx);
    expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
    await expectOneCouplingPerRecord(ctx, 120);
  } finally {
    await ctx.close();
  }
}

test("throttling without Retry-After is retried with backoff; the service's request limit throttles reads and writes, and the run completes", async () => {
  await syncUnderRequestLimit({ fault: { kind: 'serverError', status: 429 }, times: 2, when: (r) => r.url.endsWith('/$batch') }, (ctx) => {
    const throttled = ctx.emu.log.filter((e) => e.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    const injected = batches(ctx)
      .filter((e) => e.status === 429)
      .slice(0, 2);
    expect(injected).toHaveLength(2);
  });
});

test('a batch that meets the request limit again on every retry backs off until a whole attempt fits the window, and completes', async () => {
  // Slow reads spread each attempt's eight requests so that, retried after Retry-After alone, the write met the
  // limit on every attempt for as long as anyone watched (a hundred attempts in 110 s on a loaded machine).
  await syncUnderRequestLimit({ fault: { kind: 'slow', delayMs: 50 }, times: 100_000, when: (r) => r.method === 'GET' });
}, 90_000);

test('a dropped connection after a create batch (BC applied it, the worker saw an error): after the retry no duplicate customer and one coupling per record', async () => {
  const ctx = await setup();
  try {
    await ctx.crm('account').insert(Array.from({ length: 150 }, (_, i) => account(i)));
    ctx.emu.injectFault({ fault: { kind: 'dropAfterWrite' }, times: 1, when: (r) => r.url.endsWith('/$batch') });
    await ctx.run(async ({ sync }) => {
      const run = await sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: FAST_RETRY });
      expect(run.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: 150, coupled: 150, failed: 0 } });
    });
    const dropped = batches(ctx)[0];
    expect(dropped.operations).toBe(100);
    await expectOneCouplingPerRecord(ctx, 150);
    expect(new Set(ctx.emu.records('customers').map((c) => c.number)).size).toBe(150);
    expect(await ctx.store.listErrors({ mappingName: MAPPING })).toHaveLength(0);
  } finally {
    await ctx.close();
  }
});

test('a bulk run and a single-record sync creating the same record at once make one customer and one coupling', async () => {
  const ctx = await setup();
  try {
    await ctx.crm('account').insert([account(1)]);
    // Slow writes keep both creates in flight together.
    ctx.emu.injectFault({ fault: { kind: 'slow', delayMs: 300 }, times: 2, when: (r) => r.url.endsWith('/$batch') });
    await ctx.run(async ({ sync }) => {
      const [bulk, single] = await Promise.all([
        sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: FAST_RETRY }),
        sync.singleSync({ mapping: MAPPING, recordId: 'A1', side: 'integration', retry: FAST_RETRY }),
      ]);
      expect(bulk.jobs[0].counters.failed + single.jobs[0].counters.failed).toBe(0);
    });
    await expectOneCouplingPerRecord(ctx, 1);
  } finally {
    await ctx.close();
  }
});
