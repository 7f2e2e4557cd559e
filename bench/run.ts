/**
 * `npm run bench [-- --quick] [-- --only bulk,postgres,million,single,match,live,operate]`:
 * measures bulk sync, the large run, single sync and matching on a dev server
 * of its own and real stores, each beside its baselines in the same run (the
 * floor, the raw limit, the peer, the empty workflow). Every figure is the
 * median of `RUNS` runs with its samples; every section records the load
 * average at its start and end. Writes bench/results/latest.json
 * (latest-quick.json with --quick) with the goal rows of issue #16 and prints
 * them as a Markdown table.
 *
 * `--heap-snapshot=<s>` makes the large run's worker write heap snapshots
 * <s> seconds in, into bench/results/heap/ (not committed); its figures are
 * then not representative.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../worker/create-worker';
import { startDevServer } from '../worker/dev-server';
import { bulkRuns, type BulkSamples } from './bulk-bench';
import type { Ctx } from './context';
import { figure, goalRows, markdownTable, type MatchSection } from './goals';
import { largeMatchRun, matchRuns } from './match-bench';
import { millionRun, type MillionResult } from './million-bench';
import { PEER_IN_FLIGHT, peerBulkRuns, peerMatchRuns } from './peer-bench';
import { singleRuns, type SingleSamples } from './single-bench';
import { liveRuns, type SidedSamples } from './live-bench';
import { operateRuns } from './operate-bench';
import type { OperateSection } from './operate-goals';
import type { LiveSection } from './live-goals';
import { log, round, withLoad } from './stats';
import { DEFAULT_PROCESS_SETTINGS, WORKER_PROCESS_SETTINGS, type ProcessSettings } from './worker-child';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const QUICK = argv.includes('--quick');
const ALL_SECTIONS = ['bulk', 'postgres', 'million', 'single', 'match', 'live', 'operate'];
const ONLY = new Set(flag('only')?.split(',') ?? ALL_SECTIONS);
const SNAPSHOT_AFTER = flag('heap-snapshot');
const RUNS = 3;
/**
 * A quick run keeps three runs where a figure is a ratio to a baseline of the
 * same run (bulk, PostgreSQL, matching), and measures once where a run costs
 * tens of seconds of waiting (single sync's hundreds of workflows, live sync's
 * edits that each wait for their echo to settle): under 3 minutes in all.
 */
const QUICK_ONCE = new Set(['single', 'live']);
/** The sections whose figures are medians over runs; the large run is one run, the console's pages medians over requests. */
const REPEATED = new Set(['bulk', 'postgres', 'single', 'match', 'live']);
const runsOf = (section: string): number => (!REPEATED.has(section) || (QUICK && QUICK_ONCE.has(section)) ? 1 : RUNS);
/** Records of the bulk and match runs. */
const N = QUICK ? 10_000 : 100_000;
/** Records of the peer's runs: it is slow, and its rate does not depend on the count. */
const PEER_N = QUICK ? 300 : 2_000;
const MILLION = QUICK ? 50_000 : 1_000_000;
/** The full run also measures the worker process settings (heap limit, malloc arenas) at this size. */
const SETTINGS_N = 100_000;
/** The large matching run; a quick run reads its goals from the 10,000 x 10,000 runs. */
const LARGE_MATCH = QUICK ? 0 : 1_000_000;
const SINGLE = QUICK ? { sequential: 60, concurrent: 150 } : { sequential: 500, concurrent: 1_000 };
/** Live sync: single changes per side and run, and the storm (changes over seconds). */
const LIVE = QUICK ? { changes: 3, storm: 1_000, stormSeconds: 2 } : { changes: 20, storm: 10_000, stormSeconds: 10 };
/** Console pages: error rows and failed couplings behind them, and requests per page. */
const OPERATE = QUICK ? { rows: 20_000, requests: 5 } : { rows: 100_000, requests: 15 };

