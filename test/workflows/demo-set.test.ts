/**
 * The five-mapping demo set between the Business Central and Dataverse
 * emulators, on the real dev server: synchronized in dependency order, every
 * lookup is carried across and nothing is created twice.
 */
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { startDemoSet, type DemoSet } from '../../worker/demo/demo-set';
import type { Store } from '../../store/store';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function open(): Promise<{ store: Store; demo: DemoSet; close(): Promise<void> }> {
  const { store, cleanup } = await sqliteDialect.open();
  const demo = await startDemoSet({ customers: 12 });
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

const counterpartOf = async (store: Store, mapping: string, side: 'local' | 'integration', id: string): Promise<string | undefined> => {
  const [c] = await store.getCouplings(mapping, side, [id]);
  return side === 'local' ? c?.integrationId : c?.localId;
};

test('synchronized in dependency order, the demo set carries every lookup across and creates nothing twice', async () => {
  const ctx = await open();
  try {
    const { businessCentral: bc, dataverse: dv } = ctx.demo;
    await withWorker(temporal, { store: ctx.store, systems: ctx.demo.systems }, async ({ sync }) => {
      for (const mapping of ['CURRENCY', 'PAYMENT_TERMS', 'SALESPEOPLE', 'CUSTOMER', 'CONTACT']) {
        await sync.matchBasedCoupling({ mapping });
        const run = await sync.bulkSync({ mapping, fullSync: true });
        for (const job of run.jobs) expect({ mapping, failed: job.counters.failed }).toEqual({ mapping, failed: 0 });
      }
    });
    expect(
      dv
        .all('transactioncurrencies')
        .map((c) => c.isocurrencycode)
        .sort(),
    ).toEqual(['EUR', 'GBP', 'USD']);
    expect(dv.all('msdyn_paymentterms')).toHaveLength(4);
    // John and Annette were coupled by e-mail, Ben was created in BC.
    expect(
      bc
        .records('salespeople')
        .map((s) => s.displayName)
        .sort(),
    ).toEqual(['Annette Hill', 'Ben Smith', 'John Roberts']);
    expect(dv.all('accounts')).toHaveLength(13);
    expect(bc.records('customers')).toHaveLength(13);

    const users = new Map(dv.all('systemusers').map((u) => [String(u.fullname), String(u.systemuserid)]));
    const eur = dv.all('transactioncurrencies').find((c) => c.isocurrencycode === 'EUR');
    for (const customer of bc.records('customers')) {
      const account = dv.get('accounts', String(await counterpartOf(ctx.store, 'CUSTOMER', 'local', String(customer.id))));
      expect(account).toBeDefined();
      const owner = bc.records('salespeople').find((s) => s.code === customer.salespersonCode);
      expect(account?._ownerid_value).toBe(users.get(String(owner?.displayName)));
      if (customer.currencyCode === 'EUR') expect(account?._transactioncurrencyid_value).toBe(eur?.transactioncurrencyid);
      if (customer.currencyCode === '') expect(account?._transactioncurrencyid_value).toBeNull();
    }
    // Northwind came from Dataverse with Ben as its owner: in BC its salesperson is Ben's new code.
    const northwind = bc.records('customers').find((c) => c.displayName === 'Northwind Traders');
    expect(northwind?.salespersonCode).toBe(bc.records('salespeople').find((s) => s.displayName === 'Ben Smith')?.code);
    // Created from the account, it started from the Oslo template; its payment terms were empty in Dataverse, so they stay empty.
    expect(northwind).toMatchObject({ creditLimit: 5000, paymentTermsCode: '' });
    // Payment terms went across as Dataverse's option values.
    const options = new Map([
      ['NET30', 1],
      ['2%10NET30', 2],
      ['NET45', 3],
      ['NET60', 4],
    ]);
    for (const customer of bc.records('customers').filter((c) => c.displayName !== 'Northwind Traders')) {
      const account = dv.get('accounts', String(await counterpartOf(ctx.store, 'CUSTOMER', 'local', String(customer.id))));
      expect(account?.paymenttermscode).toBe(options.get(String(customer.paymentTermsCode)));
    }

    // Every contact keeps its company on the other side.
    expect(dv.all('contacts')).toHaveLength(25);
    expect(bc.records('contacts')).toHaveLength(25);
    for (const contact of bc.records('contacts')) {
      const other = dv.get('contacts', String(await counterpartOf(ctx.store, 'CONTACT', 'local', String(contact.id))));
      const company = bc.records('customers').find((c) => c.number === contact.companyNumber);
      expect(other?._parentcustomerid_value).toBe(await counterpartOf(ctx.store, 'CUSTOMER', 'local', String(company?.id)));
    }
  } finally {
    await ctx.close();
  }
});
