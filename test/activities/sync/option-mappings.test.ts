/**
 * Option mappings through the engine, SQLite tables as both systems: BC
 * payment terms codes on customer, Dataverse option values on account. Pairs
 * work both ways and take part in change detection; an unmapped value fails
 * the record, or with `collect` is left out of the write and listed once per
 * batch for an administrator to map.
 */
import type { FieldMappingDefinition } from '../../../domain/mapping';
import { isStillUnmapped } from '../../../domain/option-mapping';
import { openBatchWorld, type BatchWorld } from '../../helpers/batch-world';
import { customer, tick } from '../../helpers/systems';

const PAIRS = [
  { local: 'NET30', integration: 100000001 },
  { local: 'NET60', integration: 100000002 },
];
const paymentTerms = (unmapped: 'fail' | 'collect', pairs = PAIRS): FieldMappingDefinition => ({
  localField: 'payment_terms_code',
  integrationField: 'paymenttermscode',
  optionMapping: { pairs, unmapped },
});
const mapping = (unmapped: 'fail' | 'collect', pairs = PAIRS) => ({
  direction: 'Bidirectional' as const,
  syncOnlyCoupledRecords: false,
  fields: [{ localField: 'name', integrationField: 'name' }, paymentTerms(unmapped, pairs)],
});

let world: BatchWorld;
afterEach(async () => {
  await world.close();
});

test('a code goes out as its option value and an option value comes back as its code; values that agree after mapping are unchanged', async () => {
  world = await openBatchWorld(mapping('fail'));
  await world.sys.local('customer').insert([customer(1, { payment_terms_code: 'NET30' }), customer(2, { payment_terms_code: 'NET60' })]);

  expect((await world.batch('ToIntegrationTable', 'local', ['C1', 'C2'])).counters).toMatchObject({ inserted: 2, failed: 0 });
  expect(await world.accountOf('C1')).toMatchObject({ name: 'Customer 1', paymenttermscode: 100000001 });
  expect(await world.accountOf('C2')).toMatchObject({ paymenttermscode: 100000002 });

  const account = await world.accountOf('C1');
  await world.sys.integration('account').where('id', account.id).update({ paymenttermscode: 100000002, modified_on: tick() });
  expect((await world.batch('FromIntegrationTable', 'integration', [account.id])).counters).toMatchObject({ modified: 1, failed: 0 });
  expect(await world.sys.local('customer').where('id', 'C1').first()).toMatchObject({ payment_terms_code: 'NET60' });

  // Forced, as a full sync is: both pairs agree once mapped, so nothing is written either way.
  expect((await world.batch('ToIntegrationTable', 'local', ['C1', 'C2'], { force: true })).counters).toMatchObject({ unchanged: 2, modified: 0 });
  expect((await world.batch('FromIntegrationTable', 'local', ['C1', 'C2'], { force: true })).counters).toMatchObject({ unchanged: 2, modified: 0 });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toEqual([]);
});

