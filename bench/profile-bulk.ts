/**
 * `npx tsx bench/profile-bulk.ts [sqlite|postgres] [records] [single|match]`:
 * one bulk sync (inserts, then updates) of the bench mapping on the dev server,
 * 200 single syncs after one (`single`) or of new records (`single-create`), or a match-based coupling of records x
 * records (`match`), with every
 * SQL statement timed per database and grouped by its shape, so a missed goal
 * can be traced to the statements (or the time between them) that bound it.
 * Not part of `npm run bench`; the figures are a profile, not a measurement.
 */
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Knex } from 'knex';
import { startDevServer } from '../worker/dev-server';
import { WORKFLOWS_PATH, WORKFLOW_BUNDLER_OPTIONS } from '../worker/create-worker';
import { withBenchWorker, type Ctx } from './context';
import { openBenchEnv, seed } from './fixtures';
import { seedMatch } from './match-bench';
import { percentile, timed } from './stats';

/** Every statement's start, end and shape, and the client's marks of the single syncs, for the timeline of one. */
const TIMELINE: [number, number, string][] = [];
interface Stat {
  count: number;
  ms: number;
}

/** Times every statement of `knex`, keyed by database and statement shape (values and list lengths elided). */
function timeQueries(knex: Knex, database: string, stats: Map<string, Stat>): void {
  const started = new Map<string, number>();
  knex.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
  const done = (_e: unknown, q: { __knexQueryUid: string; sql: string }): void => {
    const t0 = started.get(q.__knexQueryUid);
    if (t0 === undefined) return;
    started.delete(q.__knexQueryUid);
    const shape = `${database}: ${q.sql
      .replace(/\s+/g, ' ')
      .replace(/(\(\?(, ?\?)*\)(, ?)?)+/g, '(…)')
      .replace(/\$\d+/g, '?')
      .slice(0, 110)}`;
    const s = stats.get(shape) ?? { count: 0, ms: 0 };
    s.count++;
    s.ms += performance.now() - t0;
    TIMELINE.push([t0, performance.now(), shape]);
    stats.set(shape, s);
  };
  knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => done(null, q));
  knex.on('query-error', (e: unknown, q: { __knexQueryUid: string; sql: string }) => done(e, q));
}

function report(what: string, seconds: number, records: number, stats: Map<string, Stat>): void {
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((n, [, s]) => n + s.ms, 0);
  console.log(
    `\n${what}: ${records} records in ${seconds.toFixed(2)} s (${Math.round(records / seconds)}/s); SQL ${Math.round(total)} ms in ${rows.reduce((n, [, s]) => n + s.count, 0)} statements`,
  );
  for (const [shape, s] of rows.slice(0, 18)) console.log(`${String(Math.round(s.ms)).padStart(7)} ms ${String(s.count).padStart(6)}x  ${shape}`);
  stats.clear();
}

/**
 * Where a single sync's time goes, from the server's clock (medians over the runs): from the start to the
 * workflow task the worker picked up, that task (the workflow code and the local activity inside it), and
 * from its completion to the run closed.
 */
