/**
 * Business Central (local side) and Dataverse (integration side), both
 * EMULATORS reached through the real connectors, 5,000 customers, on the real
 * dev server: match-based coupling, then bulk sync to Dataverse and back, then
 * edits on both sides. Every row and every coupling is checked.
 */
import type { Store } from '../../store/store';
import { demoRows } from '../../worker/demo/demo-data';
import { emulatedMapping, startEmulatedSystems, type EmulatedSystems } from '../../worker/demo/emulated-systems';
import { sqliteDialect } from '../helpers/stores';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';

const CUSTOMERS = 5000;
const MAPPING = 'BC-DATAVERSE';
type Rec = Record<string, unknown>;

let temporal: TestTemporal;
let store: Store;
let cleanup: () => Promise<void>;
let systems: EmulatedSystems;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  ({ store, cleanup } = await sqliteDialect.open());
  systems = await startEmulatedSystems({ customers: CUSTOMERS });
  await store.saveMapping(emulatedMapping(MAPPING));
});
afterAll(async () => {
  await systems?.close();
  await cleanup?.();
  await temporal?.close();
});

const customers = (): Rec[] => systems.businessCentral.records('customers');
const accounts = (): Rec[] => systems.dataverse.all('accounts');

/** Every coupling joins one customer and one account, each coupled once, with the mapped values equal. */
async function expectCoupledPairsEqual(expectedCouplings: number): Promise<void> {
  const byId = new Map(accounts().map((a) => [String(a.accountid), a]));
  const all = customers();
  const couplings = await store.getCouplings(
    MAPPING,
    'local',
    all.map((c) => String(c.id)),
  );
  expect(couplings).toHaveLength(expectedCouplings);
  expect(new Set(couplings.map((c) => c.integrationId)).size).toBe(expectedCouplings);
  const customerById = new Map(all.map((c) => [String(c.id), c]));
  const mismatches: string[] = [];
  for (const coupling of couplings) {
    const c = customerById.get(coupling.localId) as Rec;
    const a = byId.get(coupling.integrationId);
    if (!a) {
      mismatches.push(`${coupling.localId}: account ${coupling.integrationId} missing`);
      continue;
    }
    const pairs: [unknown, unknown][] = [
      [a.name, String(c.displayName).trim()],
      [a.emailaddress1 ?? '', String(c.email).trim().toLowerCase()],
      [a.telephone1 ?? '', c.phoneNumber],
      [a.address1_city ?? '', c.city],
    ];
    if (pairs.some(([x, y]) => x !== y)) mismatches.push(`${String(c.number)}: ${JSON.stringify(pairs)}`);
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
}

test('5,000 customers: match, sync to Dataverse, sync back, then edits on both sides', async () => {
  const seeded = demoRows(CUSTOMERS);
  const matchable = seeded.accounts.filter((a) => /^a-\d+$/.test(String(a.id))).length;
  const prospects = seeded.accounts.length - matchable;
  expect(customers()).toHaveLength(CUSTOMERS);
  expect(matchable).toBeGreaterThan(2000);

  await withWorker(temporal, { store, systems: systems.systems }, async ({ sync }) => {
    // 1. Match-based coupling from the BC side: every account made from a customer is found (by e-mail or by name in
    // another case); a customer with no account is reported unmatched, with an error row, as BC does.
    const match = await sync.matchBasedCoupling({ mapping: MAPPING });
    expect(match.jobs[0]).toMatchObject({
      status: 'succeeded',
      counters: { coupled: matchable, unmatched: CUSTOMERS - matchable, failed: CUSTOMERS - matchable },
    });
    expect(await store.listErrors({ jobId: match.jobs[0].jobId, limit: CUSTOMERS })).toHaveLength(CUSTOMERS - matchable);
    const numberOf = new Map(customers().map((c) => [String(c.id), String(c.number)]));
    const accountNumberOf = new Map(accounts().map((a) => [String(a.accountid), String(a.accountnumber)]));
    const couplings = await store.getCouplings(MAPPING, 'local', [...numberOf.keys()]);
    expect(couplings).toHaveLength(matchable);
    // Customer C1xxxx was seeded with account a-(xxxx): the coupling must join exactly those.
    const wrong = couplings.filter((c) => accountNumberOf.get(c.integrationId) !== `a-${Number(numberOf.get(c.localId)?.slice(1)) - 10000}`);
    expect(wrong).toEqual([]);

    // 2. To Dataverse: the unmatched customers are created there, the matched accounts take BC's values.
    const accountsBefore = accounts().length;
    const toDataverse = await sync.bulkSync({ mapping: MAPPING, direction: 'ToIntegrationTable' });
    expect(toDataverse.jobs[0]).toMatchObject({
      status: 'succeeded',
      counters: { inserted: CUSTOMERS - matchable, failed: 0, coupled: CUSTOMERS - matchable },
    });
    expect(accounts()).toHaveLength(accountsBefore + CUSTOMERS - matchable);
    await expectCoupledPairsEqual(CUSTOMERS);
    // Writes went in $batch requests: far fewer requests than records.
    const dvWrites = systems.dataverse.log.filter((l) => l.method === 'POST' && l.url.endsWith('$batch'));
    const dvOperations = dvWrites.reduce((n, l) => n + l.operations, 0);
    expect(dvOperations).toBeGreaterThanOrEqual(CUSTOMERS);
    expect(dvWrites.length / dvOperations).toBeLessThan(0.01);

    // 3. Back to BC: the prospects that exist only in Dataverse become customers; our own writes are not echoed back.
    const fromDataverse = await sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable' });
    expect(fromDataverse.jobs[0]).toMatchObject({ status: 'succeeded', counters: { inserted: prospects, modified: 0, failed: 0 } });
    expect(customers()).toHaveLength(CUSTOMERS + prospects);
    expect(new Set(customers().map((c) => c.number)).size).toBe(CUSTOMERS + prospects);
    await expectCoupledPairsEqual(CUSTOMERS + prospects);
    const bcWrites = systems.businessCentral.log.filter((l) => l.method === 'POST' && l.url.endsWith('$batch'));
    expect(Math.max(...bcWrites.map((l) => l.operations))).toBeLessThanOrEqual(100);

    // 4. Nothing changed: a bidirectional run writes nothing.
    const idle = await sync.bulkSync({ mapping: MAPPING });
    for (const job of idle.jobs) expect(job.counters).toMatchObject({ inserted: 0, modified: 0, failed: 0 });

    // 5. Users edit on both sides; one bidirectional run carries each edit across.
    const someCustomers = customers().slice(0, 20);
    for (const c of someCustomers) systems.businessCentral.edit('customers', String(c.id), { city: 'Reykjavik' });
    const someAccounts = await store.getCouplings(
      MAPPING,
      'local',
      customers()
        .slice(100, 120)
        .map((c) => String(c.id)),
    );
    for (const c of someAccounts) systems.dataverse.edit('accounts', c.integrationId, { telephone1: '+47 555 0000' });
    const both = await sync.bulkSync({ mapping: MAPPING });
    const total = both.jobs.reduce((n, j) => n + j.counters.modified, 0);
    expect(total).toBe(40);
    expect(both.jobs.every((j) => j.counters.failed === 0 && j.counters.inserted === 0)).toBe(true);
    await expectCoupledPairsEqual(CUSTOMERS + prospects);
    expect(customers().filter((c) => c.phoneNumber === '+47 555 0000')).toHaveLength(20);
    const syncJobs = [toDataverse, fromDataverse, idle, both].flatMap((r) => r.jobs.map((j) => j.jobId));
    for (const jobId of syncJobs) expect(await store.listErrors({ jobId })).toEqual([]);
  });
}, 300_000);