test('with unmapped "fail", a value without a pair fails its record in either direction, naming the field, the value and the mapping', async () => {
  world = await openBatchWorld(mapping('fail'));
  await world.sys.local('customer').insert([customer(1, { payment_terms_code: 'NET30' }), customer(3, { payment_terms_code: 'NET45' })]);

  const out = await world.batch('ToIntegrationTable', 'local', ['C1', 'C3']);
  expect(out.counters).toMatchObject({ inserted: 1, failed: 1 });
  expect(await world.sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
  const [row] = await world.store.listErrors({ jobId: out.jobId });
  expect(row).toMatchObject({
    sourceRecordId: 'C3',
    message:
      'Field "payment_terms_code" -> "paymenttermscode": value "NET45" has no option mapping in mapping CUSTOMER; add a pair for it to fields[1].optionMapping.pairs, or set fields[1].optionMapping.unmapped to "collect"',
  });
  expect(await world.store.listUncoupledFailures('CUSTOMER')).toMatchObject([{ recordId: 'C3', failureCount: 1 }]);

  const account = await world.accountOf('C1');
  await world.sys.integration('account').where('id', account.id).update({ paymenttermscode: 100000009, modified_on: tick() });
  const back = await world.batch('FromIntegrationTable', 'integration', [account.id]);
  expect(back.counters).toMatchObject({ modified: 0, failed: 1 });
  expect((await world.store.listErrors({ jobId: back.jobId }))[0].message).toMatch(/value 100000009 has no option mapping in mapping CUSTOMER/);
  expect(await world.sys.local('customer').where('id', 'C1').first()).toMatchObject({ payment_terms_code: 'NET30' });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toEqual([]);
});

test('with unmapped "collect", the record syncs without the field and the value is listed, once per batch; a pair added later is carried by a full sync', async () => {
  world = await openBatchWorld({ ...mapping('collect'), direction: 'ToIntegrationTable' });
  await world.sys
    .local('customer')
    .insert([customer(1, { payment_terms_code: 'NET30' }), customer(3, { payment_terms_code: 'NET45' }), customer(4, { payment_terms_code: 'NET45' })]);
  const note = jest.spyOn(world.store, 'noteUnmappedOptions');

  const first = await world.batch('ToIntegrationTable', 'local', ['C1', 'C3', 'C4']);
  expect(first.counters).toMatchObject({ inserted: 3, failed: 0 });
  expect(await world.store.listErrors({ jobId: first.jobId })).toEqual([]);
  expect(await world.accountOf('C1')).toMatchObject({ paymenttermscode: 100000001 });
  expect(await world.accountOf('C3')).toMatchObject({ name: 'Customer 3', paymenttermscode: null });
  expect(note).toHaveBeenCalledTimes(1);
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toMatchObject([
    { side: 'local', field: 'payment_terms_code', value: '"NET45"', destinationField: 'paymenttermscode', occurrences: 2, firstJobId: first.jobId },
  ]);

  // An update writes the rest of the record and leaves the field as it is on the other side.
  const c3 = await world.accountOf('C3');
  await world.sys.integration('account').where('id', c3.id).update({ paymenttermscode: 100000002 });
  await world.sys.local('customer').where('id', 'C3').update({ name: 'Renamed', modified_on: tick() });
  const second = await world.batch('ToIntegrationTable', 'local', ['C3']);
  expect(second.counters).toMatchObject({ modified: 1, failed: 0 });
  expect(await world.accountOf('C3')).toMatchObject({ name: 'Renamed', paymenttermscode: 100000002 });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toMatchObject([{ occurrences: 3, firstJobId: first.jobId, lastJobId: second.jobId }]);
  expect(note).toHaveBeenCalledTimes(2);

  // The administrator maps NET45: it leaves the list of values still unmapped, and a full sync carries it.
  await world.remap({ ...mapping('collect', [...PAIRS, { local: 'NET45', integration: 100000004 }]), direction: 'ToIntegrationTable' });
  const saved = await world.store.requireMapping('CUSTOMER');
  expect((await world.store.listUnmappedOptions('CUSTOMER')).filter((r) => isStillUnmapped(saved, r))).toEqual([]);
  expect((await world.batch('ToIntegrationTable', 'local', ['C3', 'C4'], { force: true })).counters).toMatchObject({ modified: 2, failed: 0 });
  expect(await world.accountOf('C3')).toMatchObject({ name: 'Renamed', paymenttermscode: 100000004 });
  expect(await world.accountOf('C4')).toMatchObject({ paymenttermscode: 100000004 });
});

test('with unmapped "collect", an option value from the integration side without a pair is listed on that side and the local code stays', async () => {
  world = await openBatchWorld(mapping('collect'));
  await world.sys.local('customer').insert([customer(1, { payment_terms_code: 'NET30' })]);
  expect((await world.batch('ToIntegrationTable', 'local', ['C1'])).counters).toMatchObject({ inserted: 1 });
  const c1 = await world.accountOf('C1');
  await world.sys.integration('account').where('id', c1.id).update({ paymenttermscode: 100000009, modified_on: tick() });

  const back = await world.batch('FromIntegrationTable', 'integration', [c1.id]);
  expect(back.counters).toMatchObject({ unchanged: 1, modified: 0, failed: 0 });
  expect(await world.sys.local('customer').where('id', 'C1').first()).toMatchObject({ payment_terms_code: 'NET30' });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toMatchObject([
    { side: 'integration', field: 'paymenttermscode', value: '100000009', destinationField: 'payment_terms_code', occurrences: 1, firstJobId: back.jobId },
  ]);
});
