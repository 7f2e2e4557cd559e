/**
 * Templates for created records through the engine, SQLite tables as both
 * systems: a record the sync creates (new or restored) gets the defaults of
 * the first template, lowest priority first, whose filter matches its source
 * record; mapped values win; records it updates never get them.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type StartPassInput } from '../../../activities';
import type { MappingDefinition } from '../../../domain/mapping';
import { openBatchWorld, type BatchWorld } from '../../helpers/batch-world';
import { customer, tick } from '../../helpers/systems';

const TEMPLATES: MappingDefinition['templates'] = [
  { direction: 'ToIntegrationTable', priority: 20, values: { customertypecode: 'Customer', telephone1: 'no phone', address1_country: 'US' } },
  { direction: 'ToIntegrationTable', priority: 10, filter: [{ field: 'country', op: 'eq', value: 'gb' }], values: { customertypecode: 'UK customer' } },
];

let world: BatchWorld;
afterEach(async () => {
  await world.close();
});

test('created records get the first matching template by priority, mapped values winning; updates never get template values', async () => {
  world = await openBatchWorld({ direction: 'ToIntegrationTable', templates: TEMPLATES });
  await world.sys.local('customer').insert([customer(1, { country: 'gb' }), customer(2, { country: 'us' }), customer(3, { country: 'us', phone: null })]);

  const out = await world.batch('ToIntegrationTable', 'local', ['C1', 'C2', 'C3']);
  expect(out.counters).toMatchObject({ inserted: 3, coupled: 3, failed: 0 });
  expect(await world.accountOf('C1')).toMatchObject({ name: 'Customer 1', telephone1: '555-1', customertypecode: 'UK customer', address1_country: null });
  expect(await world.accountOf('C2')).toMatchObject({ name: 'Customer 2', telephone1: '555-2', customertypecode: 'Customer', address1_country: 'US' });
  // The mapping writes telephone1, so its empty value wins over the template's.
  expect(await world.accountOf('C3')).toMatchObject({ telephone1: null, customertypecode: 'Customer' });

  const c1 = await world.accountOf('C1');
  await world.sys.integration('account').where('id', c1.id).update({ customertypecode: null, address1_country: null });
  await world.sys.local('customer').where('id', 'C1').update({ name: 'Renamed', country: 'us', modified_on: tick() });
  expect((await world.batch('ToIntegrationTable', 'local', ['C1'])).counters).toMatchObject({ modified: 1, inserted: 0 });
  expect(await world.accountOf('C1')).toMatchObject({ name: 'Renamed', customertypecode: null, address1_country: null });
});

test('a restored record (deletion-conflict resolution RestoreRecords) is created with its template too', async () => {
  world = await openBatchWorld({ direction: 'ToIntegrationTable', deletionConflictResolution: 'RestoreRecords', templates: TEMPLATES });
  await world.sys.local('customer').insert([customer(1, { country: 'gb' })]);
  await world.batch('ToIntegrationTable', 'local', ['C1']);
  await world.sys
    .integration('account')
    .where('id', (await world.accountOf('C1')).id)
    .delete();
  await world.sys.local('customer').where('id', 'C1').update({ name: 'Back again', modified_on: tick() });

  expect((await world.batch('ToIntegrationTable', 'local', ['C1'])).counters).toMatchObject({ inserted: 1, failed: 0 });
  expect(await world.sys.integration('account').select('name', 'customertypecode')).toEqual([{ name: 'Back again', customertypecode: 'UK customer' }]);
});

test('a template fills a field an unmapped option value was left out of; a mapped option wins over it', async () => {
  world = await openBatchWorld({
    direction: 'ToIntegrationTable',
    fields: [
      { localField: 'name', integrationField: 'name' },
      {
        localField: 'payment_terms_code',
        integrationField: 'paymenttermscode',
        optionMapping: { pairs: [{ local: 'NET30', integration: 100000001 }], unmapped: 'collect' },
      },
    ],
    templates: [{ direction: 'ToIntegrationTable', values: { paymenttermscode: 100000003 } }],
  });
  await world.sys.local('customer').insert([customer(1, { payment_terms_code: 'NET30' }), customer(2, { payment_terms_code: 'NET45' })]);
  expect((await world.batch('ToIntegrationTable', 'local', ['C1', 'C2'])).counters).toMatchObject({ inserted: 2, failed: 0 });
  expect(await world.accountOf('C1')).toMatchObject({ paymenttermscode: 100000001 });
  expect(await world.accountOf('C2')).toMatchObject({ paymenttermscode: 100000003 });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toMatchObject([{ value: '"NET45"', occurrences: 1 }]);
});

test('a run does not start with a template on a column the destination does not have, its id column, or a filter on a column the source lacks', async () => {
  world = await openBatchWorld({
    direction: 'ToIntegrationTable',
    templates: [{ direction: 'ToIntegrationTable', filter: [{ field: 'region', op: 'isNull' }], values: { nope: 1, id: 'A-1' } }],
  });
  const acts = createActivities({ store: world.store, systems: world.sys.systems });
  const start: StartPassInput = {
    mapping: 'CUSTOMER',
    direction: 'ToIntegrationTable',
    jobId: 'job',
    type: 'Synchronization',
    workflowId: 'w',
    runId: 'r',
    fullSync: false,
  };
  const refused = new MockActivityEnvironment().run(acts.startPass, start);
  await expect(refused).rejects.toThrow(/templates\[0\]\.values\.nope "nope" is not a column of account/);
  await expect(refused).rejects.toThrow(/templates\[0\]\.filter\[0\]\.field "region" is not a column of customer/);
  await expect(refused).rejects.toThrow(/templates\[0\]\.values\.id is the id column of account/);
  expect(await world.store.listJobs({ mappingName: 'CUSTOMER' })).toEqual([]);
});
