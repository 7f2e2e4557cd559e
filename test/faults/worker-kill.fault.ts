/**
 * The worker process is SIGKILLed at a random moment of a bulk sync or a
 * match-based coupling, a new worker takes over, the run completes, and the
 * consistency checker passes. Kill moments come from a seeded generator
 * (printed; FAULT_SEED replays them): a point of progress (a share of the
 * run's records done, from none to 75%) plus a random delay of up to 250 ms, so
 * the kill lands in any phase of a batch and always while the run is going,
 * however fast the machine is today.
 *
 * To keep 20+ trials cheap, every trial runs on one set of SQLite files and one
 * task queue, with tables and a mapping of its own, and the replacement worker
 * is a standby that has already started (so a trial pays for the kill and the
 * recovery, not for a process start-up).
 */
import type { Knex } from 'knex';
import type { WorkflowHandle } from '@temporalio/client';
import type { CouplingSyncClient } from '../../client';
import type { RunResult } from '../../common/types';
import { creationKey } from '../../domain/record-key';
import type { Store } from '../../store/store';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { account, customer, testMapping } from '../helpers/systems';
import { CHECKS, checkConsistency, type ConsistencyReport } from './checker';
import { closeKillWorld, openKillWorld, type KillWorld } from './kill-world';
import { countRows, faultSeed, median, seededRandom, sleep } from './fault-kit';
import { failureText, tally, withFindings, writeSection, type InvariantTally } from './results';
import { spawnWorker, type WorkerEnv, type WorkerProcess } from './worker-processes';

type Kind = 'bulkSync' | 'matchBasedCoupling';

interface Trial {
  n: number;
  kind: Kind;
  records: number;
  /** Kill once this share of the records is done... */
  at: number;
  /** ...and this many ms later. */
  jitterMs: number;
  /** Customers whose create keeps failing on purpose. */
  failing: number[];
  /** Customers that already have a matching account (match-based coupling only). */
  prematched: number[];
}

const TRIALS = 22;
const CONTROL_RECORDS = 1000;
/** Kill points: up to this share of the records done (later, small runs may finish first)... */
const MAX_KILL_PROGRESS = 0.75;
/** ...plus up to this long, so the kill lands anywhere in a batch's life. */
const MAX_JITTER_MS = 250;
/** Slows each write a little so that a run lasts a few seconds and the kill can land anywhere in it. */
const DELAY_MS = 30;
const RETRY = { heartbeatTimeoutMs: 2000, initialIntervalMs: 100, maximumAttempts: 3 };
const BATCH = { batchSize: 50, maxBatchesInFlight: 4 };

