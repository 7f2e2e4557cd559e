/** The CLI as a script would use it: real process, real dev server, a SQLite store file shared with the worker. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import { Store } from '../../store/store';
import { hasChangeTrigger } from '../../connectors/knex-change-trigger';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import knexFactory from 'knex';
import { sqliteConfig } from '../../store/database-url';
import { openPostgresSchema, POSTGRES_URL } from '../helpers/stores';
import { parseMappingDefinition } from '../../domain/mapping';
import { checkMappingAgainstSystems, readSystemsFile } from '../../worker/systems-config';

let temporal: TestTemporal;
let store: Store;
let sys: TestSystems;
let databaseUrl: string;
let dir: string;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
  store = Store.open({ databaseUrl });
  await store.migrate();
  sys = await openTestSystems();
  await sys.local('customer').insert(Array.from({ length: 5 }, (_, i) => customer(i)));
});
afterAll(async () => {
  await sys?.close();
  await store?.close();
  await temporal?.close();
});

const cli = (args: string[], taskQueue = 'unused') => runCli(args, { taskQueue, databaseUrl });

test('mappings import and list', async () => {
  const file = path.join(dir, 'mappings.json');
  writeFileSync(file, JSON.stringify([testMapping()]));
  const imported = await cli(['mappings', 'import', file]);
  expect(imported).toMatchObject({ code: 0, stdout: 'Stored mapping(s): CUSTOMER\n' });
  const listed = await cli(['--json', 'mappings']);
  expect(JSON.parse(listed.stdout)).toEqual(['CUSTOMER']);
  writeFileSync(file, JSON.stringify({ ...testMapping(), direction: 'Sideways' }));
  const bad = await cli(['mappings', 'import', file]);
  expect(bad.code).toBe(1);
  expect(bad.stderr.trim()).toMatch(/^Error: Mapping CUSTOMER is invalid: direction: /);
  // A file whose mappings depend on each other in a cycle stores none of them (each save alone would store the first).
  const on = (name: string, dependsOn: string[]) =>
    testMapping({ name, local: { system: 'local', table: `l_${name}` }, integration: { system: 'integration', table: `i_${name}` }, dependsOn });
  writeFileSync(file, JSON.stringify([on('CYCLE_A', ['CYCLE_B']), on('CYCLE_B', ['CYCLE_A'])]));
  const cycle = await cli(['mappings', 'import', file]);
  expect(cycle.code).toBe(1);
  expect(cycle.stderr.trim()).toBe(`Error: Mappings file "${file}": dependsOn makes a cycle (CYCLE_A -> CYCLE_B -> CYCLE_A); nothing was stored.`);
  expect(await store.getMapping('CYCLE_A')).toBeNull();
});

test("mappings import with the worker's SYSTEMS_CONFIG refuses a field onto an id column, or an unknown system, before storing", async () => {
  const systems = path.join(dir, 'systems.json');
  writeFileSync(
    systems,
    JSON.stringify({
      local: { type: 'knex', databaseUrl: `sqlite:${path.join(dir, 'local.sqlite')}`, tables: { customer: { idColumn: 'no' } } },
      integration: { type: 'knex', databaseUrl: `sqlite:${path.join(dir, 'integration.sqlite')}` },
    }),
  );
  const file = path.join(dir, 'keyed.json');
  const fields = [
    { localField: 'name', integrationField: 'name' },
    { localField: 'email', integrationField: 'modified_on' },
  ];
  writeFileSync(file, JSON.stringify(testMapping({ name: 'KEYED', fields })));
  const refused = await cli(['mappings', 'import', file, '--systems', systems]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('fields[1].integrationField "modified_on" is the modified-on column of account');
  writeFileSync(
    file,
    JSON.stringify(testMapping({ name: 'KEYED', direction: 'FromIntegrationTable', fields: [{ localField: 'no', integrationField: 'name' }] })),
  );
  expect((await cli(['mappings', 'import', file, '--systems', systems])).stderr).toContain('fields[0].localField "no" is the id column of customer');
  writeFileSync(file, JSON.stringify(testMapping({ name: 'KEYED', integration: { system: 'crm', table: 'account' } })));
  expect((await cli(['mappings', 'import', file, '--systems', systems])).stderr).toContain('integration.system "crm" is not a system of');
  expect(await store.getMapping('KEYED')).toBeNull();
  // Reading the id into another column is fine (checked without storing, so the other tests' store keeps one mapping).
  const readsId = parseMappingDefinition(
    testMapping({ name: 'KEYED', fields: [{ localField: 'no', integrationField: 'name', direction: 'ToIntegrationTable' }] }),
  );
  expect(checkMappingAgainstSystems(readsId, readSystemsFile(systems), systems)).toEqual([]);
});

test('bulk, jobs and errors with --json; a bad mapping is one sentence and exit 1', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const bulk = await cli(['--json', 'bulk', 'CUSTOMER'], taskQueue);
    expect(bulk.code).toBe(0);
    const result = JSON.parse(bulk.stdout);
    expect(result.jobs[0].counters).toMatchObject({ inserted: 5, coupled: 5 });
    const jobs = JSON.parse((await cli(['--json', 'jobs', '--mapping', 'CUSTOMER'], taskQueue)).stdout);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ mappingName: 'CUSTOMER', status: 'succeeded' });
    expect(JSON.parse((await cli(['--json', 'errors'], taskQueue)).stdout)).toEqual([]);
    const human = await cli(['bulk', 'CUSTOMER'], taskQueue);
    expect(human.stdout).toMatch(/^CUSTOMER ToIntegrationTable: succeeded \(nothing to do\) job /);
    // The human jobs line shows every counter.
    expect((await cli(['jobs', '--mapping', 'CUSTOMER'], taskQueue)).stdout).toMatch(
      /ins 5 mod 0 del 0 unch 0 fail 0 skip 0 coupled 5 uncoupled 0 unmatched 0 {2}\S+\n/,
    );

    const unknown = await cli(['bulk', 'NOPE'], taskQueue);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('Error: Field "mapping": no integration table mapping named "NOPE"; known mappings: CUSTOMER.');
  });
});

test('a run that no worker picks up says so within seconds, naming the task queue, instead of waiting silently', async () => {
  await store.saveMapping(testMapping({ name: 'NO_WORKER' }));
  const queue = `nobody-${Date.now()}`;
  const child = spawn(process.execPath, [path.resolve('bin/coupling-sync.js'), 'bulk', 'NO_WORKER'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
      TEMPORAL_TASK_QUEUE: queue,
      DATABASE_URL: databaseUrl,
      COUPLING_SYNC_NO_WORKER_CHECK_MS: '500',
    },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const until = Date.now() + 30_000;
    while (!stderr.includes('No worker polls') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toContain(`No worker polls task queue "${queue}" (namespace default): bulk-sync/NO_WORKER waits there until one starts`);
    expect(child.exitCode).toBeNull();
  } finally {
    child.kill();
    await temporal.client.workflow
      .getHandle('bulk-sync/NO_WORKER')
      .terminate('test over')
      .catch(() => undefined);
    // The later tests run every mapping in the store.
    await store.deleteMapping('NO_WORKER');
  }
});

test('full-sync: one line per mapping, or JSON; a bad option or an unknown mapping is one sentence and exit 1', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const json = await cli(['--json', 'full-sync', '--mappings', 'CUSTOMER', '--on-populated', 'stop'], taskQueue);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ status: 'succeeded', mappings: [{ mapping: 'CUSTOMER', state: 'done', reason: null }] });
    expect(await store.countCouplings('CUSTOMER')).toBe(5);
    const human = await cli(['full-sync', '--max-in-flight', '2'], taskQueue);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^CUSTOMER: done \((unchanged 5|inserted 5, coupled 5)\)\nFull synchronization succeeded\.\n$/);

    const bad = await cli(['full-sync', '--on-populated', 'create'], taskQueue);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("option '--on-populated <what>' argument 'create' is invalid");
    const unknown = await cli(['full-sync', '--mappings', 'CUSTOMER,NOPE'], taskQueue);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('Error: Field "mappings": no integration table mapping named "NOPE"; known mappings: CUSTOMER.');
  });
});

test('schedule create, list, pause and delete', async () => {
  const created = await cli(['--json', 'schedule', 'create', 'CUSTOMER', '--every', '1 hour', '--paused']);
  expect(created.code).toBe(0);
  expect(JSON.parse(created.stdout)).toMatchObject({ mapping: 'CUSTOMER', every: '1 hour', normalEvery: '1 hour', idleUpTo: '720 minutes', paused: true });
  const listed = JSON.parse((await cli(['--json', 'schedule', 'list'])).stdout);
  expect(listed.map((s: { mapping: string }) => s.mapping)).toContain('CUSTOMER');
  expect((await cli(['schedule', 'resume', 'CUSTOMER'])).stdout).toBe('Resumed the schedule of CUSTOMER\n');
  expect((await cli(['schedule', 'delete', 'CUSTOMER'])).code).toBe(0);
  const fixed = await cli(['schedule', 'create', 'FIXED', '--every', '2 hours', '--fixed', '--paused']);
  expect(fixed.stdout).toBe('Schedule sync-schedule/FIXED: every 2 hours (paused)\n');
  expect((await cli(['schedule', 'delete', 'FIXED'])).code).toBe(0);
  const both = await cli(['schedule', 'create', 'FIXED', '--fixed', '--idle-up-to', '1 day']);
  expect(both.stderr.trim()).toBe('Error: Give either --idle-up-to or --fixed, not both.');
  const bad = await cli(['schedule', 'create', 'CUSTOMER', '--every', 'often']);
  expect(bad.code).toBe(1);
  expect(bad.stderr.trim()).toBe('Error: Option "every": "often" is not a duration; use e.g. "30 minutes", "5m" or "1 hour".');
});

test('live pg-trigger install and remove a PostgreSQL table change trigger; SQLite is refused in one sentence', async () => {
  const sqlite = await cli(['live', 'pg-trigger', 'install', 'customer', '--database-url', 'sqlite::memory:']);
  expect(sqlite.code).toBe(1);
  expect(sqlite.stderr.trim()).toMatch(/^Error: Change trigger: PostgreSQL only .*LIVE_SYNC_FEED/);
  const pg = await openPostgresSchema('cli_trigger');
  if (!pg) return;
  try {
    await createCustomerTable(pg.knex);
    const args = ['customer', '--database-url', POSTGRES_URL, '--schema', pg.schema];
    const installed = await cli(['live', 'pg-trigger', 'install', ...args]);
    expect(installed.stdout).toBe('Installed the change trigger of customer (channel coupling_sync_changes)\n');
    expect(await hasChangeTrigger(pg.knex, { table: 'customer' })).toBe(true);
    expect(JSON.parse((await cli(['--json', 'live', 'pg-trigger', 'remove', ...args])).stdout)).toEqual({
      table: 'customer',
      remove: true,
      channel: 'coupling_sync_changes',
    });
    expect(await hasChangeTrigger(pg.knex, { table: 'customer' })).toBe(false);
  } finally {
    await pg.drop();
  }
});

test('indexes prints the match indexes as SQL, creates them, and says when a mapping matches on nothing', async () => {
  const matched = testMapping({
    name: 'MATCHED',
    fields: [
      { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
      { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true },
    ],
  });
  await store.saveMapping(matched);
  const target = `sqlite:${path.join(dir, 'indexed.sqlite')}`;
  const sql = await cli(['indexes', 'MATCHED', '--database-url', target, '--sql']);
  expect(sql.code).toBe(0);
  expect(sql.stdout).toMatch(/^create index if not exists `account_emailaddress1_match` on `account` \(lower\(trim\(`emailaddress1`.*\)\)\);\n$/);
  const db = knexFactory(sqliteConfig(path.join(dir, 'indexed.sqlite')));
  try {
    await createAccountTable(db);
    const created = JSON.parse((await cli(['--json', 'indexes', 'MATCHED', '--database-url', target])).stdout);
    expect(created).toMatchObject({ mapping: 'MATCHED', table: 'account', indexes: [expect.any(String)] });
    const names = (await db('sqlite_master').where({ type: 'index', tbl_name: 'account' }).select('name')).map((r: { name: string }) => r.name);
    expect(names).toContain(created.indexes[0]);
  } finally {
    await db.destroy();
  }
  if (!(await store.getMapping('CUSTOMER'))) await store.saveMapping(testMapping());
  expect((await cli(['indexes', 'CUSTOMER', '--database-url', target])).stdout).toBe('Mapping CUSTOMER matches on no field: no index needed\n');
  await store.deleteMapping('MATCHED');
});

test('live notify, status, pause, resume and stop, with --json; a notification naming nothing is one sentence and exit 1', async () => {
  if (!(await store.getMapping('CUSTOMER'))) await store.saveMapping(testMapping());
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const bad = await cli(['live', 'notify', 'CUSTOMER'], taskQueue);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^Error: Invalid input for a live change: .*"ids"/);
    const told = await cli(['--json', 'live', 'notify', 'CUSTOMER', '--ids', 'C1,C2', '--debounce-ms', '0'], taskQueue);
    expect(told.code).toBe(0);
    expect(JSON.parse(told.stdout)).toMatchObject({ workflowId: 'live-sync/CUSTOMER', ids: 2, many: false });
    // Waited for in-process (each CLI call starts a process); then read through the CLI.
    const handle = temporal.client.workflow.getHandle('live-sync/CUSTOMER');
    for (let i = 0; i < 200; i++) {
      const s = await handle.query<{ runs: number; phase: string }>('progress');
      if (s.runs === 1 && s.phase === 'waiting') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const state = JSON.parse((await cli(['--json', 'live', 'status', 'CUSTOMER'], taskQueue)).stdout);
    expect(state).toMatchObject({ runs: 1, phase: 'waiting', notifications: 1, lastRun: { status: 'succeeded' } });
    expect((await cli(['live', 'pause', 'CUSTOMER'], taskQueue)).stdout).toBe('Paused the live sync of CUSTOMER\n');
    expect((await cli(['live', 'resume', 'CUSTOMER'], taskQueue)).stdout).toBe('Resumed the live sync of CUSTOMER\n');
    const stopped = await cli(['live', 'stop', 'CUSTOMER'], taskQueue);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(
      /^CUSTOMER: stopped, 1 runs, pending 0 local, 0 integration, 1 notifications \(0 refused, 0 ignored\); last run live-sync\/CUSTOMER\/run-1-\w+: succeeded\n$/,
    );
  });
});