async function reportPhases(client: Client, handles: readonly { workflowId: string; firstExecutionRunId: string }[]): Promise<void> {
  const phases = { 'start to task started': [] as number[], 'task (local activity inside)': [] as number[], 'task completed to closed': [] as number[] };
  for (const h of handles) {
    const history = await client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).fetchHistory();
    const at = (type: keyof typeof temporal.api.enums.v1.EventType, nth = 0): number => {
      const code = temporal.api.enums.v1.EventType[type];
      const event = (history.events ?? []).filter((e) => e.eventType === code)[nth];
      const t = event?.eventTime;
      return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
    };
    const started = at('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    const taskStarted = at('EVENT_TYPE_WORKFLOW_TASK_STARTED');
    const taskCompleted = at('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    const closed = at('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    phases['start to task started'].push(taskStarted - started);
    phases['task (local activity inside)'].push(taskCompleted - taskStarted);
    phases['task completed to closed'].push(closed - taskCompleted);
  }
  for (const [phase, values] of Object.entries(phases)) console.log(`${String(percentile(values, 50).toFixed(2)).padStart(8)} ms  p50 ${phase}`);
}

async function main(): Promise<void> {
  const dialect = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const records = Number(process.argv[3] ?? 20_000);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await startDevServer({ log: () => undefined });
  const connection = await Connection.connect({ address: env.address });
  const native = await NativeConnection.connect({ address: env.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...WORKFLOW_BUNDLER_OPTIONS, logger: new DefaultLogger('WARN') });
  const ctx: Ctx = { env, client: new Client({ connection }), native, bundleCode: bundle.code, quick: true, runs: 1 };
  const bench = await openBenchEnv(dialect);
  const stats = new Map<string, Stat>();
  try {
    await seed(bench.local, 'src', records);
    timeQueries(bench.local, 'local', stats);
    timeQueries(bench.integration, 'integration', stats);
    timeQueries(bench.store.knex, 'store', stats);
    const input = { mapping: 'BENCH', batchSize: 1000, maxBatchesInFlight: Number(process.env.IN_FLIGHT ?? 4) };
    if (process.argv[4] === 'match') {
      // Match-based coupling of `records` x `records`, as the benchmark seeds them (its indexes built first).
      await bench.local('src').delete();
      await seedMatch(bench, records);
      await withBenchWorker(ctx, bench, async (sync) => {
        stats.clear();
        report('matching', await timed(async () => (await sync.startMatchBasedCoupling({ mapping: 'BENCH', batchSize: 1000 })).result()), records, stats);
      });
      return;
    }
    if (process.argv[4] === 'single' || process.argv[4] === 'single-create') {
      // Single syncs one after another, of coupled, changed records (`single`) or of new ones as the benchmark's
      // (`single-create`): what one costs beyond the workflow.
      await withBenchWorker(ctx, bench, async (sync) => {
        if (process.argv[4] === 'single') await sync.bulkSync(input);
        await bench.local('src').update({ f3: bench.local.raw("f3 || '-changed'"), modified_on: new Date().toISOString() });
        const ids = (await bench.local('src').orderBy('id').limit(200).select('id')).map((r: { id: string }) => r.id);
        stats.clear();
        const handles: { workflowId: string; firstExecutionRunId: string }[] = [];
        report(
          'single syncs',
          await timed(async () => {
            for (const recordId of ids) {
              const t = performance.now();
              TIMELINE.push([t, t, 'START']);
              const handle = await sync.startSingleSync({ mapping: 'BENCH', recordId });
              const t2 = performance.now();
              TIMELINE.push([t2, t2, 'STARTED']);
              await handle.result();
              const t3 = performance.now();
              TIMELINE.push([t3, t3, 'RESULT']);
              handles.push(handle);
            }
          }),
          ids.length,
          stats,
        );
        await reportPhases(ctx.client, handles);
        // One sync from the middle, statement by statement (ms from the client's start, and each one's duration).
        const starts = TIMELINE.flatMap((e, i) => (e[2] === 'START' ? [i] : []));
        const [from, to] = [starts[Math.floor(starts.length / 2)], starts[Math.floor(starts.length / 2) + 1] ?? TIMELINE.length];
        console.log('\none single sync, statement by statement:');
        for (const [a, b, what] of TIMELINE.slice(from, to))
          console.log(`${(a - TIMELINE[from][0]).toFixed(2).padStart(8)} ms ${(b - a).toFixed(2).padStart(6)} ms  ${what.slice(0, 90)}`);
      });
      return;
    }
    await withBenchWorker(ctx, bench, async (sync) => {
      stats.clear();
      report('inserts', await timed(() => sync.bulkSync(input)), records, stats);
      await bench.local('src').update({ f3: bench.local.raw("f3 || '-changed'"), modified_on: new Date().toISOString() });
      stats.clear();
      report('updates', await timed(() => sync.bulkSync(input)), records, stats);
      // A run with nothing to do: what a bulk sync costs whatever its size.
      report('nothing changed', await timed(() => sync.bulkSync(input)), records, stats);
    });
  } finally {
    await bench.close();
    await native.close();
    await connection.close();
    await env.teardown();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
