/**
 * Set Up Coupling as an activity (activities/coupling/set-up.ts): it couples
 * two records once, recognises from the coupling's job an attempt that already
 * wrote the coupling (counted once, not "already coupled"), and refuses, non
 * retryable and naming the records, what it cannot couple.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SetUpCouplingActivityInput } from '../../../activities';
import { sqliteDialect } from '../../helpers/stores';
import { account, customer, openTestSystems, testMapping } from '../../helpers/systems';

async function world() {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  await store.saveMapping(testMapping({}));
  await sys.local('customer').insert([customer(1), customer(2)]);
  await sys.integration('account').insert([account('A1'), account('A2')]);
  const acts = createActivities({ store, systems: sys.systems });
  const close = async (): Promise<void> => {
    await sys.close();
    await cleanup();
  };
  return { store, acts, close };
}

const pair = (localId: string, integrationId: string, jobId = 'job'): SetUpCouplingActivityInput => ({ mapping: 'CUSTOMER', jobId, localId, integrationId });

test('couples once; a retry after the coupling was written counts it once; a later call says already coupled', async () => {
  const { store, acts, close } = await world();
  try {
    const first = await new MockActivityEnvironment().run(acts.setUpCoupling, pair('C1', 'A1'));
    expect(first).toEqual({ counters: expect.objectContaining({ coupled: 1 }), alreadyCoupled: false });
    // The attempt that wrote the coupling died before it returned: its retry (same job) counts the coupling, once.
    // No heartbeat details say so: the worker's keep-alive heartbeats control activities with none.
    const retried = await new MockActivityEnvironment({ attempt: 2 }).run(acts.setUpCoupling, pair('C1', 'A1'));
    expect(retried).toEqual({ counters: expect.objectContaining({ coupled: 1 }), alreadyCoupled: false });
    const later = await new MockActivityEnvironment().run(acts.setUpCoupling, pair('C1', 'A1', 'later'));
    expect(later).toEqual({ counters: expect.objectContaining({ coupled: 0 }), alreadyCoupled: true });
    expect(await store.countCouplings('CUSTOMER')).toBe(1);
  } finally {
    await close();
  }
});

test('refuses a record coupled to another, and a record that does not exist, naming them', async () => {
  const { store, acts, close } = await world();
  try {
    await new MockActivityEnvironment().run(acts.setUpCoupling, pair('C1', 'A1'));
    await expect(new MockActivityEnvironment().run(acts.setUpCoupling, pair('C2', 'A1'))).rejects.toMatchObject({
      type: 'CouplingRefused',
      nonRetryable: true,
      message: expect.stringContaining('integration record "A1" is already coupled to local record "C1"'),
    });
    await expect(new MockActivityEnvironment().run(acts.setUpCoupling, pair('C9', 'A2'))).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('Field "localId": record "C9" does not exist'),
    });
    expect(await store.countCouplings('CUSTOMER')).toBe(1);
  } finally {
    await close();
  }
});