function bulkSection(s: BulkSamples, records: number) {
  const f = {
    inserts: figure(s.inserts),
    updates: figure(s.updates),
    floorInserts: figure(s.floorInserts),
    floorUpdates: figure(s.floorUpdates),
    rawInserts: figure(s.rawInserts),
    rawUpdates: figure(s.rawUpdates),
  };
  return {
    records,
    unit: 'records/s',
    ...f,
    ratios: {
      insertsOfFloor: round(f.inserts.median / f.floorInserts.median, 2),
      updatesOfFloor: round(f.updates.median / f.floorUpdates.median, 2),
      insertsOfRawLimit: round(f.inserts.median / f.rawInserts.median, 2),
      updatesOfRawLimit: round(f.updates.median / f.rawUpdates.median, 2),
      floorInsertsOfRawLimit: round(f.floorInserts.median / f.rawInserts.median, 2),
      updatesOfInserts: round(f.updates.median / f.inserts.median, 2),
    },
    note: 'per run, fresh databases each: the floor (bench/floor.ts), the raw limit (bench/raw-limit.ts), then ours (bulkSyncWorkflow, batchSize 1000, 4 batches in flight); inserts into an empty destination, then updates of one field of every record',
  };
}

const singleFigures = (x: SingleSamples) => ({ p50Ms: figure(x.p50, 1), p99Ms: figure(x.p99, 1), concurrentPerSecond: figure(x.concurrent) });

