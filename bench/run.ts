/**
 * `npm run bench [-- --quick] [-- --only bulk,single,...]`: measures bulk sync,
 * single sync and matching on the real dev server and the real stores, against
 * a floor (the same work by a plain script) and a naive design (one activity
 * per record), each baseline run in this process right beside the measured
 * run. Every figure is the median of at least three runs. Writes
 * bench/results/latest.json and prints a table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CouplingSyncClient } from '../client';
import { createActivities } from '../activities';
import { createWorker, WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../worker/create-worker';
import { startDevServer } from '../worker/dev-server';
import { mapValues, planFields } from '../domain/field-plan';
import { creationKey } from '../domain/record-key';
import { parseMappingDefinition } from '../domain/mapping';
import { benchMapping, openBenchEnv, seed, type BenchEnv } from './fixtures';
import { createNaiveActivities } from './naive-activities';
import { runMatchBench } from './match-bench';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined);
const ALL_SECTIONS = ['bulk', 'postgres', 'million', 'single', 'match'];
const ONLY = new Set(onlyArg ? onlyArg.split(',') : ALL_SECTIONS);
const RUNS = 3;
const N = QUICK ? 10_000 : 100_000;
const NAIVE_N = QUICK ? 300 : 2_000;
const MILLION = QUICK ? 100_000 : 1_000_000;
const SINGLE_SEQ = QUICK ? 100 : 500;
const SINGLE_CONCURRENT = QUICK ? 200 : 1_000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
const log = (line: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Ctx {
  env: TestWorkflowEnvironment;
  client: Client;
  native: NativeConnection;
  bundleCode: string;
}

/** Worker options shared by the single-sync worker and its empty-workflow baseline. */
const SINGLE_WORKER_OPTIONS = { maxConcurrentActivityTaskExecutions: 8, maxConcurrentWorkflowTaskExecutions: 40, maxConcurrentLocalActivityExecutions: 40 };

