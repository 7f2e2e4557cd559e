/**
 * The change feed on the real dev server: a change to a Knex table reaches the
 * other side through live sync with nobody calling notify and no Schedule.
 */
import { ChangeFeed } from '../../worker/receivers/change-feed';
import { eventually } from '../helpers/eventually';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { customer, tick } from '../helpers/systems';
import { openSyncContext } from '../helpers/sync-context';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

test('a change on either side of a coupled record, and a new record, arrive on the other side through the feed alone', async () => {
  const ctx = await openSyncContext(temporal, { name: 'LIVE_FEED', direction: 'Bidirectional' });
  try {
    await ctx.sys.local('customer').insert([customer(1)]);
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'LIVE_FEED' });
      const [coupling] = await ctx.store.getCouplings('LIVE_FEED', 'local', ['C1']);
      const warnings: string[] = [];
      const feed = new ChangeFeed({
        live: sync.live,
        store: ctx.store,
        systems: ctx.systems,
        mappings: ['LIVE_FEED'],
        intervalMs: 200,
        warn: (m) => warnings.push(m),
      });
      await feed.start();
      try {
        await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Fed locally', modified_on: tick() });
        await eventually(
          'the local change',
          async () => (await ctx.sys.integration('account').where('id', coupling.integrationId).first())?.name === 'Fed locally',
        );
        await ctx.sys.integration('account').where('id', coupling.integrationId).update({ name: 'Fed remotely', modified_on: tick() });
        await eventually('the integration change', async () => (await ctx.sys.local('customer').where('id', 'C1').first())?.name === 'Fed remotely');
        await ctx.sys.local('customer').insert([customer(2, { modified_on: tick() })]);
        await eventually('the new record', async () => (await ctx.store.getCouplings('LIVE_FEED', 'local', ['C2'])).length === 1);
        expect(warnings).toEqual([]);
        const state = await sync.live.state('LIVE_FEED');
        expect(state.refused).toBe(0);
        expect(state.runs).toBeGreaterThanOrEqual(3);
      } finally {
        await feed.stop();
        await sync.live.stop('LIVE_FEED');
      }
    });
  } finally {
    await ctx.close();
  }
});
