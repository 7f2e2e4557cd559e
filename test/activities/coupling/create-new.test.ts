/**
 * Match-based coupling's create-new (finishMatchBatch) creates records as a
 * sync does: with the first matching template's defaults under the mapped
 * values, and unmapped option values of `collect` fields left out and listed.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type FinishMatchBatchInput, type MatchBatchResult } from '../../../activities';
import { openBatchWorld, type BatchWorld } from '../../helpers/batch-world';
import { customer } from '../../helpers/systems';

let world: BatchWorld;
afterEach(async () => {
  await world.close();
});

test('unmatched records are created with their template and their option values; an unmapped one is listed', async () => {
  world = await openBatchWorld({
    direction: 'Bidirectional',
    fields: [
      { localField: 'name', integrationField: 'name', useForMatching: true },
      {
        localField: 'payment_terms_code',
        integrationField: 'paymenttermscode',
        optionMapping: { pairs: [{ local: 'NET30', integration: 100000001 }], unmapped: 'collect' },
      },
    ],
    templates: [
      { direction: 'ToIntegrationTable', priority: 1, filter: [{ field: 'country', op: 'in', value: ['gb', 'ie'] }], values: { customertypecode: 'Europe' } },
      { direction: 'ToIntegrationTable', priority: 2, values: { customertypecode: 'Customer' } },
      { direction: 'FromIntegrationTable', values: { segment: 'never used here' } },
    ],
  });
  await world.sys.local('customer').insert([customer(1, { country: 'ie', payment_terms_code: 'NET30' }), customer(2, { payment_terms_code: 'NET45' })]);
  await world.store.createJob({ id: 'job-m', mappingName: 'CUSTOMER', type: 'Coupling', direction: null, workflowId: 'w', runId: 'r' });
  const acts = createActivities({ store: world.store, systems: world.sys.systems });
  const input: FinishMatchBatchInput = {
    mapping: 'CUSTOMER',
    jobId: 'job-m',
    selection: { kind: 'ids', ids: ['C1', 'C2'] },
    filter: [],
    createNewIfNoMatch: true,
    maxAttempts: 1,
  };

  const result: MatchBatchResult = await new MockActivityEnvironment().run(acts.finishMatchBatch, input);
  expect(result.counters).toMatchObject({ inserted: 2, coupled: 2, failed: 0 });
  expect(await world.accountOf('C1')).toMatchObject({ name: 'Customer 1', paymenttermscode: 100000001, customertypecode: 'Europe' });
  expect(await world.accountOf('C2')).toMatchObject({ name: 'Customer 2', paymenttermscode: null, customertypecode: 'Customer' });
  expect(await world.store.listUnmappedOptions('CUSTOMER')).toMatchObject([
    { side: 'local', field: 'payment_terms_code', value: '"NET45"', occurrences: 1, firstJobId: 'job-m' },
  ]);
});
