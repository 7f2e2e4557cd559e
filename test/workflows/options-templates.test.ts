/**
 * Option mappings and templates through the workflows on the real dev server,
 * with Knex tables: codes go out as option values and come back as codes; an
 * unmapped value fails its record or is collected for an administrator; a
 * created record gets its template's values under the mapped ones.
 */
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { openSyncContext } from '../helpers/sync-context';
import { customer, tick } from '../helpers/systems';
import type { MappingDefinition } from '../../domain/mapping';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const PAIRS = [
  { local: 'NET30', integration: 100000001 },
  { local: 'NET60', integration: 100000002 },
];

function withTerms(unmapped: 'fail' | 'collect'): Partial<MappingDefinition> {
  return {
    direction: 'Bidirectional',
    fields: [
      { localField: 'name', integrationField: 'name' },
      { localField: 'city', integrationField: 'address1_city' },
      { localField: 'payment_terms_code', integrationField: 'paymenttermscode', optionMapping: { pairs: PAIRS, unmapped } },
    ],
    templates: [
      // Customers of Oslo are created on the integration side as a distinct type; mapped values win over the template.
      {
        direction: 'ToIntegrationTable',
        priority: 0,
        filter: [{ field: 'city', op: 'eq', value: 'Oslo' }],
        values: { customertypecode: 'Nordic', address1_city: 'never' },
      },
      { direction: 'ToIntegrationTable', priority: 5, values: { customertypecode: 'Standard' } },
    ],
  };
}

async function open(unmapped: 'fail' | 'collect') {
  const ctx = await openSyncContext(temporal, withTerms(unmapped));
  await ctx.sys.local.schema.alterTable('customer', (t) => t.string('payment_terms_code', 20).nullable());
  await ctx.sys.integration.schema.alterTable('account', (t) => t.integer('paymenttermscode').nullable());
  return ctx;
}

test('codes go out as option values and come back as codes; created records get their template under the mapped values', async () => {
  const ctx = await open('fail');
  try {
    await ctx.sys.local('customer').insert([customer(1, { payment_terms_code: 'NET30', city: 'Oslo' }), customer(2, { payment_terms_code: 'NET60' })]);
    await ctx.run(async ({ sync }) => {
      const out = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
      expect(out.jobs[0].counters).toMatchObject({ inserted: 2, failed: 0 });
      const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      const [c2] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C2']);
      expect(await ctx.sys.integration('account').where('id', c1.integrationId).first()).toMatchObject({
        paymenttermscode: 100000001,
        customertypecode: 'Nordic',
        address1_city: 'Oslo',
      });
      expect(await ctx.sys.integration('account').where('id', c2.integrationId).first()).toMatchObject({
        paymenttermscode: 100000002,
        customertypecode: 'Standard',
      });

      await ctx.sys.integration('account').where('id', c1.integrationId).update({ paymenttermscode: 100000002, modified_on: tick() });
      const back = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'FromIntegrationTable' });
      expect(back.jobs[0].counters).toMatchObject({ modified: 1, failed: 0 });
      expect(await ctx.sys.local('customer').where('id', 'C1').first()).toMatchObject({ payment_terms_code: 'NET60' });
      // The template applies to creates only: an update leaves the type as it is.
      await ctx.sys.local('customer').where('id', 'C2').update({ city: 'Oslo', modified_on: tick() });
      await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
      expect(await ctx.sys.integration('account').where('id', c2.integrationId).first()).toMatchObject({ customertypecode: 'Standard', address1_city: 'Oslo' });
    });
  } finally {
    await ctx.close();
  }
});

test('an unmapped value fails its record with "fail", and with "collect" the rest syncs and the value is listed', async () => {
  const failing = await open('fail');
  try {
    await failing.sys.local('customer').insert([customer(3, { payment_terms_code: 'NET45' })]);
    await failing.run(async ({ sync }) => {
      const out = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
      expect(out.jobs[0].counters).toMatchObject({ inserted: 0, failed: 1 });
      const [row] = await failing.store.listErrors({ jobId: out.jobs[0].jobId });
      expect(row.message).toMatch(/payment_terms_code.*"NET45" has no option mapping in mapping CUSTOMER/);
    });
  } finally {
    await failing.close();
  }
  const collecting = await open('collect');
  try {
    await collecting.sys.local('customer').insert([customer(3, { payment_terms_code: 'NET45' }), customer(4, { payment_terms_code: 'NET45' })]);
    await collecting.run(async ({ sync }) => {
      const out = await sync.bulkSync({ mapping: 'CUSTOMER', direction: 'ToIntegrationTable' });
      expect(out.jobs[0].counters).toMatchObject({ inserted: 2, failed: 0 });
      expect(await collecting.sys.integration('account').whereNotNull('paymenttermscode').count({ n: '*' }).first()).toEqual({ n: 0 });
      const listed = await collecting.store.listUnmappedOptions('CUSTOMER');
      expect(listed).toEqual([
        expect.objectContaining({ side: 'local', field: 'payment_terms_code', value: '"NET45"', destinationField: 'paymenttermscode', occurrences: 2 }),
      ]);
    });
  } finally {
    await collecting.close();
  }
});
