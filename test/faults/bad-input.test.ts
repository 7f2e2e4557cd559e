/**
 * Bad input, from every door: each corpus entry goes through the typed client
 * (which must refuse it, naming the field, before or as it starts) and as a raw
 * start the way the Web UI sends it (which must end as a non-retryable workflow
 * failure naming the field). Nothing may be written. Injection text that is a
 * well-formed value (a filter value, a record id) must be a plain value on
 * SQLite and on PostgreSQL. Hostile input from elsewhere (a service's links,
 * configuration, the environment, CLI arguments, codec server requests) is
 * refused as the corpus's later lists say.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import knexFactory, { type Knex } from 'knex';
import { InvalidInputError } from '../../common/validate';
import type { CouplingSyncClient } from '../../client';
import type {
  BulkSyncInput,
  FullSynchronizationInput,
  LiveSyncInput,
  LogRetentionInput,
  MatchBasedCouplingInput,
  RetryFailedInput,
  SetUpCouplingInput,
  SingleSyncInput,
  UncoupleInput,
} from '../../common/inputs';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import type { MappingDefinition } from '../../domain/mapping';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { Store } from '../../store/store';
import {
  BAD_CLI_ARGUMENTS,
  BAD_INPUTS,
  CLEAR_TEXT_SYSTEMS,
  CLEAR_TEXT_TEMPORAL,
  CODEC_SERVER_HOSTS,
  CODEC_SERVER_REQUESTS,
  FIXTURE_MAPPINGS,
  HOSTILE_LINKS,
  INJECTIONS,
  LOOPBACK_TEMPORAL,
  MALFORMED_JSON,
  MALFORMED_JSON_SECRET,
  TERMINAL_ESCAPES,
  UNSAVED_DEPENDENCY,
  WORKFLOW_TYPES,
  type BadInput,
  type CodecServerRequest,
  type WorkflowKind,
} from './bad-input-corpus';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec';
import { startCodecServer } from '../../codec/codec-server';
import { ConfigError, temporalConfigFromEnv } from '../../worker/config';
import { systemsFromFile } from '../../worker/systems-config';
import { isPermanentConfigurationError } from '../../connectors/transient';
import { DataverseConnector } from '../../connectors/dataverse';
import { BusinessCentralConnector } from '../../connectors/business-central';
import type { Connector } from '../../connectors/connector';
import { startDataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';
import { startBusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { counts, missingTables, snapshot } from './store-snapshot';
import { availableDialects, POSTGRES_URL, sqliteDialect, type Dialect } from '../helpers/stores';
import { account, customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import { connectTestTemporal, withWorker, type TestTemporal, type WorkerHarness } from '../helpers/temporal';

/** Characters that would reorder or hide text of a message shown in the Web UI or a log. */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
/** Raw starts in flight at once: enough to be quick, few enough for a 2-core machine shared with others. */
const RAW_GROUP = 25;

