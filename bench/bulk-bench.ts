/**
 * Bulk sync of `count` records on one dialect, each run with fresh databases
 * and three parts side by side: the floor (bench/floor.ts), the raw limit
 * (bench/raw-limit.ts) and ours (bulkSyncWorkflow on the dev server), each
 * measured for inserts (an empty destination) and then updates (one field of
 * every source record changed). Every part checks that all rows landed.
 */
import type { Knex } from 'knex';
import { withBenchWorker, type Ctx } from './context';
import { openBenchEnv, seed, type BenchEnv } from './fixtures';
import { floorPass } from './floor';
import { rawLimitRun } from './raw-limit';
import { log, round, timed } from './stats';

export interface BulkSamples {
  inserts: number[];
  updates: number[];
  floorInserts: number[];
  floorUpdates: number[];
  rawInserts: number[];
  rawUpdates: number[];
}

const BULK_INPUT = { mapping: 'BENCH', batchSize: 1000, maxBatchesInFlight: 4 };

async function countWhere(db: Knex, changed: boolean): Promise<number> {
  const query = db('dst');
  if (changed) query.where('f3', 'like', '%-changed');
  const [row] = await query.count({ n: '*' });
  return Number(row.n);
}

async function expectRows(db: Knex, what: string, count: number, changed: boolean): Promise<void> {
  const n = await countWhere(db, changed);
  if (n !== count) throw new Error(`${what} left ${n} ${changed ? 'changed ' : ''}rows, expected ${count}`);
}

/** The source change every update run syncs: one field of every record, and its modified-on. */
async function changeSource(env: BenchEnv): Promise<void> {
  await env.local('src').update({ f3: env.local.raw("f3 || '-changed'"), modified_on: new Date().toISOString() });
}

async function withEnv<T>(dialect: 'sqlite' | 'postgres', fn: (env: BenchEnv) => Promise<T>): Promise<T> {
  const env = await openBenchEnv(dialect);
  try {
    return await fn(env);
  } finally {
    await env.close();
  }
}

export async function bulkRuns(ctx: Ctx, dialect: 'sqlite' | 'postgres', count: number): Promise<BulkSamples> {
  const s: BulkSamples = { inserts: [], updates: [], floorInserts: [], floorUpdates: [], rawInserts: [], rawUpdates: [] };
  for (let run = 0; run < ctx.runs; run++) {
    await withEnv(dialect, async (env) => {
      await seed(env.local, 'src', count);
      s.floorInserts.push(count / (await timed(() => floorPass(env))));
      await expectRows(env.integration, 'floor insert', count, false);
      await changeSource(env);
      s.floorUpdates.push(count / (await timed(() => floorPass(env))));
      await expectRows(env.integration, 'floor update', count, true);
    });
    await withEnv(dialect, async (env) => {
      const raw = await rawLimitRun(env, count);
      await expectRows(env.integration, 'raw update', count, true);
      s.rawInserts.push(count / raw.inserts);
      s.rawUpdates.push(count / raw.updates);
    });
    await withEnv(dialect, async (env) => {
      await seed(env.local, 'src', count);
      await withBenchWorker(ctx, env, async (sync) => {
        s.inserts.push(count / (await timed(() => sync.bulkSync(BULK_INPUT))));
        await expectRows(env.integration, 'bulk insert', count, false);
        await changeSource(env);
        s.updates.push(count / (await timed(() => sync.bulkSync(BULK_INPUT))));
        await expectRows(env.integration, 'bulk update', count, true);
      });
    });
    const r = (xs: number[]): number => round(xs[run]);
    log(
      `${dialect} run ${run + 1}: ours insert ${r(s.inserts)}/s update ${r(s.updates)}/s; floor insert ${r(s.floorInserts)}/s update ${r(s.floorUpdates)}/s; ` +
        `raw limit insert ${r(s.rawInserts)}/s update ${r(s.rawUpdates)}/s`,
    );
  }
  return s;
}