const seed = faultSeed('worker-kill');
const random = seededRandom(seed);
const pick = (from: number[], count: number): number[] => {
  const pool = [...from];
  const out: number[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
  return out.sort((a, b) => a - b);
};

function makeTrial(n: number, kind: Kind, records: number, at: number, jitterMs: number): Trial {
  const all = Array.from({ length: records }, (_, i) => i);
  const prematched = kind === 'matchBasedCoupling' ? pick(all, Math.floor(records * 0.4)) : [];
  const taken = new Set(prematched);
  const failing = pick(
    all.filter((i) => !taken.has(i)),
    1,
  );
  return { n, kind, records, at, jitterMs, failing, prematched };
}

const controls: Trial[] = [makeTrial(0, 'bulkSync', CONTROL_RECORDS, 1, 0), makeTrial(1, 'matchBasedCoupling', CONTROL_RECORDS, 1, 0)];
const trials: Trial[] = Array.from({ length: TRIALS }, (_, i) =>
  makeTrial(
    i + 2,
    i % 2 === 0 ? 'bulkSync' : 'matchBasedCoupling',
    300 + Math.floor(random() * 1201),
    Math.floor(random() * (MAX_KILL_PROGRESS * 100 + 1)) / 100,
    Math.floor(random() * MAX_JITTER_MS),
  ),
);

const mappingName = (t: Trial): string => `KILL_${t.n}`;
const customerTable = (t: Trial): string => `customer_${t.n}`;
const accountTable = (t: Trial): string => `account_${t.n}`;
const failingKeys = (t: Trial): string[] => t.failing.map((i) => creationKey(mappingName(t), 'local', `C${i}`));

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
let killedMidRun = 0;
let passed = 0;
let runs = 0;
const recoveries: number[] = [];
const started = Date.now();

beforeAll(async () => {
  world = await openKillWorld('kill', { delayMs: DELAY_MS, failKeys: [...controls, ...trials].flatMap(failingKeys) });
  ({ store, local, integration, env, sync } = world);
  [current] = await Promise.all([spawnWorker(env), seedAll()]);
  standby = spawnWorker(env, { standby: true });
});

afterAll(async () => {
  writeSection({
    id: 'worker-kill',
    title: 'Worker killed',
    fault: `The worker process is SIGKILLed at a random moment (seeded: a share of the records done, 0 to ${MAX_KILL_PROGRESS * 100}%, plus 0 to ${MAX_JITTER_MS} ms) of a bulk sync or a match-based coupling of 300 to 1,500 records; a standby worker process takes over. Each run also has one record whose create keeps failing on purpose, so error rows are checked too. Two control runs of ${CONTROL_RECORDS} records without a kill come first.`,
    runs,
    passed,
    invariants: [...tallies.values()],
    seed,
    metrics: {
      'kills that landed mid-run': killedMidRun,
      'bulk sync kills': rows.filter((r) => r.kind === 'bulkSync' && r.killed === true).length,
      'match-based coupling kills': rows.filter((r) => r.kind === 'matchBasedCoupling' && r.killed === true).length,
      'median time from kill to completed run': `${(median(recoveries) / 1000).toFixed(1)} s`,
      'longest time from kill to completed run': `${(Math.max(0, ...recoveries) / 1000).toFixed(1)} s`,
      'heartbeat timeout of batch and control activities in these runs': `${RETRY.heartbeatTimeoutMs / 1000} s`,
    },
    trials: rows,
    notes: withFindings(
      [
        'Progress at kill is the share of the run\'s destination records (bulk sync) or couplings (match-based coupling) that existed when the worker died; in flight at kill lists the activities the server had out at that moment; "(none)" means the kill hit a workflow task or the gap between two, and a workflow task lost with its worker costs the 10 s workflow task timeout.',
        'An activity cut short by the kill is retried on the new worker once its heartbeat times out: a batch activity heartbeats its progress, and the worker heartbeats control activities (startPass, planBatches, finishPass) while they run (activities/keep-alive.ts), so a kill during one costs that timeout too, not its one-minute start-to-close.',
      ],
      tallies,
      CHECKS.countersAddUp,
    ),
    seconds: (Date.now() - started) / 1000,
  });
  await closeKillWorld(world, { current, standby });
});

async function seedAll(): Promise<void> {
  for (const t of [...controls, ...trials]) {
    await createCustomerTable(local, customerTable(t));
    await createAccountTable(integration, accountTable(t));
    const customers = Array.from({ length: t.records }, (_, i) => customer(i));
    for (let i = 0; i < customers.length; i += 400) await local(customerTable(t)).insert(customers.slice(i, i + 400));
    // Accounts that match a customer by name in another letter case: coupled, not created.
    const accounts = t.prematched.map((i) => account(`A${t.n}-${i}`, { name: `CUSTOMER ${i}` }));
    for (let i = 0; i < accounts.length; i += 400) await integration(accountTable(t)).insert(accounts.slice(i, i + 400));
    await store.saveMapping(
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
  }
}

function start(t: Trial): Promise<WorkflowHandle> {
  const mapping = mappingName(t);
  return t.kind === 'bulkSync'
    ? sync.startBulkSync({ mapping, ...BATCH, retry: RETRY })
    : sync.startMatchBasedCoupling({ mapping, createNewIfNoMatch: true, ...BATCH, retry: RETRY });
}

/** The standby; one that failed to start (not what is under test here) is replaced by a fresh one. */
async function nextWorker(): Promise<WorkerProcess> {
  try {
    return await (standby as Promise<WorkerProcess>);
  } catch (error) {
    console.warn(`standby worker did not start (${(error as Error).message}); starting another`);
    return spawnWorker(env, { standby: true });
  }
}

/** Destination records (bulk sync) or couplings (match-based coupling) made so far: how far the run got. */
async function done(t: Trial): Promise<number> {
  return t.kind === 'bulkSync' ? countRows(integration, accountTable(t)) : store.countCouplings(mappingName(t));
}

async function check(t: Trial, result: RunResult): Promise<ConsistencyReport> {
  return checkConsistency({
    store,
    mapping: mappingName(t),
    source: { knex: local, table: customerTable(t), naturalKey: 'name' },
    destination: { knex: integration, table: accountTable(t), naturalKey: 'name' },
    jobIds: result.jobs.map((j) => j.jobId),
    injectedFailures: t.failing.map((i) => `C${i}`),
    baseline: { destinationRecords: t.prematched.length, couplings: 0 },
  });
}

/** Runs a trial: start, wait for the kill moment, SIGKILL the worker, let the standby finish the run, check. */
async function runTrial(t: Trial, kill: boolean): Promise<{ report: ConsistencyReport; result: RunResult }> {
  runs++;
  const row: Record<string, string | number | boolean> = { trial: t.n, kind: t.kind, records: t.records };
  const startedAt = Date.now();
  const handle = await start(t);
  let report: ConsistencyReport | null = null;
  let extra: { name: string; ok: boolean }[] = [];
  try {
    if (kill) {
      let finished = false;
      const outcome = handle.result().finally(() => {
        finished = true;
      });
      outcome.catch(() => undefined);
      while (!finished && (await done(t)) < t.at * t.records) await sleep(20);
      await sleep(t.jitterMs);
      const running = !finished && (await handle.describe()).status.name === 'RUNNING';
      row['kill at'] = `${Math.round(t.at * 100)}% + ${t.jitterMs} ms`;
      row['ms after start'] = Date.now() - startedAt;
      if (running) {
        const victim = current as WorkerProcess;
        await victim.kill();
        const killedAt = Date.now();
        row.killed = true;
        row['progress at kill'] = `${Math.round((100 * (await done(t))) / t.records)}%`;
        // What the dead worker was running: each costs its heartbeat timeout.
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        row['in flight at kill'] = pending.map((a) => a.activityType?.name ?? '?').join(' ') || '(none)';
        current = await nextWorker();
        await current.go();
        standby = spawnWorker(env, { standby: true });
        const result = (await outcome) as RunResult;
        const recovery = Date.now() - killedAt;
        recoveries.push(recovery);
        killedMidRun++;
        row['kill to completion'] = `${(recovery / 1000).toFixed(1)} s`;
        report = await check(t, result);
        return { report, result };
      }
      row.killed = false;
      row['progress at kill'] = 'run already done';
    }
    const result = (await handle.result()) as RunResult;
    report = await check(t, result);
    return { report, result };
  } catch (error) {
    extra = [{ name: 'the run completed', ok: false }];
    row.problems = failureText(report, error);
    throw error;
  } finally {
    if (report) extra = [{ name: 'the run completed', ok: true }];
    tally(tallies, report, extra);
    row.held = report?.ok ?? false;
    if (report?.ok) passed++;
    if (report && !report.ok) row.problems = failureText(report, null);
    row.seconds = Number(((Date.now() - startedAt) / 1000).toFixed(1));
    rows.push(row);
  }
}

test.each(controls.map((t) => [t.kind, t] as const))('control: %s without a kill completes and passes the checker', async (_kind, t) => {
  const { report, result } = await runTrial(t, false);
  expect(result.jobs.map((j) => j.status)).toEqual(result.jobs.map(() => 'succeeded'));
  expect(report.problems).toEqual([]);
  expect(report.counts.errorRows).toBe(1);
});

test.each(trials.map((t) => [t.n, t.kind, t.records, Math.round(t.at * 100), t.jitterMs, t] as const))(
  `trial %i: %s of %i records, worker SIGKILLed at %i%% progress + %i ms (seed ${seed})`,
  async (_n, _kind, _records, _at, _jitter, t) => {
    const { report, result } = await runTrial(t, true);
    expect(result.jobs.map((j) => j.status)).toEqual(result.jobs.map(() => 'succeeded'));
    expect(report.problems).toEqual([]);
    expect(report.counts.couplings).toBe(t.records - t.failing.length);
    expect(report.counts.errorRows).toBe(t.failing.length);
  },
);

test('at least 20 kills landed mid-run, across both kinds of run', () => {
  expect(killedMidRun).toBeGreaterThanOrEqual(20);
  expect(rows.filter((r) => r.kind === 'bulkSync' && r.killed === true).length).toBeGreaterThanOrEqual(8);
  expect(rows.filter((r) => r.kind === 'matchBasedCoupling' && r.killed === true).length).toBeGreaterThanOrEqual(8);
});
