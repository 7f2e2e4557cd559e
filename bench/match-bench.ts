/**
 * Match-based coupling: `count` local records against `count` integration
 * records, two priority levels, about 70% matching (50% on the first field in
 * another letter case, 20% only on the second). Ours runs with the
 * integration table's match indexes, as a team should have them; the peer
 * (bench/peer-bench.ts) matches one record per activity against the same
 * integration table.
 */
import { randomUUID } from 'node:crypto';
import { createWorker } from '../worker/create-worker';
import { ensureMatchIndexes } from '../connectors/knex-table-connector';
import { matchIndexFields } from '../domain/matching';
import { parseMappingDefinition } from '../domain/mapping';
import { CouplingSyncClient } from '../client';
import { historyStats, type Ctx, type HistoryStats } from './context';
import { benchMapping, FIELDS, openBenchEnv, seed, type BenchEnv } from './fixtures';
import { log, round, timed } from './stats';
import { withWorkerChild, type WorkerMemory } from './worker-child';

const MATCH_INPUT = { mapping: 'BENCH', batchSize: 1000 };

/** Local rows R0..; integration rows I0..: 50% match on f1 (other case, padded), 20% only on f2, 30% nothing. */
export async function seedMatch(env: BenchEnv, count: number, localCount = count): Promise<void> {
  await seed(env.local, 'src', localCount);
  await seed(env.integration, 'dst', count, '', 0, (r, i) => {
    r.id = `I${String(i).padStart(8, '0')}`;
    const bucket = i % 10;
    if (bucket < 5) r.f1 = ` ${r.f1.toUpperCase()} `;
    else if (bucket < 7) r.f1 = `other-${i}`;
    else {
      r.f1 = `other-${i}`;
      r.f2 = `other-${i}`;
    }
    for (const f of FIELDS.slice(2)) r[f] = `${r[f]}x`;
  });
  // Built after the rows (faster than maintaining it per insert) and before the clock starts: a schema step, once per table.
  await ensureMatchIndexes(env.integration, 'dst', matchIndexFields(parseMappingDefinition(benchMapping())));
}

export interface MatchSamples {
  rates: number[];
  coupled: number[];
  maxHistoryEvents: number[];
}

/** Ours, `ctx.runs` times over fresh databases. */
export async function matchRuns(ctx: Ctx, count: number): Promise<MatchSamples> {
  const s: MatchSamples = { rates: [], coupled: [], maxHistoryEvents: [] };
  for (let run = 0; run < ctx.runs; run++) {
    const env = await openBenchEnv('sqlite');
    try {
      await seedMatch(env, count);
      const taskQueue = `match-${randomUUID()}`;
      const worker = await createWorker({
        connection: ctx.native,
        store: env.store,
        systems: env.systems,
        taskQueue,
        workflowBundle: { code: ctx.bundleCode },
      });
      const sync = new CouplingSyncClient({ client: ctx.client, taskQueue });
      const { seconds, history } = await worker.runUntil(async () => {
        const handle = await sync.startMatchBasedCoupling(MATCH_INPUT);
        const took = await timed(() => handle.result());
        return { seconds: took, history: await historyStats(ctx.client, handle.workflowId, handle.firstExecutionRunId) };
      });
      const coupled = await env.store.countCouplings('BENCH');
      s.rates.push(count / seconds);
      s.coupled.push(coupled);
      s.maxHistoryEvents.push(history.maxEvents);
      log(`match run ${run + 1}: ${round(count / seconds)}/s, ${coupled} coupled of ${count}, ${history.maxEvents} history events at most per run`);
    } finally {
      await env.close();
    }
  }
  return s;
}

export interface LargeMatchResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  coupled: number;
  history: HistoryStats;
  memory: WorkerMemory;
}

/** One large run (count x count), the worker in a process of its own so its memory is measured too. */
export async function largeMatchRun(ctx: Ctx, count: number): Promise<LargeMatchResult> {
  const env = await openBenchEnv('sqlite');
  try {
    log(`seeding ${count} x ${count} rows for matching`);
    await seedMatch(env, count);
    const taskQueue = `match-large-${randomUUID()}`;
    const { result, memory } = await withWorkerChild(ctx, env, taskQueue, {}, async (child) => {
      const handle = await new CouplingSyncClient({ client: ctx.client, taskQueue }).startMatchBasedCoupling(MATCH_INPUT);
      const seconds = await timed(() => Promise.race([handle.result(), child.exited]));
      return { seconds, history: await historyStats(ctx.client, handle.workflowId, handle.firstExecutionRunId) };
    });
    const coupled = await env.store.countCouplings('BENCH');
    log(`large match: ${count} in ${round(result.seconds, 1)} s, ${coupled} coupled, ${result.history.maxEvents} history events at most per run`);
    return { records: count, seconds: result.seconds, recordsPerSecond: count / result.seconds, coupled, history: result.history, memory };
  } finally {
    await env.close();
  }
}
