/**
 * Log retention on the real dev server: job and error rows older than the
 * cutoff go, in batches, across continue-as-new; a running job, newer rows and
 * every coupling stay; a Schedule runs it.
 */
import { RetentionSchedule } from '../../client/retention-schedule';
import { TABLES } from '../../store/tables';
import { customer } from '../helpers/systems';
import { openSyncContext } from '../helpers/sync-context';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString();

test('rows older than the days given are deleted in batches; a running job, newer rows and couplings stay', async () => {
  const ctx = await openSyncContext(temporal);
  try {
    await ctx.sys.local('customer').insert(Array.from({ length: 3 }, (_, i) => customer(i + 1)));
    await ctx.run(async ({ sync }) => {
      await sync.bulkSync({ mapping: 'CUSTOMER' }); // a job of today, and three couplings
      const job = (status: string, startedAt: string, finishedAt: string | null, i: number) => ({
        id: `old-${status}-${i}`,
        mapping_name: 'CUSTOMER',
        type: 'Synchronization',
        status,
        started_at: startedAt,
        finished_at: finishedAt,
      });
      await ctx.store
        .knex(TABLES.jobs)
        .insert([
          ...Array.from({ length: 7 }, (_, i) => job('succeeded', daysAgo(30), daysAgo(30), i)),
          job('failed', daysAgo(9), daysAgo(8), 0),
          job('running', daysAgo(40), null, 0),
          job('succeeded', daysAgo(3), daysAgo(3), 99),
        ]);
      await ctx.store.insertErrors(
        Array.from({ length: 10 }, (_, i) => ({
          jobId: 'old-succeeded-0',
          mappingName: 'CUSTOMER',
          sourceRecordId: `R${i}`,
          destinationRecordId: null,
          message: 'old',
          fullMessage: null,
          attempts: 1,
        })),
      );
      await ctx.store.knex(TABLES.jobErrors).update({ created_at: daysAgo(30) });
      await ctx.store.insertErrors([
        {
          jobId: 'old-succeeded-99',
          mappingName: 'CUSTOMER',
          sourceRecordId: 'NEW',
          destinationRecordId: null,
          message: 'new',
          fullMessage: null,
          attempts: 1,
        },
      ]);
      const couplingsBefore = await ctx.store.countCouplings('CUSTOMER');

      const handle = await sync.startLogRetention({ days: 7, batchSize: 3, batchesPerRun: 2 });
      const result = await handle.result();
      // Four batches of three: the run continued as new with the same cutoff and its counts so far.
      const described = await temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
      expect(described.status.name).toBe('CONTINUED_AS_NEW');
      expect(result).toMatchObject({ errorsDeleted: 10, jobsDeleted: 8 });
      expect(Date.parse(result.before)).toBeGreaterThan(Date.parse(daysAgo(7)) - 60_000);
      const jobs = (await ctx.store.listJobs({ mappingName: 'CUSTOMER', limit: 100 })).map((j) => j.id);
      expect(jobs).toEqual(expect.arrayContaining(['old-running-0', 'old-succeeded-99']));
      expect(jobs.filter((id) => id.startsWith('old-')).sort()).toEqual(['old-running-0', 'old-succeeded-99']);
      expect(jobs).toHaveLength(3);
      expect((await ctx.store.listErrors({ mappingName: 'CUSTOMER' })).map((e) => e.sourceRecordId)).toEqual(['NEW']);
      expect(await ctx.store.countCouplings('CUSTOMER')).toBe(couplingsBefore);
      // Nothing older left: a second run deletes nothing.
      expect(await sync.logRetention({ days: 7 })).toMatchObject({ errorsDeleted: 0, jobsDeleted: 0 });
    });
  } finally {
    await ctx.close();
  }
});

test('the retention Schedule runs the workflow, takes new days and interval, and is gone when removed', async () => {
  const ctx = await openSyncContext(temporal);
  try {
    await ctx.run(async ({ taskQueue }) => {
      const schedule = new RetentionSchedule(temporal.client, taskQueue);
      const info = await schedule.set(7);
      try {
        expect(info).toMatchObject({ scheduleId: 'log-retention', days: 7, every: '1 day', paused: false });
        expect(await schedule.set(30, '12 hours')).toMatchObject({ days: 30, every: '12 hours' });
        await temporal.client.schedule.getHandle('log-retention').trigger();
        await eventually('the scheduled retention run', async () => {
          const d = await temporal.client.schedule.getHandle('log-retention').describe();
          return d.info.recentActions.length > 0 && d.info.runningActions.length === 0;
        });
        const run = await temporal.client.workflow.getHandle('log-retention').describe();
        expect(run.status.name).toBe('COMPLETED');
      } finally {
        await schedule.delete();
      }
      expect(await schedule.describe()).toBeNull();
    });
  } finally {
    await ctx.close();
  }
});
