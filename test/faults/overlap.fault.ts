/**
 * Runs of every kind on one mapping at once, with the worker killed at a
 * random moment (#13): a bulk sync, a match-based coupling, an uncouple-all, a
 * retryFailed and 50 single-record syncs start together. The runs over the
 * whole mapping take turns through its lease (the others are refused, naming
 * the holder); single syncs go on beside them with conditional writes. After
 * the standby worker has finished everything, the tables are read directly:
 * no duplicate, no coupling re-pointed to another record's counterpart or
 * surviving an uncouple-all that ran, every job row closed, the counters of
 * all jobs adding up to the rows, and the leased runs never overlapping.
 */
import type { Knex } from 'knex';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CouplingSyncClient } from '../../client';
import { FAILURE_TYPES } from '../../common/constants';
import type { RunResult } from '../../common/types';
import { creationKey } from '../../domain/record-key';
import type { Store } from '../../store/store';
import { TABLES } from '../../store/tables';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { account, customer, testMapping } from '../helpers/systems';
import { closeKillWorld, openKillWorld, type KillWorld } from './kill-world';
import { faultSeed, median, seededRandom, sleep } from './fault-kit';
import { tally, writeSection, type InvariantTally } from './results';
import { spawnWorker, type WorkerEnv, type WorkerProcess } from './worker-processes';

const TRIALS = 20;
const RECORDS = 240;
const SINGLE_SYNCS = 50;
const DELAY_MS = 20;
const RETRY = { heartbeatTimeoutMs: 2000, initialIntervalMs: 100, maximumAttempts: 3 };
const BATCH = { batchSize: 40, maxBatchesInFlight: 3 };

const seed = faultSeed('overlap');
const random = seededRandom(seed);

interface Trial {
  n: number;
  /** Kill this long after the runs started. */
  killAfterMs: number;
  /** Customers coupled by hand before the runs. */
  coupled: number[];
  /** Customers with an account of the same name (another case), not coupled. */
  matching: number[];
  /** The customer whose create keeps failing. */
  failing: number;
  /** Customers the single syncs are for. */
  singles: number[];
}

function makeTrial(n: number): Trial {
  const all = Array.from({ length: RECORDS }, (_, i) => i).sort(() => random() - 0.5);
  return {
    n,
    killAfterMs: 100 + Math.floor(random() * 2500),
    coupled: all.slice(0, 30),
    matching: all.slice(30, 90),
    failing: all[90],
    singles: Array.from({ length: SINGLE_SYNCS }, () => Math.floor(random() * RECORDS)),
  };
}

const trials = Array.from({ length: TRIALS }, (_, i) => makeTrial(i + 1));
const mappingName = (t: Trial): string => `OVERLAP_${t.n}`;

let world: KillWorld | undefined;
let store: Store;
let local: Knex;
let integration: Knex;
let env: WorkerEnv;
let sync: CouplingSyncClient;
let current: WorkerProcess | null = null;
let standby: Promise<WorkerProcess> | null = null;
const tallies = new Map<string, InvariantTally>();
const rows: Record<string, string | number | boolean>[] = [];
let passed = 0;
const started = Date.now();

beforeAll(async () => {
  world = await openKillWorld('overlap', { delayMs: DELAY_MS, failKeys: trials.map((t) => creationKey(mappingName(t), 'local', `C${t.failing}`)) });
  ({ store, local, integration, env, sync } = world);
  for (const t of trials) await seed1(t);
  current = await spawnWorker(env);
  standby = spawnWorker(env, { standby: true });
});

afterAll(async () => {
  writeSection({
    id: 'overlap',
    title: 'Runs of every kind at once',
    fault: `On one mapping of ${RECORDS} customers at once: a bulk sync, a match-based coupling (create-new), an uncouple-all, a retryFailed and ${SINGLE_SYNCS} single-record syncs, with the worker SIGKILLed 0.1 to 2.6 s after they started (seeded) and a standby taking over. One customer's create keeps failing on purpose.`,
    runs: trials.length,
    passed,
    invariants: [...tallies.values()],
    seed,
    metrics: {
      'runs over the whole mapping that ran (of 4 per trial, median)': median(rows.map((r) => Number(r['leased runs that ran']))),
      'runs over the whole mapping refused as busy (median)': median(rows.map((r) => Number(r['refused as busy']))),
    },
    trials: rows,
    notes: [
      "Bulk sync, retryFailed, match-based coupling and uncouple-all take the mapping's lease; a start while another holds it fails at once, naming the holder (MappingBusy), so which of them ran depends on timing, and each trial records it. Single-record syncs hold no lease and write conditionally on the coupling version they read.",
      "Re-pointed means a coupling whose two records belong to different customers (the account's name is not the customer's); surviving an uncouple-all means a coupling created before an uncouple-all that succeeded started.",
    ],
    seconds: (Date.now() - started) / 1000,
  });
  await closeKillWorld(world, { current, standby });
});

