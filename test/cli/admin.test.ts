/**
 * The administrator's CLI, as a script would use it: couplings (failed,
 * skipped, failed creates, one record, paged), describe, errors --record,
 * retry --ids, and the match and bulk flags, each with --json, against a
 * worker on the real dev server and a SQLite store file shared with it.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { customer, openTestSystems, testMapping, tick, type TestSystems } from '../helpers/systems';
import { FaultyConnector } from '../helpers/faulty-connector';
import { Store } from '../../store/store';

let temporal: TestTemporal;
let store: Store;
let sys: TestSystems;
let databaseUrl: string;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-admin-'));
  databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
  store = Store.open({ databaseUrl });
  await store.migrate();
  const fields = testMapping().fields.map((f) => (f.localField === 'email' ? { ...f, useForMatching: true } : f));
  await store.saveMapping(testMapping({ fields }));
  sys = await openTestSystems();
  await sys.local('customer').insert(Array.from({ length: 5 }, (_, i) => customer(i + 1)));
});
afterAll(async () => {
  await sys?.close();
  await store?.close();
  await temporal?.close();
});

const cli = (args: string[], taskQueue = 'unused') => runCli(args, { taskQueue, databaseUrl });
/** The JSON a command printed; exit 2 (a run with failed records) is an answer too. */
const json = async (args: string[], taskQueue?: string): Promise<unknown> => {
  const run = await cli(['--json', ...args], taskQueue);
  if (run.code !== 0 && run.code !== 2) throw new Error(`coupling-sync ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

test('couplings, describe and errors --record show what failed and was skipped; retry --ids fixes it in one run', async () => {
  const integration = new FaultyConnector(sys.systems.integration, { rejectValues: (v) => v.address1_city === 'Nowhere' });
  await withWorker(temporal, { store, systems: { ...sys.systems, integration } }, async ({ taskQueue }) => {
    expect(await json(['bulk', 'CUSTOMER', '--batch-size', '2', '--in-flight', '1'], taskQueue)).toMatchObject({ jobs: [{ counters: { inserted: 5 } }] });
    await sys.local('customer').whereIn('id', ['C1', 'C2']).update({ city: 'Nowhere', modified_on: tick() });
    await json(['bulk', 'CUSTOMER'], taskQueue);
    await json(['bulk', 'CUSTOMER'], taskQueue); // the same failure twice: skipped

    const failed = (await json(['couplings', 'CUSTOMER'])) as { rows: { key: string; state: string; lastError: string }[]; next: string | null };
    expect(failed.rows.map((r) => r.key)).toEqual(['local:C1', 'local:C2']);
    expect(failed.rows[0]).toMatchObject({ state: 'failed to integration, skipped', lastError: expect.stringContaining('check constraint') });
    expect(failed.next).toBeNull();
    expect(((await json(['couplings', 'CUSTOMER', '--skipped'])) as { rows: unknown[] }).rows).toHaveLength(2);
    expect(await json(['couplings', 'CUSTOMER', '--pending'])).toEqual({ rows: [], next: null });
    // Paged by keyset: the cursor of one page is where the next begins.
    const first = (await json(['couplings', 'CUSTOMER', '--limit', '1'])) as { rows: { key: string }[]; next: string };
    expect(first.rows.map((r) => r.key)).toEqual(['local:C1']);
    const second = (await json(['couplings', 'CUSTOMER', '--limit', '1', '--after', first.next])) as { rows: { key: string }[] };
    expect(second.rows.map((r) => r.key)).toEqual(['local:C2']);
    expect(((await json(['couplings', 'CUSTOMER', '--record', 'C3'])) as { rows: { state: string }[] }).rows).toEqual([
      expect.objectContaining({ state: 'in sync' }),
    ]);
    const human = await cli(['couplings', 'CUSTOMER']);
    expect(human.stdout).toMatch(
      /^local C1 {2}<-> \S+ {2}failed to integration, skipped {2}attempts 2 {2}\S+ {2}CHECK: the value violates a check constraint$/m,
    );
    expect((await cli(['couplings', 'CUSTOMER', '--failed', '--skipped'])).stderr.trim()).toBe('Error: Give one of --failed, --skipped and --pending.');
    expect((await cli(['couplings', 'NOPE'])).code).toBe(1);

    expect(await json(['describe', 'CUSTOMER'])).toMatchObject({
      name: 'CUSTOMER',
      direction: 'ToIntegrationTable',
      choosableDirections: ['ToIntegrationTable'],
      counts: { coupled: 5, failed: 2, skipped: 2, pending: 0 },
      schedule: null,
    });
    expect((await cli(['describe', 'CUSTOMER'])).stdout).toMatch(/^CUSTOMER: ToIntegrationTable, local\.customer <-> integration\.account\n/);
    const errors = (await json(['errors', '--record', 'C1'])) as { sourceRecordId: string }[];
    expect(errors.length).toBe(2);
    expect(errors.every((e) => e.sourceRecordId === 'C1')).toBe(true);

    integration.faults.rejectValues = undefined; // the cause is fixed
    const retried = (await json(['retry', 'CUSTOMER', '--ids', 'C1,C2'], taskQueue)) as { jobs: { counters: { modified: number; failed: number } }[] };
    expect(retried.jobs).toHaveLength(1);
    expect(retried.jobs[0].counters).toMatchObject({ modified: 2, failed: 0 });
    expect(await json(['couplings', 'CUSTOMER'])).toEqual({ rows: [], next: null });
    expect(((await json(['describe', 'CUSTOMER'])) as { counts: unknown }).counts).toEqual({ coupled: 5, failed: 0, skipped: 0, pending: 0 });

    // A deletion conflict: the counterpart of C3 deleted, C3 changed; restore creates it again and couples it.
    const [c3] = await store.getCouplings('CUSTOMER', 'local', ['C3']);
    await sys.integration('account').where('id', c3.integrationId).delete();
    await sys.local('customer').where('id', 'C3').update({ name: 'Restored', modified_on: tick() });
    await json(['bulk', 'CUSTOMER'], taskQueue);
    const conflict = (await json(['couplings', 'CUSTOMER', '--record', 'C3'])) as { rows: { lastError: string }[] };
    expect(conflict.rows[0].lastError).toMatch(/coupled to a deleted record/);
    const restored = (await json(['restore', 'CUSTOMER', '--ids', 'C3'], taskQueue)) as { jobs: { counters: { inserted: number; failed: number } }[] };
    expect(restored.jobs[0].counters).toMatchObject({ inserted: 1, failed: 0 });
    const [after] = await store.getCouplings('CUSTOMER', 'local', ['C3']);
    expect(await sys.integration('account').where('id', after.integrationId).first()).toMatchObject({ name: 'Restored' });
    expect((await cli(['restore', 'CUSTOMER'], taskQueue)).stderr).toContain("required option '--ids <ids>' not specified");
    const [c4] = await store.getCouplings('CUSTOMER', 'local', ['C4']);
    await sys.integration('account').where('id', c4.integrationId).delete();
    const removed = (await json(['delete-record', 'CUSTOMER', '--ids', 'C4,C5'], taskQueue)) as { jobs: { counters: Record<string, number> }[] };
    expect(removed.jobs[0].counters).toMatchObject({ deleted: 1, uncoupled: 1, failed: 1 }); // C5's counterpart exists: kept
    expect(await sys.local('customer').where('id', 'C4').first()).toBeUndefined();
    expect(await sys.local('customer').where('id', 'C5').first()).toBeDefined();
  });
});

test('match takes --batch-size, --in-flight and --filter; bulk --include-skipped and --winner go with --ids; bad values are one sentence', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const matched = await json(
      ['match', 'CUSTOMER', '--batch-size', '2', '--in-flight', '2', '--filter', '[{"field":"city","op":"eq","value":"Seattle"}]'],
      taskQueue,
    );
    expect(matched).toMatchObject({ mapping: 'CUSTOMER', jobs: [{ type: 'Coupling', status: 'succeeded' }] });
    const notJson = await cli(['match', 'CUSTOMER', '--filter', 'city=Seattle'], taskQueue);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr.trim()).toMatch(/^Error: Option "filter": not JSON/);
    expect((await cli(['match', 'CUSTOMER', '--in-flight', '0'], taskQueue)).stderr.trim()).toBe(
      'Error: Option "in-flight": "0" is not a whole number from 1 to 32.',
    );
    const badField = await cli(['match', 'CUSTOMER', '--filter', '[{"field":"city","op":"near","value":1}]'], taskQueue);
    expect(badField.code).toBe(1);
    expect(badField.stderr).toMatch(/filter\[0\]\.op/);
    expect((await cli(['bulk', 'CUSTOMER', '--include-skipped'], taskQueue)).stderr.trim()).toMatch(/"includeSkipped" goes with "recordIds"/);
    expect((await cli(['bulk', 'CUSTOMER', '--winner', 'ToIntegrationTable'], taskQueue)).stderr.trim()).toMatch(/"winner" goes with "recordIds"/);
    const chosen = await json(['bulk', 'CUSTOMER', '--ids', 'C1', '--include-skipped', '--winner', 'ToIntegrationTable'], taskQueue);
    expect(chosen).toMatchObject({ jobs: [{ status: 'succeeded' }] });
  });
});

test('retention --days runs now and says what it deleted; --schedule, --status and --remove-schedule manage its Schedule', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    await store.insertErrors([
      { jobId: 'ancient', mappingName: 'CUSTOMER', sourceRecordId: 'OLD', destinationRecordId: null, message: 'old', fullMessage: null, attempts: 1 },
    ]);
    await store.knex('sync_job_errors').where('job_id', 'ancient').update({ created_at: '2020-01-01T00:00:00.000Z' });
    const couplings = await store.countCouplings('CUSTOMER');
    expect(await json(['retention', '--days', '30'], taskQueue)).toMatchObject({ errorsDeleted: 1, jobsDeleted: 0 });
    expect(await store.countCouplings('CUSTOMER')).toBe(couplings);
    expect((await cli(['retention', '--days', '30'], taskQueue)).stdout).toMatch(/^Deleted 0 job rows and 0 error rows older than \S+\.\n$/);
    expect((await cli(['retention'], taskQueue)).stderr.trim()).toBe('Error: Give --days N: how many days of job and error rows to keep.');
    expect((await cli(['retention', '--days', '0'], taskQueue)).stderr.trim()).toBe('Error: Option "days": "0" is not a whole number from 1 to 36500.');

    expect(await json(['retention', '--days', '7', '--schedule'], taskQueue)).toMatchObject({ scheduleId: 'log-retention', days: 7, every: '1 day' });
    try {
      expect((await cli(['retention', '--days', '14', '--schedule', '12 hours'], taskQueue)).stdout).toBe(
        'Log retention Schedule: rows older than 14 days, every 12 hours\n',
      );
      expect((await cli(['retention', '--status'], taskQueue)).stdout).toBe('Log retention: rows older than 14 days, every 12 hours\n');
    } finally {
      expect((await cli(['retention', '--remove-schedule'], taskQueue)).stdout).toBe('Removed the log retention Schedule.\n');
    }
    expect((await cli(['retention', '--status'], taskQueue)).stdout).toBe('No log retention Schedule.\n');
  });
});
