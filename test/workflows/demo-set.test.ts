/**
 * The five-mapping demo set between the Business Central and Dataverse
 * emulators, through a full synchronization on the real dev server: in
 * dependency order, every lookup is carried across and nothing is created
 * twice, whether the destinations start empty or both sides hold records.
 */
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { startDemoSet, type DemoSet } from '../../worker/demo/demo-set';
import type { Store } from '../../store/store';
import type { FullSynchronizationResult } from '../../common/types';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function open(populated: boolean): Promise<{ store: Store; demo: DemoSet; close(): Promise<void> }> {
  const { store, cleanup } = await sqliteDialect.open();
  const demo = await startDemoSet({ customers: 12, populated });
  for (const mapping of demo.mappings) await store.saveMapping(mapping);
  return {
    store,
    demo,
    close: async () => {
      await demo.close();
      await cleanup();
    },
  };
}

const counterpartOf = async (store: Store, mapping: string, id: string): Promise<string | undefined> =>
  (await store.getCouplings(mapping, 'local', [id]))[0]?.integrationId;

/** Every mapping done, none failed a record, each after all it depends on. */
function expectOrderedAndClean(result: FullSynchronizationResult): void {
  expect(result.status).toBe('succeeded');
  expect(result.mappings.map((m) => m.state)).toEqual(['done', 'done', 'done', 'done', 'done']);
  const at = new Map(result.mappings.map((m, i) => [m.mapping, i]));
  for (const m of result.mappings) for (const d of m.dependsOn) expect((at.get(d) ?? 99) < (at.get(m.mapping) ?? -1)).toBe(true);
  for (const m of result.mappings) expect({ mapping: m.mapping, failed: m.counters.failed }).toEqual({ mapping: m.mapping, failed: 0 });
  // CUSTOMER follows the mappings its lookups reference, CONTACT follows CUSTOMER.
  expect(result.mappings.find((m) => m.mapping === 'CUSTOMER')?.dependsOn.sort()).toEqual(['CURRENCY', 'PAYMENT_TERMS', 'SALESPEOPLE']);
  expect(result.mappings.find((m) => m.mapping === 'CONTACT')?.dependsOn).toEqual(['CUSTOMER']);
}

/** Each BC customer's account has its owner, currency and payment terms; each contact its company. */
async function expectRelationsCarried(store: Store, { businessCentral: bc, dataverse: dv }: DemoSet): Promise<void> {
  const users = new Map(dv.all('systemusers').map((u) => [String(u.fullname), String(u.systemuserid)]));
  const currencies = new Map(dv.all('transactioncurrencies').map((c) => [String(c.isocurrencycode), String(c.transactioncurrencyid)]));
  const options = new Map([
    ['NET30', 1],
    ['2%10NET30', 2],
    ['NET45', 3],
    ['NET60', 4],
  ]);
  for (const customer of bc.records('customers')) {
    const account = dv.get('accounts', String(await counterpartOf(store, 'CUSTOMER', String(customer.id))));
    expect(account).toBeDefined();
    const owner = bc.records('salespeople').find((s) => s.code === customer.salespersonCode);
    expect(account?._ownerid_value ?? null).toBe(owner ? users.get(String(owner.displayName)) : null);
    expect(account?._transactioncurrencyid_value ?? null).toBe(customer.currencyCode ? currencies.get(String(customer.currencyCode)) : null);
    expect(account?.paymenttermscode ?? null).toBe(options.get(String(customer.paymentTermsCode)) ?? null);
  }
  for (const contact of bc.records('contacts')) {
    const other = dv.get('contacts', String(await counterpartOf(store, 'CONTACT', String(contact.id))));
    const company = bc.records('customers').find((c) => c.number === contact.companyNumber);
    expect(other?._parentcustomerid_value).toBe(await counterpartOf(store, 'CUSTOMER', String(company?.id)));
  }
}

test('from empty destinations, a full synchronization creates everything once, in dependency order, with no lookup failures', async () => {
  const ctx = await open(false);
  try {
    const { businessCentral: bc, dataverse: dv } = ctx.demo;
    await withWorker(temporal, { store: ctx.store, systems: ctx.demo.systems }, async ({ sync }) => {
      const result = await sync.fullSynchronization();
      expectOrderedAndClean(result);
      // Nothing to couple first: every destination was empty.
      expect(result.mappings.map((m) => m.review?.needsCoupling)).toEqual([false, false, false, false, false]);
      expect(
        dv
          .all('transactioncurrencies')
          .map((c) => c.isocurrencycode)
          .sort(),
      ).toEqual(['EUR', 'GBP']);
      expect(dv.all('msdyn_paymentterms')).toHaveLength(4);
      expect(
        bc
          .records('salespeople')
          .map((s) => s.displayName)
          .sort(),
      ).toEqual(['Annette Hill', 'Ben Smith', 'John Roberts']);
      expect(dv.all('accounts')).toHaveLength(12);
      expect(dv.all('contacts')).toHaveLength(24);
      await expectRelationsCarried(ctx.store, ctx.demo);

      // Run again: everything is in step, so nothing is created or changed.
      const again = await sync.fullSynchronization();
      expect(again.status).toBe('succeeded');
      for (const m of again.mappings)
        expect({ mapping: m.mapping, inserted: m.counters.inserted, modified: m.counters.modified }).toEqual({ mapping: m.mapping, inserted: 0, modified: 0 });
    });
  } finally {
    await ctx.close();
  }
});

test('with both sides populated, a full synchronization couples first and creates no duplicates', async () => {
  const ctx = await open(true);
  try {
    const { businessCentral: bc, dataverse: dv } = ctx.demo;
    await withWorker(temporal, { store: ctx.store, systems: ctx.demo.systems }, async ({ sync }) => {
      const result = await sync.fullSynchronization();
      expectOrderedAndClean(result);
      const review = new Map(result.mappings.map((m) => [m.mapping, m.review?.needsCoupling]));
      expect(review).toEqual(
        new Map([
          ['CURRENCY', true],
          ['PAYMENT_TERMS', false],
          ['SALESPEOPLE', true],
          ['CUSTOMER', true],
          ['CONTACT', true],
        ]),
      );
    });
    // John and Annette were coupled by e-mail (BC's codes kept), Ben was created in BC.
    expect(
      bc
        .records('salespeople')
        .map((s) => `${String(s.displayName)}`)
        .sort(),
    ).toEqual(['Annette Hill', 'Ben Smith', 'John Roberts']);
    expect(bc.records('salespeople').filter((s) => ['JR', 'AH'].includes(String(s.code)))).toHaveLength(2);
    expect(
      dv
        .all('transactioncurrencies')
        .map((c) => c.isocurrencycode)
        .sort(),
    ).toEqual(['EUR', 'GBP', 'USD']);
    expect(dv.all('accounts')).toHaveLength(13);
    expect(bc.records('customers')).toHaveLength(13);
    expect(dv.all('contacts')).toHaveLength(25);
    expect(bc.records('contacts')).toHaveLength(25);
    await expectRelationsCarried(ctx.store, ctx.demo);
    // Northwind came from Dataverse with Ben as its owner, and started from the Oslo template.
    const northwind = bc.records('customers').find((c) => c.displayName === 'Northwind Traders');
    expect(northwind).toMatchObject({ creditLimit: 5000, salespersonCode: bc.records('salespeople').find((s) => s.displayName === 'Ben Smith')?.code });
    const nancy = bc.records('contacts').find((c) => c.displayName === 'Nancy Davolio');
    expect(nancy?.companyNumber).toBe(northwind?.number);
  } finally {
    await ctx.close();
  }
});
