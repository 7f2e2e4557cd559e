/**
 * Match outcomes depend only on the data: the same records with batch sizes 1,
 * 7 and 500 and 1 to 8 batches in flight give identical couplings and error
 * rows. The stronger priority wins a contested candidate, ties go to the
 * smallest local id.
 */
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { account, customer } from '../helpers/systems';
import { openSyncContext } from '../helpers/sync-context';
import type { FieldMappingDefinition } from '../../domain/mapping';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const FIELDS: FieldMappingDefinition[] = [
  { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true, matchPriority: 0 },
  { localField: 'name', integrationField: 'name', direction: 'Bidirectional', useForMatching: true, matchPriority: 1 },
];

/**
 * For each of 10 accounts: an early customer that matches it only by name
 * (priority 1), a later one by e-mail (priority 0), and a still later one
 * tying with that e-mail; plus customers that match nothing. Which batch each
 * lands in, and when, must not matter.
 */
function data(): { customers: Record<string, unknown>[]; accounts: Record<string, unknown>[] } {
  const id = (i: number): string => `C${String(i).padStart(2, '0')}`;
  const stamp = (i: number): string => `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`;
  const customers: Record<string, unknown>[] = [];
  const accounts: Record<string, unknown>[] = [];
  for (let k = 1; k <= 10; k++) {
    customers.push(customer(0, { id: id(2 * k - 1), email: null, name: `Name ${k}`, modified_on: stamp(2 * k - 1) }));
    customers.push(customer(0, { id: id(2 * k), email: `e${k}@example.com`, name: 'Other', modified_on: stamp(2 * k) }));
    customers.push(customer(0, { id: id(20 + k), email: ` E${k}@example.com `, name: `name ${k}`, modified_on: stamp(20 + k) }));
    accounts.push(account(`A${String(k).padStart(2, '0')}`, { emailaddress1: `E${k}@Example.com`, name: `NAME ${k}`, modified_on: stamp(0) }));
  }
  for (let i = 31; i <= 35; i++) customers.push(customer(0, { id: id(i), email: `none${i}@example.com`, name: 'Nobody', modified_on: stamp(i) }));
  return { customers, accounts };
}

async function outcome(batchSize: number, maxBatchesInFlight: number): Promise<{ couplings: string[]; errors: string[]; counters: unknown }> {
  const ctx = await openSyncContext(temporal, { fields: FIELDS });
  try {
    const { customers, accounts } = data();
    await ctx.sys.local('customer').insert(customers);
    await ctx.sys.integration('account').insert(accounts);
    return await ctx.run(async ({ sync }) => {
      const run = await sync.matchBasedCoupling({ mapping: 'CUSTOMER', batchSize, maxBatchesInFlight });
      const couplings = (await ctx.store.pageCouplings('CUSTOMER', { afterId: 0, limit: 1000 })).map((c) => `${c.localId}=${c.integrationId}`).sort();
      const errors = (await ctx.store.listErrors({ jobId: run.jobs[0].jobId })).map((e) => `${e.sourceRecordId}: ${e.message}`).sort();
      return { couplings, errors, counters: run.jobs[0].counters };
    });
  } finally {
    await ctx.close();
  }
}

test('batch sizes 1, 7 and 500 with 1 to 8 batches in flight give identical couplings and error rows', async () => {
  const reference = await outcome(500, 1);
  expect(reference.couplings.length).toBeGreaterThan(5);
  for (const [batchSize, inFlight] of [
    [1, 1],
    [1, 8],
    [7, 3],
    [7, 8],
    [500, 8],
  ] as const) {
    expect(await outcome(batchSize, inFlight)).toEqual(reference);
  }
});

test('the stronger priority wins a contested candidate; ties go to the smallest local id', async () => {
  const ctx = await openSyncContext(temporal, { fields: FIELDS });
  try {
    await ctx.sys.local('customer').insert([
      // C1 matches A1 only by name (priority 1); C2 by e-mail (priority 0): C2 wins, whatever the order.
      customer(1, { email: null, name: 'Ann' }),
      customer(2, { email: 'ann@example.com', name: 'Someone' }),
      // C3 and C4 tie at priority 0 for A2: the smaller id wins.
      customer(4, { email: 'bob@example.com', name: 'x' }),
      customer(3, { email: 'bob@example.com', name: 'y' }),
    ]);
    await ctx.sys
      .integration('account')
      .insert([account('A1', { emailaddress1: 'ann@example.com', name: 'Ann' }), account('A2', { emailaddress1: 'bob@example.com', name: 'Bob' })]);
    await ctx.run(async ({ sync }) => {
      for (const batchSize of [1, 500]) {
        await sync.uncouple({ mapping: 'CUSTOMER', all: true });
        const run = await sync.matchBasedCoupling({ mapping: 'CUSTOMER', batchSize, maxBatchesInFlight: 4 });
        const couplings = Object.fromEntries((await ctx.store.pageCouplings('CUSTOMER', { afterId: 0, limit: 100 })).map((c) => [c.localId, c.integrationId]));
        expect(couplings).toEqual({ C2: 'A1', C3: 'A2' });
        const errors = Object.fromEntries((await ctx.store.listErrors({ jobId: run.jobs[0].jobId })).map((e) => [e.sourceRecordId, e.message]));
        expect(Object.keys(errors).sort()).toEqual(['C1', 'C4']);
        expect(errors.C4).toMatch(/A2/);
      }
    });
  } finally {
    await ctx.close();
  }
});