const customerTable = (t: Trial): string => `customer_${t.n}`;
const accountTable = (t: Trial): string => `account_${t.n}`;

async function seed1(t: Trial): Promise<void> {
  await createCustomerTable(local, customerTable(t));
  await createAccountTable(integration, accountTable(t));
  await local(customerTable(t)).insert(Array.from({ length: RECORDS }, (_, i) => customer(i)));
  const accounts = [...t.coupled, ...t.matching].map((i) => account(`A${t.n}-${i}`, { name: `CUSTOMER ${i}` }));
  await integration(accountTable(t)).insert(accounts);
  const mapping = await store.saveMapping(
    testMapping({
      name: mappingName(t),
      local: { system: 'local', table: customerTable(t) },
      integration: { system: 'integration', table: accountTable(t) },
      fields: [
        { localField: 'name', integrationField: 'name', useForMatching: true },
        { localField: 'email', integrationField: 'emailaddress1' },
      ],
    }),
  );
  await store.insertCouplings(
    mapping,
    null,
    'seed',
    t.coupled.map((i) => ({
      localId: `C${i}`,
      integrationId: `A${t.n}-${i}`,
      lastSyncedLocalModifiedOn: null,
      lastSyncedIntegrationModifiedOn: null,
    })),
  );
}

type Outcome = { kind: string; ok: true; result: RunResult } | { kind: string; ok: false; busy: boolean; message: string };

async function outcomeOf(kind: string, start: Promise<WorkflowHandle>): Promise<Outcome> {
  try {
    const handle = await start;
    return { kind, ok: true, result: (await handle.result()) as RunResult };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : error;
    const busy = cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.mappingBusy;
    return { kind, ok: false, busy, message: cause instanceof Error ? cause.message : String(cause) };
  }
}

interface Finding {
  name: string;
  ok: boolean;
  detail?: string;
}

async function check(t: Trial, outcomes: Outcome[]): Promise<Finding[]> {
  const mapping = mappingName(t);
  const customers = new Map((await local(customerTable(t)).select('id', 'name')).map((r: { id: string; name: string }) => [r.id, r.name]));
  const accounts: { id: string; name: string }[] = await integration(accountTable(t)).select('id', 'name');
  const accountName = new Map(accounts.map((a) => [a.id, a.name]));
  const couplings: { local_id: string; integration_id: string; created_at: string; coupled_action: string | null }[] = await store
    .knex(TABLES.couplings)
    .where('mapping_name', mapping)
    .select('local_id', 'integration_id', 'created_at', 'coupled_action');
  const jobs = await store.listJobs({ mappingName: mapping, limit: 1000 });
  const norm = (s: string | undefined): string => (s ?? '').trim().toLowerCase();
  const findings: Finding[] = [];

  // Every account the engine made is the one its customer's creation key names: none made twice, none stray.
  const seeded = new Set([...t.coupled, ...t.matching].map((i) => `A${t.n}-${i}`));
  const keyOf = new Map([...customers.keys()].map((id) => [creationKey(mapping, 'local', id), id]));
  const stray = accounts.filter((a) => !seeded.has(a.id) && norm(customers.get(keyOf.get(a.id) ?? '')) !== norm(a.name));
  findings.push({
    name: 'no record created twice or for no customer',
    ok: stray.length === 0,
    detail: stray
      .slice(0, 5)
      .map((a) => a.id)
      .join(', '),
  });
  const perLocal = new Map<string, number>();
  for (const c of couplings) perLocal.set(c.local_id, (perLocal.get(c.local_id) ?? 0) + 1);
  findings.push({ name: 'every record has at most one coupling', ok: [...perLocal.values()].every((n) => n === 1) });
  const wrong = couplings.filter((c) => norm(customers.get(c.local_id)) !== norm(accountName.get(c.integration_id)));
  findings.push({
    name: "no coupling re-pointed to another record's counterpart",
    ok: wrong.length === 0,
    detail: wrong
      .slice(0, 5)
      .map((c) => `${c.local_id}->${c.integration_id}`)
      .join(', '),
  });
  const uncoupleAll = outcomes.find((o) => o.kind === 'uncouple-all' && o.ok);
  const uncoupleJob = uncoupleAll && uncoupleAll.ok ? jobs.find((j) => j.id === uncoupleAll.result.jobs[0].jobId) : undefined;
  const survivors = uncoupleJob ? couplings.filter((c) => c.created_at < uncoupleJob.startedAt) : [];
  findings.push({
    name: 'no coupling survives an uncouple-all that ran',
    ok: survivors.length === 0,
    detail: survivors
      .slice(0, 5)
      .map((c) => c.local_id)
      .join(', '),
  });
  const open = jobs.filter((j) => j.status === 'running');
  findings.push({ name: 'every job row is closed', ok: open.length === 0, detail: open.map((j) => `${j.type} ${j.id}`).join(', ') });

  // Counters of every job, killed or not, add up to what the rows say.
  const sum = (name: 'coupled' | 'uncoupled' | 'inserted' | 'deleted'): number => jobs.reduce((n, j) => n + j.counters[name], 0);
  const expectedCouplings = t.coupled.length + sum('coupled') - sum('uncoupled');
  const expectedAccounts = t.coupled.length + t.matching.length + sum('inserted') - sum('deleted');
  // The one create no job can count (docs/SEMANTICS.md, "Counters"): an attempt killed between creating a record and
  // coupling it, whose record a match then coupled by its fields. Such records are engine-keyed and not coupled as created.
  const createdCoupling = new Set(couplings.filter((c) => c.coupled_action === 'created').map((c) => c.integration_id));
  const uncountable = accounts.filter((a) => keyOf.has(a.id) && !createdCoupling.has(a.id)).length;
  findings.push({
    name: 'job counters add up to the rows',
    ok: expectedCouplings === couplings.length && accounts.length >= expectedAccounts && accounts.length <= expectedAccounts + uncountable,
    detail: `couplings ${couplings.length} (counters say ${expectedCouplings}), accounts ${accounts.length} (counters say ${expectedAccounts}, up to ${uncountable} more uncountable)`,
  });

  // Runs over the whole mapping took turns: no two of their spans overlap.
  const leased = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok && o.kind !== 'single');
  const spans = leased
    .map((o) => {
      const own = jobs.filter((j) => o.result.jobs.some((x) => x.jobId === j.id));
      return {
        kind: o.kind,
        from: own.map((j) => j.startedAt).sort()[0],
        to: own
          .map((j) => j.finishedAt ?? '')
          .sort()
          .reverse()[0],
      };
    })
    .sort((a, b) => (a.from < b.from ? -1 : 1));
  const overlapping = spans.filter((s, i) => i > 0 && s.from < spans[i - 1].to);
  findings.push({ name: 'runs over the whole mapping never overlap', ok: overlapping.length === 0, detail: overlapping.map((s) => s.kind).join(', ') });
  const unexpected = outcomes.filter((o) => !o.ok && !o.busy);
  findings.push({
    name: 'every run completed or was refused as busy',
    ok: unexpected.length === 0,
    detail: unexpected.map((o) => (o.ok ? '' : `${o.kind}: ${o.message}`)).join('; '),
  });
  return findings;
}