async function measure(ctx: Ctx, section: string): Promise<Record<string, Record<string, unknown>>> {
  if (section === 'bulk') {
    const { result, loadAverage } = await withLoad(async () => ({ sqlite: await bulkRuns(ctx, 'sqlite', N), peer: await peerBulkRuns(ctx, PEER_N) }));
    const peer = {
      records: PEER_N,
      inFlight: PEER_IN_FLIGHT,
      recordsPerSecond: figure(result.peer.rates, 1),
      historyEvents: figure(result.peer.historyEvents),
    };
    return { 'bulk.sqlite': { ...bulkSection(result.sqlite, N), peer, loadAverage } };
  }
  if (section === 'postgres') {
    const { result, loadAverage } = await withLoad(() => bulkRuns(ctx, 'postgres', N));
    return { 'bulk.postgres': { ...bulkSection(result, N), loadAverage } };
  }
  if (section === 'million') {
    const snapshot = SNAPSHOT_AFTER === undefined ? {} : { snapshotAfterSeconds: Number(SNAPSHOT_AFTER), snapshotDir: path.resolve('bench/results/heap') };
    const heapLimitOnly = { nodeFlags: WORKER_PROCESS_SETTINGS.nodeFlags, env: {} };
    const { result, loadAverage } = await withLoad(async () => ({
      large: await millionRun(ctx, MILLION, snapshot),
      // What the worker process settings do, measured here: the same smaller run with Node's and glibc's defaults, the heap limit alone, both.
      settings: QUICK
        ? null
        : {
            defaults: await millionRun(ctx, SETTINGS_N, { settings: DEFAULT_PROCESS_SETTINGS }),
            heapLimit: await millionRun(ctx, SETTINGS_N, { settings: heapLimitOnly }),
            both: await millionRun(ctx, SETTINGS_N, { settings: WORKER_PROCESS_SETTINGS }),
          },
    }));
    const m = result.large;
    const brief = (r: MillionResult, settings: ProcessSettings) => ({
      ...settings,
      seconds: round(r.seconds, 1),
      peakRssMb: r.memory.peakRssMb,
      idleRssMb: r.memory.idleRssMb,
      mainHeapTotalMb: r.memory.sampledPeaksMb.heapTotal,
    });
    return {
      'bulk.million': {
        records: m.records,
        seconds: round(m.seconds, 1),
        recordsPerSecond: round(m.records / m.seconds),
        history: m.history,
        worker: { ...m.memory, ...WORKER_PROCESS_SETTINGS },
        ...(m.snapshots.length ? { heapSnapshots: m.snapshots } : {}),
        ...(result.settings
          ? {
              processSettingsComparison: {
                records: SETTINGS_N,
                defaults: brief(result.settings.defaults, DEFAULT_PROCESS_SETTINGS),
                heapLimit: brief(result.settings.heapLimit, heapLimitOnly),
                heapLimitAndArenas: brief(result.settings.both, WORKER_PROCESS_SETTINGS),
              },
            }
          : {}),
        note: 'one run (not a median); the worker in a process of its own: peak RSS is its VmHWM, idle RSS its VmRSS once polling; sampled peaks are process.memoryUsage() of its main thread',
        loadAverage,
      },
    };
  }
  if (section === 'single') {
    const { result: s, loadAverage } = await withLoad(() => singleRuns(ctx, SINGLE));
    return {
      single: {
        sequentialRuns: s.sequential,
        concurrentRuns: s.concurrent,
        singleSync: singleFigures(s.remote),
        emptyWorkflow: {
          ...singleFigures(s.empty),
          note: 'a workflow that returns its input (no activity, no store), same client, worker options and server, run beside each singleSync run',
        },
        eagerStart: {
          ...singleFigures(s.eager),
          eagerlyStarted: `${s.eager.eagerStarts} of ${ctx.runs * (s.sequential + s.concurrent)}`,
          note: 'client embedded in the worker process on its NativeConnection, requestEagerStart; a remote client cannot do this',
        },
        loadAverage,
      },
    };
  }
  if (section === 'operate') {
    const { result, loadAverage } = await withLoad(() => operateRuns(OPERATE.rows, OPERATE.requests));
    const operate = {
      rows: result.rows,
      pagesMs: Object.fromEntries(Object.entries(result.pages).map(([k, v]) => [k, figure(v, 1)])),
      cliMs: { help: figure(result.cli.help), storeRead: figure(result.cli.storeRead), nodeBaseline: figure(result.cli.nodeBaseline) },
      note: 'SQLite store with that many error rows and failed couplings in one mapping; each page fetched over HTTP from the console (keyset pages of 100), after one warm-up request; the CLI from the clone (bin/coupling-sync.js, the bundle esbuild built), wall time per process',
      loadAverage,
    };
    return { operate: operate satisfies OperateSection };
  }
  if (section === 'live') {
    const { result, loadAverage } = await withLoad(() => liveRuns(ctx, LIVE));
    const sided = (x: SidedSamples) => ({ p50Ms: figure(x.p50), p99Ms: figure(x.p99), deliveryP50Ms: figure(x.deliveryP50) });
    const storms = result.storms;
    const live = {
      changesPerSide: LIVE.changes,
      deliveryDelayMs: result.deliveryDelayMs,
      bcToDataverse: sided(result.bcToDataverse),
      dataverseToBc: sided(result.dataverseToBc),
      storm: {
        // Every BC customer once: those seeded and those the first bulk sync created from accounts.
        changes: storms[0]?.changes ?? 0,
        seededCustomers: LIVE.storm,
        seconds: LIVE.stormSeconds,
        syncJobs: figure(storms.map((s) => s.syncJobs)),
        toIntegrationJobs: figure(storms.map((s) => s.toIntegrationJobs)),
        fromIntegrationJobs: figure(storms.map((s) => s.fromIntegrationJobs)),
        written: figure(storms.map((s) => s.written)),
        unchanged: figure(storms.map((s) => s.unchanged)),
        failed: figure(storms.map((s) => s.failed)),
        settledSeconds: figure(
          storms.map((s) => s.settledSeconds),
          1,
        ),
        notifications: figure(storms.map((s) => s.notifications)),
        liveRuns: figure(storms.map((s) => s.liveRuns)),
        allArrived: storms.every((s) => s.allArrived),
      },
      note: 'BC and Dataverse EMULATORS with webhooks (delivery delay 0), our receivers (one signal in flight per side, the rest gathered, as in the worker), live sync defaults (500 ms debounce); latency from the edit to the counterpart read on the other side, deliveryP50Ms to the receiver telling the live sync; each change waits for the echo of our own write to settle; the storm edits every customer once in BC, and its jobs include the echo runs (fromIntegrationJobs)',
      loadAverage,
    };
    return { live: live satisfies LiveSection };
  }
  const { result, loadAverage } = await withLoad(async () => {
    const ours = await matchRuns(ctx, N);
    const peer = await peerMatchRuns(ctx, PEER_N, N);
    const large = LARGE_MATCH > 0 ? await largeMatchRun(ctx, LARGE_MATCH) : null;
    return { ours, peer, large };
  });
  const match = {
    records: N,
    recordsPerSecond: figure(result.ours.rates),
    coupled: figure(result.ours.coupled),
    maxHistoryEvents: figure(result.ours.maxHistoryEvents),
    peer: {
      records: PEER_N,
      inFlight: PEER_IN_FLIGHT,
      recordsPerSecond: figure(result.peer.rates, 1),
      coupled: figure(result.peer.coupled),
      historyEvents: figure(result.peer.historyEvents),
    },
    large: result.large && {
      records: result.large.records,
      seconds: round(result.large.seconds, 1),
      recordsPerSecond: round(result.large.recordsPerSecond),
      coupled: result.large.coupled,
      // The data: 50% match on the first priority, 20% on the second (bench/match-bench.ts).
      expectedCoupled: Math.round(result.large.records * 0.7),
      history: result.large.history,
      worker: { ...result.large.memory, ...WORKER_PROCESS_SETTINGS },
    },
    note: 'ours with the integration table’s match indexes; the peer matches one record per activity against the same integration table',
    loadAverage,
  };
  return { match: match satisfies MatchSection };
}