const MATCHABLE: Partial<MappingDefinition> = {
  fields: [
    { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
    { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true },
    { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional' },
  ],
};

const FIXTURES: MappingDefinition[] = [
  testMapping({ ...MATCHABLE, name: FIXTURE_MAPPINGS.fromOnly, direction: 'FromIntegrationTable' }),
  testMapping({ name: FIXTURE_MAPPINGS.badFields, fields: [{ localField: 'no_such_column', integrationField: 'name' }] }),
  testMapping({ ...MATCHABLE, name: FIXTURE_MAPPINGS.protoSystem, local: { system: 'constructor', table: 'customer' } }),
  testMapping({
    name: FIXTURE_MAPPINGS.writesId,
    fields: [
      { localField: 'name', integrationField: 'name' },
      { localField: 'email', integrationField: 'id' },
    ],
  }),
  testMapping({ ...MATCHABLE, name: FIXTURE_MAPPINGS.legacyRegex }),
  testMapping({ ...MATCHABLE, name: FIXTURE_MAPPINGS.legacyFilter }),
  testMapping({ ...MATCHABLE, name: FIXTURE_MAPPINGS.dependsOnUnsaved, dependsOn: [UNSAVED_DEPENDENCY] }),
];

/** What an older version stored for the legacy fixtures, written past today's save-time checks. */
async function storeLegacyDefinitions(store: Store): Promise<void> {
  await store
    .knex('integration_field_mappings')
    .where({ mapping_name: FIXTURE_MAPPINGS.legacyRegex, position: 0 })
    .update({ transformation: JSON.stringify([{ type: 'regexReplace', pattern: '^(a+)+\\1$', replaceWith: '' }]) });
  await store
    .knex('integration_table_mappings')
    .where('name', FIXTURE_MAPPINGS.legacyFilter)
    .update({ table_filter: JSON.stringify([{ field: 'city', op: 'contains' }]) });
}

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

/** The typed client's method for a workflow; inputs are cast because a corpus entry is wrong on purpose. */
function callTyped(sync: CouplingSyncClient, kind: WorkflowKind, input: unknown): Promise<unknown> {
  switch (kind) {
    case 'bulkSync':
      return sync.bulkSync(input as BulkSyncInput);
    case 'singleSync':
      return sync.singleSync(input as SingleSyncInput);
    case 'retryFailed':
      return sync.retryFailed(input as RetryFailedInput);
    case 'matchBasedCoupling':
      return sync.matchBasedCoupling(input as MatchBasedCouplingInput);
    case 'setUpCoupling':
      return sync.setUpCoupling(input as SetUpCouplingInput);
    case 'uncouple':
      return sync.uncouple(input as UncoupleInput);
    case 'describeMapping': {
      const mapping = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as { mapping?: unknown }).mapping : input;
      return sync.describeMapping(mapping as string);
    }
    case 'fullSynchronization':
      return sync.fullSynchronization(input as FullSynchronizationInput);
    case 'liveSync':
      return sync.live.start(input as LiveSyncInput).then((handle) => handle.result());
    case 'logRetention':
      return sync.logRetention(input as LogRetentionInput);
  }
}

const describeError = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : `resolved with ${JSON.stringify(e)?.slice(0, 200)}`;

/** Why a workflow that should have failed did not: its last workflow task failure, when it had one. */
async function stuckReason(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
  const last = taskFailures[taskFailures.length - 1]?.workflowTaskFailedEventAttributes?.failure?.message;
  return last ? `its workflow task keeps failing: ${last.slice(0, 200)}` : 'no workflow task failure recorded';
}

/** What is wrong with a failure, or null when it names the field as it must. */
function checkFailure(entry: BadInput, error: unknown, how: 'typed' | 'raw'): string | null {
  let message: string;
  if (entry.stage === 'schema' && how === 'typed') {
    if (!(error instanceof InvalidInputError)) return `expected the client to refuse it before starting, got ${describeError(error)}`;
    message = error.message;
  } else {
    if (!(error instanceof WorkflowFailedError)) return `expected a workflow failure, got ${describeError(error)}`;
    const cause = error.cause;
    if (!(cause instanceof ApplicationFailure)) return `expected an ApplicationFailure, got ${describeError(cause)}`;
    if (!cause.nonRetryable) return `failure is retryable: ${cause.message}`;
    message = cause.message;
  }
  if (!message.includes(entry.field)) return `message does not name ${entry.field}: ${message.slice(0, 300)}`;
  if (INVISIBLE.test(message)) return `message carries invisible or bidirectional control characters: ${JSON.stringify(message.slice(0, 200))}`;
  return null;
}

/** InvalidInputError.fields holds the entry's field (or a path under it, such as a list element). */
function fieldListed(fields: readonly string[], field: string): boolean {
  if (field === 'expected one JSON object') return fields.includes('(input)');
  const name = field.replace(/^"|"$/g, '');
  return fields.some((f) => f === name || f.startsWith(name));
}

/** The promise's outcome, or an error saying it did not settle in time. */
function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<unknown>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`still running after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function runGroups<T>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)));
  }
}

describe('bad-input corpus', () => {
  test('has at least 100 entries through both doors, for every workflow and kind of mistake', () => {
    const both = BAD_INPUTS.filter((e) => !e.rawOnly);
    expect(both.length).toBeGreaterThanOrEqual(100);
    expect(new Set(BAD_INPUTS.map((e) => e.workflow))).toEqual(new Set(Object.keys(WORKFLOW_TYPES)));
    expect(new Set(BAD_INPUTS.map((e) => e.category))).toEqual(
      new Set(['wrong type', 'missing field', 'extra field', 'size', 'nesting', 'number', 'unicode', 'injection', 'unknown name', 'not an object']),
    );
    const perWorkflow = Object.fromEntries(Object.keys(WORKFLOW_TYPES).map((k) => [k, BAD_INPUTS.filter((e) => e.workflow === k).length]));
    console.log(
      `bad-input corpus: ${BAD_INPUTS.length} entries (${both.length} through both the typed client and a raw start); ${JSON.stringify(perWorkflow)}`,
    );
  });

  test('every entry is refused naming its field, by the typed client and as a raw start, and nothing is written', async () => {
    const { store, cleanup } = await sqliteDialect.open();
    const sys = await openTestSystems();
    try {
      await store.saveMapping(testMapping({ ...MATCHABLE, syncOnlyCoupledRecords: false }));
      for (const fixture of FIXTURES) await store.saveMapping(fixture);
      await storeLegacyDefinitions(store);
      await sys.local('customer').insert(Array.from({ length: 20 }, (_, i) => customer(i)));
      const problems: string[] = [];
      const timings: Record<string, number> = {};
      let started = 0;

      await withWorker(temporal, { store, systems: sys.systems }, async ({ sync, taskQueue }: WorkerHarness) => {
        // Something to lose: couplings, a job, an error row, and uncoupled records a wrongly started run would touch.
        const seeded = await sync.bulkSync({ mapping: 'CUSTOMER' });
        expect(seeded.jobs[0].counters.inserted).toBe(20);
        await store.insertErrors([
          {
            jobId: seeded.jobs[0].jobId,
            mappingName: 'CUSTOMER',
            sourceRecordId: 'C0',
            destinationRecordId: null,
            message: 'seeded',
            fullMessage: null,
            attempts: 1,
          },
        ]);
        await sys.local('customer').insert(Array.from({ length: 5 }, (_, i) => customer(100 + i)));
        await sys.integration('account').insert([account('A-loose', { emailaddress1: 'c100@example.com' })]);
        const before = await snapshot(store, sys);

        let t0 = Date.now();
        // Schema entries: refused by the client itself, at once, so they run together.
        await Promise.all(
          BAD_INPUTS.filter((e) => !e.rawOnly && e.stage === 'schema').map(async (entry) => {
            const error = await callTyped(sync, entry.workflow, entry.input).then(
              (r) => r,
              (e: unknown) => e,
            );
            const problem = checkFailure(entry, error, 'typed');
            if (problem) problems.push(`[typed] ${entry.workflow} / ${entry.label}: ${problem}`);
            else if (!fieldListed((error as InvalidInputError).fields, entry.field)) {
              problems.push(
                `[typed] ${entry.workflow} / ${entry.label}: fields ${JSON.stringify((error as InvalidInputError).fields)} do not include ${entry.field}`,
              );
            }
          }),
        );
        timings.typedSchema = Date.now() - t0;

        t0 = Date.now();
        // Worker entries start a run: one after another, because the client's workflow ids repeat per mapping.
        for (const entry of BAD_INPUTS.filter((e) => !e.rawOnly && e.stage === 'worker')) {
          started++;
          const error = await within(
            callTyped(sync, entry.workflow, entry.input).then(
              (r) => r,
              (e: unknown) => e,
            ),
            20_000,
          );
          const problem = checkFailure(entry, error, 'typed');
          if (problem) problems.push(`[typed] ${entry.workflow} / ${entry.label}: ${problem}`);
        }
        timings.typedWorker = Date.now() - t0;

        t0 = Date.now();
        const prefix = `bad-input/${randomUUID()}`;
        await runGroups(BAD_INPUTS, RAW_GROUP, async (entry, i) => {
          const workflowId = `${prefix}/${i}`;
          started++;
          const handle = await temporal.client.workflow.start(WORKFLOW_TYPES[entry.workflow], {
            taskQueue,
            workflowId,
            args: [entry.input],
            // A run stuck on a failing workflow task ends here instead of hanging the test.
            workflowExecutionTimeout: '30s',
          });
          const error = await handle.result().then(
            (r: unknown) => r,
            (e: unknown) => e,
          );
          let problem = checkFailure(entry, error, 'raw');
          if (problem && error instanceof WorkflowFailedError && !(error.cause instanceof ApplicationFailure))
            problem += `; ${await stuckReason(temporal.client, workflowId)}`;
          if (problem) problems.push(`[raw] ${entry.workflow} / ${entry.label}: ${problem}`);
        });
        timings.raw = Date.now() - t0;

        // A run still going is one whose workflow task keeps failing: say why, and end it so the worker can stop.
        for await (const run of temporal.client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
          // Visibility lags: only a run the server itself still calls running is one.
          const handle = temporal.client.workflow.getHandle(run.workflowId, run.runId);
          if ((await handle.describe()).status.name !== 'RUNNING') continue;
          problems.push(`[still running] ${run.type} ${run.workflowId}: ${await stuckReason(temporal.client, run.workflowId)}`);
          await handle.terminate('bad-input test: stuck');
        }
        expect(problems).toEqual([]);
        const after = await snapshot(store, sys);
        expect(counts(after)).toEqual(counts(before));
        expect(after).toEqual(before);
        expect(await missingTables(store, sys)).toEqual([]);
        // The typed client started nothing for schema entries: the queue saw exactly the runs counted here (plus the seeding run).
        const query = `TaskQueue = "${taskQueue}"`;
        const deadline = Date.now() + 15_000;
        let seen = 0;
        while (Date.now() < deadline && (seen = (await temporal.client.workflow.count(query)).count) < started + 1)
          await new Promise((r) => setTimeout(r, 250));
        expect(seen).toBe(started + 1);
      });
      console.log(`bad-input corpus timings (ms): ${JSON.stringify(timings)}; ${started} runs started`);
    } finally {
      await sys.close();
      await cleanup();
    }
  }, 240_000);

  test('a hand-made payload that is not JSON (a bare NaN) never reaches the workflow and writes nothing', async () => {
    const { store, cleanup } = await sqliteDialect.open();
    const sys = await openTestSystems();
    try {
      await store.saveMapping(testMapping());
      const before = await snapshot(store, sys);
      await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
        const workflowId = `bad-input-nan/${randomUUID()}`;
        await temporal.client.workflowService.startWorkflowExecution({
          namespace: temporal.client.options.namespace,
          workflowId,
          workflowType: { name: 'bulkSyncWorkflow' },
          taskQueue: { name: taskQueue },
          input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"mapping":"CUSTOMER","batchSize":NaN}') }] },
          requestId: randomUUID(),
          identity: 'bad-input test',
        });
        const handle = temporal.client.workflow.getHandle(workflowId);
        const deadline = Date.now() + 20_000;
        let reason = '';
        while (Date.now() < deadline) {
          const events = (await handle.fetchHistory()).events ?? [];
          const failed = events.find((e) => e.workflowTaskFailedEventAttributes);
          if (failed) {
            reason = failed.workflowTaskFailedEventAttributes?.failure?.message ?? '';
            expect(events.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
            break;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        // The SDK decodes arguments before any workflow code runs: the task fails with the JSON error, the run never starts.
        expect(reason).toMatch(/JSON|Unexpected token|NaN/i);
        await handle.terminate('bad-input test: undecodable input');
      });
      expect(await snapshot(store, sys)).toEqual(before);
    } finally {
      await sys.close();
      await cleanup();
    }
  });
});

type DialectSystems = TestSystems;

/** The two test systems on a dialect: SQLite in memory, or PostgreSQL tables in a schema of their own. */
async function openSystemsOn(dialect: Dialect['name']): Promise<DialectSystems> {
  if (dialect === 'sqlite') return openTestSystems();
  const schema = `cs_inj_${process.pid}_${randomBytes(4).toString('hex')}`;
  const open = (): Knex => knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: 3 } });
  const local = open();
  await local.raw('create schema if not exists ??', [schema]);
  const integration = open();
  await createCustomerTable(local);
  await createAccountTable(integration);
  return {
    local,
    integration,
    systems: { local: new KnexTableConnector({ name: 'local', knex: local }), integration: new KnexTableConnector({ name: 'integration', knex: integration }) },
    close: async () => {
      await local.raw('drop schema if exists ?? cascade', [schema]);
      await Promise.all([local.destroy(), integration.destroy()]);
    },
  };
}

describe('injection text in well-formed values is a plain value', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  test('on SQLite and PostgreSQL: filters and ids match only what they literally say; no table or row is harmed', async () => {
    const ran: string[] = [];
    for (const dialect of dialects) {
      const { store, cleanup } = await dialect.open();
      const sys = await openSystemsOn(dialect.name);
      try {
        await checkInjections(store, sys);
        ran.push(dialect.name);
      } catch (error) {
        throw new Error(`[${dialect.name}] ${(error as Error).message}`, { cause: error });
      } finally {
        await sys.close();
        await cleanup();
      }
    }
    if (process.env.REQUIRE_POSTGRES === '1') expect(ran).toContain('postgres');
    console.log(`injection values checked on: ${ran.join(', ')}`);
  });
});

async function checkInjections(store: Store, sys: DialectSystems): Promise<void> {
  const literal = INJECTIONS[1]; // x' OR '1'='1
  await store.saveMapping(testMapping({ ...MATCHABLE, syncOnlyCoupledRecords: false }));
  await sys.local('customer').insert([
    ...Array.from({ length: 10 }, (_, i) => customer(i)),
    // One record whose city is, literally, injection text: an "eq" filter must find exactly this one.
    customer(50, { id: 'INJ', city: literal, email: 'inj@example.com' }),
  ]);
  await withWorker(temporal, { store, systems: sys.systems }, async ({ sync }) => {
    await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: Array.from({ length: 10 }, (_, i) => `C${i}`) });
    expect(await store.countCouplings('CUSTOMER')).toBe(10);
    const before = await snapshot(store, sys);

    // Filters: every value is bound; LIKE wildcards in a value are escaped.
    const filters: MatchBasedCouplingInput['filter'][] = [
      [{ field: 'city', op: 'contains', value: "' OR 1=1 --" }],
      [{ field: 'city', op: 'startsWith', value: '%' }],
      [{ field: 'city', op: 'contains', value: '_' }],
      [{ field: 'city', op: 'in', value: [...INJECTIONS].filter((v) => v !== literal) }],
      [{ field: 'email', op: 'eq', value: "'; DROP TABLE couplings; --" }],
      [
        { field: 'name', op: 'lt', value: "' OR name IS NOT NULL --" },
        { field: 'name', op: 'gt', value: "zzz' OR 1=1 --" },
      ],
    ];
    for (const filter of filters) {
      const result = await sync.matchBasedCoupling({ mapping: 'CUSTOMER', filter });
      const job = result.jobs[0];
      expect({ filter, counters: { coupled: job.counters.coupled, failed: job.counters.failed, inserted: job.counters.inserted } }).toEqual({
        filter,
        counters: { coupled: 0, failed: 0, inserted: 0 },
      });
    }
    // The literal text finds its one record (uncoupled, with no account to match: it gets an error row, nothing else).
    const exact = await sync.matchBasedCoupling({ mapping: 'CUSTOMER', filter: [{ field: 'city', op: 'eq', value: literal }] });
    expect(exact.jobs[0].counters).toMatchObject({ coupled: 0, failed: 1, inserted: 0 });
    const errors = await store.listErrors({ jobId: exact.jobs[0].jobId });
    expect(errors.map((e) => e.sourceRecordId)).toEqual(['INJ']);

    // Ids: looked up as values, never found (each one said so in an error row), nothing created or uncoupled.
    const ids = [...INJECTIONS, `C1' OR '1'='1`, 'C1" OR "1"="1', 'C1) OR (1=1'];
    const distinct = new Set(ids).size;
    const bulk = await sync.bulkSync({ mapping: 'CUSTOMER', recordIds: ids, fullSync: true });
    expect(bulk.jobs[0].counters).toMatchObject({ inserted: 0, modified: 0, failed: distinct });
    const notFound = await store.listErrors({ jobId: bulk.jobs[0].jobId, limit: 1000 });
    expect(notFound.map((e) => e.sourceRecordId).sort()).toEqual([...new Set(ids)].sort());
    expect(notFound.every((e) => /does not exist in local\.customer/.test(e.message))).toBe(true);
    const single = await sync.singleSync({ mapping: 'CUSTOMER', recordId: "C1' OR '1'='1" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(single).toBeInstanceOf(WorkflowFailedError);
    expect((single as WorkflowFailedError).cause?.message).toMatch(/does not exist in local\.customer \(local side\)/);
    const uncoupled = await sync.uncouple({ mapping: 'CUSTOMER', recordIds: ids });
    expect(uncoupled.jobs[0].counters.uncoupled).toBe(0);
    const refused = await sync.setUpCoupling({ mapping: 'CUSTOMER', localId: "C1' OR '1'='1", integrationId: "' OR 1=1 --" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect((refused as WorkflowFailedError).cause?.message).toMatch(/localId/);

    expect(await missingTables(store, sys)).toEqual([]);
    const after = await snapshot(store, sys);
    expect(after.customer).toEqual(before.customer);
    expect(after.account).toEqual(before.account);
    expect(after.couplings).toEqual(before.couplings);
    expect(after.mappings.length).toBe(before.mappings.length);
    expect(after.jobErrors.length).toBe(before.jobErrors.length + 1 + distinct);
  });
}

describe('a hostile @odata.nextLink never gets the access token', () => {
  interface Sent {
    url: string;
    authorized: boolean;
  }

  /** A fetch that passes everything on but swaps the first nextLink for `link`, recording where each request went. */
  function rewriting(link: string, sent: Sent[]): typeof fetch {
    let swapped = false;
    return (async (url: string | URL | Request, init?: RequestInit) => {
      sent.push({ url: String(url), authorized: new Headers(init?.headers).has('authorization') });
      const response = await fetch(url, init);
      let text = await response.text();
      if (!swapped && text.includes('"@odata.nextLink"')) {
        swapped = true;
        const body = JSON.parse(text) as Record<string, unknown>;
        body['@odata.nextLink'] = link;
        text = JSON.stringify(body);
      }
      return new Response(text, { status: response.status, headers: response.headers });
    }) as typeof fetch;
  }

  async function check(service: string, origin: URL, connector: (f: typeof fetch) => Connector, table: string): Promise<string[]> {
    const problems: string[] = [];
    for (const entry of HOSTILE_LINKS) {
      const sent: Sent[] = [];
      const error = await connector(rewriting(entry.link(origin), sent))
        .scanKeys({ table, filter: [], since: null, after: null, limit: 100 })
        .then(
          () => null,
          (e: unknown) => e,
        );
      const message = error instanceof Error ? error.message : String(error);
      const where = `[${service}] ${entry.label}`;
      if (!isPermanentConfigurationError(error)) problems.push(`${where}: not a permanent failure: ${message}`);
      if (!message.includes(entry.names(origin))) problems.push(`${where}: message does not name ${entry.names(origin)}: ${message}`);
      const elsewhere = sent.filter((s) => new URL(s.url).origin !== origin.origin);
      if (elsewhere.length > 0) problems.push(`${where}: requests went to ${elsewhere.map((s) => s.url).join(', ')}`);
    }
    return problems;
  }

  test('Dataverse and Business Central: each link ends the read, non-retryable, naming where it pointed', async () => {
    const dataverse = await startDataverseEmulator();
    const bc = await startBusinessCentralEmulator({ pageSize: 2 });
    try {
      dataverse.put(
        'accounts',
        Array.from({ length: 5 }, (_, i) => ({ name: `Account ${i}` })),
      );
      bc.seed(
        'customers',
        Array.from({ length: 5 }, (_, i) => ({ displayName: `Customer ${i}` })),
      );
      const problems = [
        ...(await check(
          'dataverse',
          new URL(dataverse.environmentUrl),
          (f) =>
            new DataverseConnector({
              name: 'dataverse',
              environmentUrl: dataverse.environmentUrl,
              pageSize: 2,
              fetch: f,
              credentials: { tokenUrl: dataverse.tokenUrl, clientId: dataverse.clientId, clientSecret: dataverse.clientSecret },
              tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: ['name'] } },
            }),
          'account',
        )),
        ...(await check('business central', new URL(bc.origin), (f) => new BusinessCentralConnector({ ...bc.connectorOptions(), fetch: f }), 'customers')),
      ];
      expect(problems).toEqual([]);
    } finally {
      await Promise.all([dataverse.close(), bc.close()]);
    }
  });
});

describe('the codec server answers only the UI and token holders, and says 413 to an oversized body', () => {
  const UI = 'http://localhost:8233';
  const TOKEN = `tok-${randomBytes(12).toString('hex')}`;

  /** Sends the whole request, then reads the answer (as many simple clients do); the status, or how the connection ended. */
  function sendWhole(url: string, entry: CodecServerRequest, body: Buffer): Promise<string> {
    const { hostname, port } = new URL(url);
    const headers = Object.entries(entry.headers)
      .map(([k, v]) => `${k}: ${v.replace('$TOKEN', TOKEN).replace('$UI', UI)}\r\n`)
      .join('');
    return new Promise((resolve) => {
      const socket = net.connect(Number(port), hostname);
      socket.pause();
      const chunks: Buffer[] = [];
      const done = (how: string): void => {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
        socket.destroy();
        resolve(status ? status[1] : `no answer (${how})`);
      };
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        if (Buffer.concat(chunks).includes('\r\n\r\n')) done('answered');
      });
      socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
      socket.on('end', () => done('closed'));
      const length = entry.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
      socket.write(`POST /decode HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n${headers}${length}\r\n\r\n`);
      const rest = entry.chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
      // Read only once everything is written (or the write failed): what a sequential client sees.
      socket.write(rest, () => setTimeout(() => socket.resume(), 50));
    });
  }

  test('each request gets the status the corpus says', async () => {
    const codec = new AesGcmPayloadCodec({ key: randomBytes(32) });
    const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"hello"') }]);
    const valid = Buffer.from(
      JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(sealed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
            data: Buffer.from(sealed.data ?? []).toString('base64'),
          },
        ],
      }),
    );
    const open = await startCodecServer({ codec, port: 0, allowedOrigins: [UI] });
    const guarded = await startCodecServer({ codec, port: 0, allowedOrigins: [UI], token: TOKEN });
    try {
      const problems: string[] = [];
      for (const entry of CODEC_SERVER_REQUESTS) {
        const body = entry.bodyBytes ? Buffer.alloc(entry.bodyBytes, 0x20) : valid;
        const status = await sendWhole((entry.token ? guarded : open).url, entry, body);
        if (status !== String(entry.status)) problems.push(`${entry.label}: expected ${entry.status}, got ${status}`);
      }
      expect(problems).toEqual([]);
    } finally {
      await Promise.all([open.close(), guarded.close()]);
    }
  });

  test('without a token it listens only on a loopback address', async () => {
    const codec = new AesGcmPayloadCodec({ key: randomBytes(32) });
    const problems: string[] = [];
    for (const entry of CODEC_SERVER_HOSTS) {
      const outcome = await startCodecServer({ codec, port: 0, host: entry.host, token: entry.token ? TOKEN : undefined }).then(
        async (server) => {
          await server.close();
          return null;
        },
        (e: unknown) => e as Error,
      );
      if (entry.refused && !(outcome && outcome.message.includes(entry.host) && outcome.message.includes('CODEC_SERVER_TOKEN'))) {
        problems.push(`${entry.label}: expected a refusal naming ${entry.host} and CODEC_SERVER_TOKEN, got ${outcome ? outcome.message : 'a running server'}`);
      }
      if (!entry.refused && outcome) problems.push(`${entry.label}: refused: ${outcome.message}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('credentials are never sent in clear text to another machine', () => {
  test('Temporal: TLS off with an API key is refused unless the address is a loopback one', () => {
    const problems: string[] = [];
    for (const entry of CLEAR_TEXT_TEMPORAL) {
      const error = (() => {
        try {
          temporalConfigFromEnv(entry.env);
          return null;
        } catch (e) {
          return e as Error;
        }
      })();
      if (!(error instanceof ConfigError)) problems.push(`${entry.label}: not refused`);
      else if (!error.message.includes(entry.names) || !error.message.includes('TEMPORAL_TLS'))
        problems.push(`${entry.label}: message does not name ${entry.names} and TEMPORAL_TLS: ${error.message}`);
      else if (error.message.includes(entry.env.TEMPORAL_API_KEY)) problems.push(`${entry.label}: message shows the API key`);
    }
    for (const entry of LOOPBACK_TEMPORAL) {
      try {
        expect(temporalConfigFromEnv(entry.env)).toMatchObject({ tls: undefined, apiKey: entry.env.TEMPORAL_API_KEY });
      } catch (e) {
        problems.push(`${entry.label}: refused: ${(e as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('SYSTEMS_CONFIG: plain http service and token URLs to another machine are refused at start-up, naming the setting and host', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clear-text-'));
    const secret = `Cs-${randomBytes(9).toString('hex')}`;
    const base: Record<string, Record<string, unknown>> = {
      dataverse: {
        type: 'dataverse',
        environmentUrl: 'https://contoso.crm.dynamics.com',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: 'app-id',
        clientSecretEnv: 'SYNC_SECRET',
        tables: { account: { entitySet: 'accounts', idAttribute: 'accountid' } },
      },
      businessCentral: {
        type: 'businessCentral',
        environment: 'production',
        companyId: '6f8c2a39-3f1e-4b1a-9a57-0c3e1f6b8d21',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: 'app-id',
        clientSecretEnv: 'SYNC_SECRET',
      },
    };
    const problems: string[] = [];
    for (const [i, entry] of CLEAR_TEXT_SYSTEMS.entries()) {
      const file = path.join(dir, `${i}.json`);
      writeFileSync(file, JSON.stringify({ crm: { ...base[entry.entry.type as string], ...entry.entry } }));
      let error: Error | null = null;
      try {
        const opened = systemsFromFile(file, { SYNC_SECRET: secret });
        await opened.close();
      } catch (e) {
        error = e as Error;
      }
      if (!error) problems.push(`${entry.label}: accepted`);
      else if (!entry.names.every((n) => error.message.includes(n)))
        problems.push(`${entry.label}: message does not name ${entry.names.join(' and ')}: ${error.message}`);
      else if (error.message.includes(secret)) problems.push(`${entry.label}: message shows the secret`);
    }
    expect(problems).toEqual([]);
  });
});

describe('a file that is not JSON is refused saying where, quoting none of it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'malformed-json-'));
  const leaks = (message: string): boolean => {
    // Any six characters of the secret in a row count as echoed.
    for (let i = 0; i + 6 <= MALFORMED_JSON_SECRET.length; i++) if (message.includes(MALFORMED_JSON_SECRET.slice(i, i + 6))) return true;
    return false;
  };

  test('SYSTEMS_CONFIG', () => {
    const problems: string[] = [];
    for (const [i, entry] of MALFORMED_JSON.entries()) {
      const file = path.join(dir, `systems-${i}.json`);
      writeFileSync(file, entry.text);
      let message = '';
      try {
        systemsFromFile(file, {});
        problems.push(`${entry.label}: accepted`);
        continue;
      } catch (e) {
        message = (e as Error).message;
      }
      if (leaks(message)) problems.push(`${entry.label}: echoes the file: ${message}`);
      if (!message.includes(`SYSTEMS_CONFIG "${file}" is not valid JSON: ${entry.at}: `))
        problems.push(`${entry.label}: does not say where (${entry.at}): ${message}`);
    }
    expect(problems).toEqual([]);
  });

  test('mappings import (the CLI)', async () => {
    const problems: string[] = [];
    await runGroups(MALFORMED_JSON, 3, async (entry, i) => {
      const file = path.join(dir, `mappings-${i}.json`);
      writeFileSync(file, entry.text);
      const { code, stdout, stderr } = await cli(['mappings', 'import', file], { DATABASE_URL: `sqlite:${path.join(dir, `store-${i}.sqlite`)}` });
      if (code !== 1) problems.push(`${entry.label}: exit ${code}`);
      if (leaks(stdout + stderr)) problems.push(`${entry.label}: echoes the file: ${stderr.trim()}`);
      if (!stderr.includes(`Mappings file "${file}" is not valid JSON: ${entry.at}: `))
        problems.push(`${entry.label}: does not say where (${entry.at}): ${stderr.trim()}`);
    });
    expect(problems).toEqual([]);
  });
});

describe('the CLI prints what systems wrote without their control characters', () => {
  /** What must never reach a terminal: C0 controls but the line feed, DEL, C1 controls, bidirectional overrides and isolates. */
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

  test('errors and jobs, human and --json: escapes shown as text, one line per row, JSON that reads back as stored', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'terminal-'));
    const databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
    const store = Store.open({ databaseUrl });
    try {
      await store.migrate();
      await store.saveMapping(testMapping());
      const jobId = randomUUID();
      await store.createJob({ id: jobId, mappingName: 'CUSTOMER', type: 'Synchronization', direction: 'ToIntegrationTable', workflowId: null, runId: null });
      await store.createJob({
        id: `job${TERMINAL_ESCAPES[0].text}${TERMINAL_ESCAPES[5].text}`,
        mappingName: 'CUSTOMER',
        type: 'Synchronization',
        direction: null,
        workflowId: null,
        runId: null,
      });
      await store.insertErrors(
        TERMINAL_ESCAPES.map((e, i) => ({
          jobId,
          mappingName: 'CUSTOMER',
          sourceRecordId: `S${i}${e.text}`,
          destinationRecordId: `D${i}${e.text}`,
          message: `refused: ${e.text}`,
          fullMessage: null,
          attempts: 1,
        })),
      );
      const env = { DATABASE_URL: databaseUrl };
      const [errors, errorsJson, jobs, jobsJson] = await Promise.all([
        cli(['errors'], env),
        cli(['--json', 'errors'], env),
        cli(['jobs'], env),
        cli(['--json', 'jobs'], env),
      ]);
      const problems: string[] = [];
      for (const [name, out] of Object.entries({ errors, errorsJson, jobs, jobsJson })) {
        if (out.code !== 0) problems.push(`${name}: exit ${out.code}: ${out.stderr.trim()}`);
        if (CONTROL.test(out.stdout)) problems.push(`${name}: prints a control character: ${JSON.stringify(out.stdout.slice(0, 300))}`);
      }
      const lines = errors.stdout.trimEnd().split('\n');
      if (lines.length !== TERMINAL_ESCAPES.length) problems.push(`errors: ${lines.length} lines for ${TERMINAL_ESCAPES.length} rows`);
      if (jobs.stdout.trimEnd().split('\n').length !== 2) problems.push(`jobs: ${jobs.stdout.trimEnd().split('\n').length} lines for 2 rows`);
      if (!errors.stdout.includes('\\u001b[2J')) problems.push('errors: the escape is not shown as text');
      const readBack = (JSON.parse(errorsJson.stdout) as { sourceRecordId: string; message: string }[]).map((e) => e.sourceRecordId).sort();
      if (JSON.stringify(readBack) !== JSON.stringify(TERMINAL_ESCAPES.map((e, i) => `S${i}${e.text}`).sort()))
        problems.push('errors --json: ids do not read back as stored');
      expect(problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('mistyped CLI arguments', () => {
  test('each is one sentence naming the option, exit 1, and nothing is listed or started', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-args-'));
    const databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
    const store = Store.open({ databaseUrl });
    try {
      await store.migrate();
      const jobId = randomUUID();
      await store.createJob({ id: jobId, mappingName: 'CUSTOMER', type: 'Synchronization', direction: null, workflowId: null, runId: null });
      await store.insertErrors([
        { jobId, mappingName: 'CUSTOMER', sourceRecordId: 'C1', destinationRecordId: null, message: 'seeded', fullMessage: null, attempts: 1 },
      ]);
      const problems: string[] = [];
      // A task queue no worker polls: an argument that got through would start a run that never ends.
      await runGroups(BAD_CLI_ARGUMENTS, 4, async (entry) => {
        const { code, stdout, stderr } = await cli(entry.args, { DATABASE_URL: databaseUrl, TEMPORAL_TASK_QUEUE: `nobody-${randomUUID()}` });
        const where = `${entry.label} (${entry.args.join(' ')})`;
        if (code !== 1) problems.push(`${where}: exit ${code}`);
        if (stdout.trim() !== '') problems.push(`${where}: printed ${JSON.stringify(stdout.slice(0, 200))}`);
        const lines = stderr.trim().split('\n');
        if (lines.length !== 1 || !lines[0].startsWith(`Error: ${entry.names}`)) problems.push(`${where}: ${JSON.stringify(stderr.slice(0, 300))}`);
      });
      expect(problems).toEqual([]);
      // A good limit still limits.
      await store.createJob({ id: randomUUID(), mappingName: 'CUSTOMER', type: 'Synchronization', direction: null, workflowId: null, runId: null });
      const limited = await cli(['--json', 'jobs', '--limit', '1'], { DATABASE_URL: databaseUrl });
      expect(JSON.parse(limited.stdout)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

/** The CLI as a child process, as a terminal user runs it. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve('bin/coupling-sync.js'), ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