test.each(trials.map((t) => [t.n, t.killAfterMs, t] as const))(
  `trial %i: every kind of run on one mapping at once, worker SIGKILLed after %i ms (seed ${seed})`,
  async (_n, _ms, t) => {
    const mapping = mappingName(t);
    const row: Record<string, string | number | boolean> = { trial: t.n, 'kill after': `${t.killAfterMs} ms` };
    const runs: Promise<Outcome>[] = [
      outcomeOf('bulk', sync.startBulkSync({ mapping, ...BATCH, retry: RETRY })),
      outcomeOf('match', sync.startMatchBasedCoupling({ mapping, createNewIfNoMatch: true, ...BATCH, retry: RETRY })),
      outcomeOf('uncouple-all', sync.startUncouple({ mapping, all: true, retry: RETRY })),
      outcomeOf('retryFailed', sync.startRetryFailed({ mapping, retry: RETRY })),
      ...t.singles.map((i) => outcomeOf('single', sync.startSingleSync({ mapping, recordId: `C${i}`, retry: RETRY }))),
    ];
    await sleep(t.killAfterMs);
    await (current as WorkerProcess).kill();
    current = await (standby as Promise<WorkerProcess>);
    await current.go();
    standby = spawnWorker(env, { standby: true });
    const outcomes = await Promise.all(runs);
    const findings = await check(t, outcomes);
    const leased = outcomes.filter((o) => o.kind !== 'single');
    row['leased runs that ran'] = leased.filter((o) => o.ok).length;
    row['refused as busy'] = leased.filter((o) => !o.ok && o.busy).length;
    row.ran = leased
      .filter((o) => o.ok)
      .map((o) => o.kind)
      .join(' ');
    row['single syncs'] = `${outcomes.filter((o) => o.kind === 'single' && o.ok).length} of ${SINGLE_SYNCS}`;
    const ok = findings.every((f) => f.ok);
    row.held = ok;
    if (!ok)
      row.problems = findings
        .filter((f) => !f.ok)
        .map((f) => `${f.name}: ${f.detail ?? ''}`)
        .join('; ');
    if (!ok)
      console.log(
        `overlap trial ${t.n}: ${JSON.stringify({ ...row, jobs: (await store.listJobs({ mappingName: mapping, limit: 1000 })).map((j) => [j.type, j.direction, j.status, j.workflowId, JSON.stringify(j.counters)]) })}`,
      );
    rows.push(row);
    tally(
      tallies,
      null,
      findings.map((f) => ({ name: f.name, ok: f.ok })),
    );
    if (ok) passed++;
    expect(findings.filter((f) => !f.ok)).toEqual([]);
    expect(leased.some((o) => o.ok)).toBe(true);
  },
);