const RUN_FIELDS = ['quick', 'machine', 'at', 'runs', 'seconds', 'loadAverageAtEnd', 'goals'];

/** The measured sections replace theirs in the results file; a run with --only keeps the others as they were. */
function previousSections(file: string): Record<string, unknown> {
  if (ONLY.size === ALL_SECTIONS.length) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const startedAt = Date.now();
  log(
    `${QUICK ? 'quick' : 'full'} run on ${os.cpus().length} cores, Node ${process.version}: ${[...ONLY].join(', ')}; load ${os.loadavg().map((x) => x.toFixed(2))}`,
  );
  const env = await startDevServer({ log });
  const connection = await Connection.connect({ address: env.address });
  const native = await NativeConnection.connect({ address: env.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...WORKFLOW_BUNDLER_OPTIONS, logger: new DefaultLogger('WARN') });
  const ctx: Ctx = { env, client: new Client({ connection }), native, bundleCode: bundle.code, quick: QUICK, runs: RUNS };
  const at = new Date().toISOString();
  const sections: Record<string, unknown> = {};
  try {
    for (const section of ALL_SECTIONS.filter((s) => ONLY.has(s))) {
      const sectionStarted = Date.now();
      const runs = runsOf(section);
      for (const [key, value] of Object.entries(await measure({ ...ctx, runs }, section)))
        sections[key] = {
          ...value,
          ...(REPEATED.has(section) ? { runs } : {}),
          sectionSeconds: round((Date.now() - sectionStarted) / 1000),
          measuredAt: new Date().toISOString(),
        };
    }
  } finally {
    await native.close();
    await connection.close();
    await env.teardown();
  }
  const file = path.resolve('bench/results', QUICK ? 'latest-quick.json' : 'latest.json');
  const previous = previousSections(file);
  // Fields about the run itself are this run's; every other key is a measured section.
  for (const key of RUN_FIELDS) delete previous[key];
  const merged = { ...previous, ...sections };
  const goals = goalRows(merged);
  const results = {
    quick: QUICK,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version },
    at,
    runs: RUNS,
    seconds: round((Date.now() - startedAt) / 1000),
    loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
    goals,
    ...merged,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${markdownTable(goals)}\n\nwritten to ${path.relative(process.cwd(), file)} in ${results.seconds} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