async function withBenchWorker<T>(ctx: Ctx, benchEnv: BenchEnv, fn: (sync: CouplingSyncClient, taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createWorker({
    connection: ctx.native,
    store: benchEnv.store,
    systems: benchEnv.systems,
    taskQueue,
    workflowBundle: { code: ctx.bundleCode },
    workerOptions: SINGLE_WORKER_OPTIONS,
  });
  return worker.runUntil(() => fn(new CouplingSyncClient({ client: ctx.client, taskQueue }), taskQueue));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The floor: the same rows read, mapped by the same functions and written with couplings, no Temporal. */
async function floorRun(benchEnv: BenchEnv, count: number): Promise<number> {
  await seed(benchEnv.local, 'src', count);
  const mapping = parseMappingDefinition(benchMapping());
  const plan = planFields(mapping, 'ToIntegrationTable');
  const source = benchEnv.systems.local;
  const destination = benchEnv.systems.integration;
  return timed(async () => {
    let after = null as { modifiedOn: string; id: string } | null;
    for (;;) {
      const records = await source.readChanged({ table: 'src', fields: plan.sourceFields, filter: [], since: null, after, through: null, limit: 1000 });
      if (records.length === 0) break;
      const results = await destination.createMany(
        'dst',
        records.map((r) => ({ key: creationKey('BENCH', 'local', r.id), values: mapValues(plan, r.values) })),
      );
      await benchEnv.store.insertCouplings(
        mapping,
        'ToIntegrationTable',
        'floor',
        records.map((r, i) => ({
          localId: r.id,
          integrationId: results[i].id ?? '',
          lastSyncedLocalModifiedOn: r.modifiedOn,
          lastSyncedIntegrationModifiedOn: results[i].ok ? (results[i] as { modifiedOn: string }).modifiedOn : null,
          action: 'insert@floor',
        })),
      );
      after = { modifiedOn: records[records.length - 1].modifiedOn, id: records[records.length - 1].id };
    }
  });
}

async function bulkRuns(ctx: Ctx, dialect: 'sqlite' | 'postgres', count: number): Promise<{ inserts: number[]; updates: number[]; floors: number[] }> {
  const inserts: number[] = [];
  const updates: number[] = [];
  const floors: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const floorEnv = await openBenchEnv(dialect);
    try {
      floors.push(count / (await floorRun(floorEnv, count)));
    } finally {
      await floorEnv.close();
    }
    const benchEnv = await openBenchEnv(dialect);
    try {
      await seed(benchEnv.local, 'src', count);
      await withBenchWorker(ctx, benchEnv, async (sync) => {
        const insertSeconds = await timed(() => sync.bulkSync({ mapping: 'BENCH', batchSize: 1000, maxBatchesInFlight: 4 }));
        const [dst] = await benchEnv.integration('dst').count({ n: '*' });
        if (Number(dst.n) !== count) throw new Error(`bulk insert left ${dst.n} rows, expected ${count}`);
        inserts.push(count / insertSeconds);
        await benchEnv.local('src').update({ f3: benchEnv.local.raw("f3 || '-changed'"), modified_on: new Date().toISOString() });
        const updateSeconds = await timed(() => sync.bulkSync({ mapping: 'BENCH', batchSize: 1000, maxBatchesInFlight: 4 }));
        updates.push(count / updateSeconds);
      });
    } finally {
      await benchEnv.close();
    }
    log(`${dialect} run ${run + 1}: insert ${round(inserts[run])}/s, update ${round(updates[run])}/s, floor ${round(floors[run])}/s`);
  }
  return { inserts, updates, floors };
}

async function naiveRuns(ctx: Ctx): Promise<number[]> {
  const rates: number[] = [];
  const naiveBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./naive-workflow'), logger: new DefaultLogger('WARN') });
  for (let run = 0; run < RUNS; run++) {
    const benchEnv = await openBenchEnv('sqlite');
    try {
      await seed(benchEnv.local, 'src', NAIVE_N);
      const taskQueue = `naive-${randomUUID()}`;
      const deps = { store: benchEnv.store, systems: benchEnv.systems };
      const worker = await Worker.create({
        connection: ctx.native,
        taskQueue,
        workflowBundle: { code: naiveBundle.code },
        activities: { ...createActivities(deps), ...createNaiveActivities(deps) },
      });
      const seconds = await worker.runUntil(() =>
        timed(() =>
          ctx.client.workflow.execute('naiveBulkSyncWorkflow', {
            taskQueue,
            workflowId: `naive-${randomUUID()}`,
            args: [{ mapping: 'BENCH', jobId: 'naive' }],
          }),
        ),
      );
      rates.push(NAIVE_N / seconds);
      log(`naive run ${run + 1}: ${round(rates[run])}/s`);
    } finally {
      await benchEnv.close();
    }
  }
  return rates;
}

/** Peak resident set of a process, from /proc (Linux): what the kernel saw, not a sample. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function millionRun(ctx: Ctx): Promise<{ seconds: number; maxHistoryEvents: number; peakRssMb: number; runs: number }> {
  const benchEnv = await openBenchEnv('sqlite');
  const bundlePath = path.join(benchEnv.dir as string, 'bundle.js');
  writeFileSync(bundlePath, ctx.bundleCode);
  const taskQueue = `million-${randomUUID()}`;
  try {
    log(`seeding ${MILLION} rows`);
    await seed(benchEnv.local, 'src', MILLION);
    // The worker runs in a process of its own, so its memory is measured alone.
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, 'worker-process.ts')], {
      env: { ...process.env, BENCH_DIR: benchEnv.dir as string, TASK_QUEUE: taskQueue, TEMPORAL_ADDRESS: ctx.env.address, BUNDLE_PATH: bundlePath },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let exited: ((code: number | null) => void) | null = null;
    const exit = new Promise<never>((_, reject) => {
      exited = (code) => reject(new Error(`bench worker exited with ${code}`));
    });
    child.on('exit', (code) => exited?.(code));
    exit.catch(() => undefined);
    await Promise.race([
      new Promise<void>((resolve) =>
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        }),
      ),
      exit,
    ]);
    try {
      const sync = new CouplingSyncClient({ client: ctx.client, taskQueue });
      const handle = await sync.startBulkSync({ mapping: 'BENCH', batchSize: 1000, maxBatchesInFlight: 4 });
      // A worker that dies must fail the benchmark, not hang it.
      const seconds = await timed(() => Promise.race([handle.result(), exit]));
      const peak = peakRssMb(child.pid as number);
      let runId: string | undefined = handle.firstExecutionRunId;
      let maxHistoryEvents = 0;
      let runs = 0;
      while (runId) {
        const history: { events?: { workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string | null } | null }[] | null } =
          await ctx.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        const events = history.events ?? [];
        maxHistoryEvents = Math.max(maxHistoryEvents, events.length);
        runs++;
        runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      const [dst] = await benchEnv.integration('dst').count({ n: '*' });
      if (Number(dst.n) !== MILLION) throw new Error(`million run left ${dst.n} rows`);
      return { seconds, maxHistoryEvents, peakRssMb: peak, runs };
    } finally {
      exited = null;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const stopped = new Promise((r) => child.once('exit', r));
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await stopped;
        clearTimeout(force);
      }
    }
  } finally {
    await benchEnv.close();
  }
}

interface SingleSamples {
  p50: number[];
  p99: number[];
  concurrent: number[];
  eagerStarts: number;
}
const emptySamples = (): SingleSamples => ({ p50: [], p99: [], concurrent: [], eagerStarts: 0 });

/** Starts the workflow for record `id`; resolves with its handle once started. */
type StartOne = (id: string) => Promise<{ eagerlyStarted?: boolean; result(): Promise<unknown> }>;

/** SINGLE_SEQ runs one after the other (client start to result), then SINGLE_CONCURRENT started at once; ids from `offset`. */
async function measureSingle(start: StartOne, offset: number, into: SingleSamples): Promise<void> {
  const id = (i: number): string => `R${String(offset + i).padStart(8, '0')}`;
  const latencies: number[] = [];
  for (let i = 0; i < SINGLE_SEQ; i++) {
    latencies.push(
      (await timed(async () => {
        const handle = await start(id(i));
        if (handle.eagerlyStarted) into.eagerStarts++;
        await handle.result();
      })) * 1000,
    );
  }
  into.p50.push(percentile(latencies, 50));
  into.p99.push(percentile(latencies, 99));
  const ids = Array.from({ length: SINGLE_CONCURRENT }, (_, i) => id(SINGLE_SEQ + i));
  const seconds = await timed(async () => {
    const handles = await Promise.all(ids.map(start));
    for (const h of handles) if (h.eagerlyStarted) into.eagerStarts++;
    await Promise.all(handles.map((h) => h.result()));
  });
  into.concurrent.push(SINGLE_CONCURRENT / seconds);
}

interface SingleResults {
  remote: SingleSamples;
  eager: SingleSamples;
  empty: SingleSamples;
}

/**
 * Per run, beside each other on one dev server: the baseline (an empty workflow, same client
 * and worker options), singleSync from a remote client (its own gRPC connection, as another
 * service would call), then from a client embedded in the worker's process on its
 * NativeConnection with eager workflow start (the first task comes back in the start response).
 */
async function singleRuns(ctx: Ctx, emptyBundleCode: string): Promise<SingleResults> {
  const results: SingleResults = { remote: emptySamples(), eager: emptySamples(), empty: emptySamples() };
  const perClient = SINGLE_SEQ + SINGLE_CONCURRENT;
  for (let run = 0; run < RUNS; run++) {
    const emptyQueue = `empty-${randomUUID()}`;
    const emptyWorker = await Worker.create({
      connection: ctx.native,
      taskQueue: emptyQueue,
      workflowBundle: { code: emptyBundleCode },
      ...SINGLE_WORKER_OPTIONS,
    });
    await emptyWorker.runUntil(() =>
      measureSingle(
        (id) => ctx.client.workflow.start('emptyWorkflow', { taskQueue: emptyQueue, workflowId: `empty-${emptyQueue}-${id}`, args: [id] }),
        0,
        results.empty,
      ),
    );
    const benchEnv = await openBenchEnv('sqlite');
    try {
      await seed(benchEnv.local, 'src', 2 * perClient);
      await withBenchWorker(ctx, benchEnv, async (sync, taskQueue) => {
        await measureSingle((recordId) => sync.startSingleSync({ mapping: 'BENCH', recordId }), 0, results.remote);
        const embedded = new CouplingSyncClient({ client: new Client({ connection: ctx.native }), taskQueue, eagerStart: true });
        await measureSingle((recordId) => embedded.startSingleSync({ mapping: 'BENCH', recordId }), perClient, results.eager);
      });
      const { remote, eager, empty } = results;
      log(
        `single run ${run + 1}: empty workflow p50 ${round(empty.p50[run], 1)} ms, ${round(empty.concurrent[run])}/s; ` +
          `singleSync remote p50 ${round(remote.p50[run], 1)} ms, p99 ${round(remote.p99[run], 1)} ms, ${round(remote.concurrent[run])}/s; ` +
          `eager p50 ${round(eager.p50[run], 1)} ms, ${round(eager.concurrent[run])}/s; load ${os
            .loadavg()
            .map((x) => x.toFixed(2))
            .join(' ')}`,
      );
    } finally {
      await benchEnv.close();
    }
  }
  return results;
}

/** The measured sections replace theirs in the results file; a run with --only keeps the others as they were. */
function mergeResults(file: string, measured: Record<string, unknown>): Record<string, unknown> {
  if (ONLY.size === ALL_SECTIONS.length) return measured;
  try {
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>), ...measured };
  } catch {
    return measured;
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  log(`${QUICK ? 'quick' : 'full'} run on ${os.cpus().length} cores, Node ${process.version}: ${[...ONLY].join(', ')}`);
  const env = await startDevServer({ log });
  const connection = await Connection.connect({ address: env.address });
  const native = await NativeConnection.connect({ address: env.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...WORKFLOW_BUNDLER_OPTIONS, logger: new DefaultLogger('WARN') });
  const ctx: Ctx = { env, client: new Client({ connection }), native, bundleCode: bundle.code };
  // Fields about the run itself; every other key of the results is a measured section.
  const RUN_FIELDS = new Set(['quick', 'machine', 'at', 'runs']);
  const results: Record<string, unknown> = {
    quick: QUICK,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    at: new Date().toISOString(),
    runs: RUNS,
  };
  const table: [string, string, string][] = [];
  try {
    if (ONLY.has('bulk')) {
      const sqlite = await bulkRuns(ctx, 'sqlite', N);
      const naive = await naiveRuns(ctx);
      const rps = median(sqlite.inserts);
      const bulk = {
        records: N,
        recordsPerSecond: round(rps),
        updateRecordsPerSecond: round(median(sqlite.updates)),
        floorRecordsPerSecond: round(median(sqlite.floors)),
        ofFloor: round(rps / median(sqlite.floors), 2),
        naiveRecordsPerSecond: round(median(naive), 1),
        naiveRecords: NAIVE_N,
        vsNaive: round(rps / median(naive), 1),
        samples: {
          inserts: sqlite.inserts.map((x) => round(x)),
          updates: sqlite.updates.map((x) => round(x)),
          floors: sqlite.floors.map((x) => round(x)),
          naive: naive.map((x) => round(x, 1)),
        },
      };
      results['bulk.sqlite'] = bulk;
      table.push([
        'bulk sqlite inserts',
        `${bulk.recordsPerSecond} rec/s`,
        `${bulk.ofFloor}x floor (${bulk.floorRecordsPerSecond}/s), ${bulk.vsNaive}x naive (${bulk.naiveRecordsPerSecond}/s)`,
      ]);
      table.push(['bulk sqlite updates', `${bulk.updateRecordsPerSecond} rec/s`, '']);
    }
    if (ONLY.has('postgres')) {
      const pg = await bulkRuns(ctx, 'postgres', N);
      const bulk = {
        records: N,
        recordsPerSecond: round(median(pg.inserts)),
        updateRecordsPerSecond: round(median(pg.updates)),
        floorRecordsPerSecond: round(median(pg.floors)),
        ofFloor: round(median(pg.inserts) / median(pg.floors), 2),
        samples: { inserts: pg.inserts.map((x) => round(x)), updates: pg.updates.map((x) => round(x)), floors: pg.floors.map((x) => round(x)) },
      };
      results['bulk.postgres'] = bulk;
      table.push(['bulk postgres inserts', `${bulk.recordsPerSecond} rec/s`, `${bulk.ofFloor}x floor (${bulk.floorRecordsPerSecond}/s)`]);
      table.push(['bulk postgres updates', `${bulk.updateRecordsPerSecond} rec/s`, '']);
    }
    if (ONLY.has('million')) {
      const m = await millionRun(ctx);
      results['bulk.million'] = {
        records: MILLION,
        seconds: round(m.seconds, 1),
        maxHistoryEvents: m.maxHistoryEvents,
        workerPeakRssMb: round(m.peakRssMb),
        continueAsNewRuns: m.runs,
        note: 'one run (not a median); peak RSS (VmHWM) of the worker process alone',
      };
      table.push([
        `bulk ${MILLION} records`,
        `${round(m.seconds, 1)} s`,
        `max history ${m.maxHistoryEvents} events over ${m.runs} runs, peak RSS ${round(m.peakRssMb)} MB`,
      ]);
    }
    if (ONLY.has('single')) {
      const emptyBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./empty-workflow'), logger: new DefaultLogger('WARN') });
      const { remote: s, eager: e, empty: b } = await singleRuns(ctx, emptyBundle.code);
      const samples = (x: SingleSamples) => ({
        p50: x.p50.map((v) => round(v, 1)),
        p99: x.p99.map((v) => round(v, 1)),
        concurrent: x.concurrent.map((v) => round(v)),
      });
      results.single = {
        p50Ms: round(median(s.p50), 1),
        p99Ms: round(median(s.p99), 1),
        concurrentPerSecond: round(median(s.concurrent)),
        sequentialRuns: SINGLE_SEQ,
        concurrentRuns: SINGLE_CONCURRENT,
        samples: samples(s),
        emptyWorkflowBaseline: {
          p50Ms: round(median(b.p50), 1),
          p99Ms: round(median(b.p99), 1),
          concurrentPerSecond: round(median(b.concurrent)),
          samples: samples(b),
          note: 'a workflow that returns its input (no activity, no store), same client, worker options and server, run beside each singleSync run: the ceiling Temporal itself sets on this machine',
        },
        ofEmptyWorkflowRate: round(median(s.concurrent) / median(b.concurrent), 2),
        eagerStart: {
          p50Ms: round(median(e.p50), 1),
          p99Ms: round(median(e.p99), 1),
          concurrentPerSecond: round(median(e.concurrent)),
          eagerlyStarted: `${e.eagerStarts} of ${RUNS * (SINGLE_SEQ + SINGLE_CONCURRENT)}`,
          samples: samples(e),
          note: 'client embedded in the worker process on its NativeConnection, requestEagerStart; a remote client cannot do this',
        },
        loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
      };
      table.push([
        'empty workflow (baseline)',
        `p50 ${round(median(b.p50), 1)} ms, p99 ${round(median(b.p99), 1)} ms`,
        `${round(median(b.concurrent))} workflows/s with ${SINGLE_CONCURRENT} at once`,
      ]);
      table.push([
        'single sync',
        `p50 ${round(median(s.p50), 1)} ms, p99 ${round(median(s.p99), 1)} ms`,
        `${round(median(s.concurrent))} workflows/s with ${SINGLE_CONCURRENT} at once (${round(median(s.concurrent) / median(b.concurrent), 2)}x the empty workflow)`,
      ]);
      table.push([
        'single sync, eager start',
        `p50 ${round(median(e.p50), 1)} ms, p99 ${round(median(e.p99), 1)} ms`,
        `${round(median(e.concurrent))} workflows/s with ${SINGLE_CONCURRENT} at once (embedded client)`,
      ]);
    }
    if (ONLY.has('match')) {
      const m = await runMatchBench({ client: ctx.client, native: ctx.native, bundleCode: ctx.bundleCode, runs: RUNS, count: N, naiveCount: NAIVE_N, log });
      results.match = m;
      table.push(['match-based coupling', `${m.recordsPerSecond} rec/s`, `${m.vsNaive}x naive (${m.naiveRecordsPerSecond}/s)`]);
    }
  } finally {
    await native.close();
    await connection.close();
    await env.teardown();
  }
  const file = path.resolve('bench/results', QUICK ? 'latest-quick.json' : 'latest.json');
  mkdirSync(path.dirname(file), { recursive: true });
  // Each section says when it was measured: a run with --only leaves the others' figures in place.
  for (const [key, value] of Object.entries(results)) if (!RUN_FIELDS.has(key)) (value as Record<string, unknown>).measuredAt = results.at;
  writeFileSync(file, `${JSON.stringify(mergeResults(file, results), null, 2)}\n`);
  const width = Math.max(...table.map((r) => r[0].length));
  console.log(`\n${table.map(([a, b, c]) => `${a.padEnd(width)}  ${b.padEnd(28)}  ${c}`).join('\n')}\n\nwritten to ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
