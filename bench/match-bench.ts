/**
 * Match-based coupling: `count` local records against `count` integration
 * records, two priority levels, about 70% matching; against the naive design of
 * one candidate query per record.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createWorker } from '../worker/create-worker';
import { benchMapping, FIELDS, openBenchEnv, row, type BenchEnv } from './fixtures';
import { ensureMatchIndexes } from '../connectors/knex-table-connector';
import { matchIndexFields } from '../domain/matching';
import { parseMappingDefinition } from '../domain/mapping';
import { rowsPerInsert } from '../store/database-url';
import { createNaiveActivities } from './naive-activities';

export interface MatchBenchOptions {
  client: Client;
  native: NativeConnection;
  bundleCode: string;
  runs: number;
  count: number;
  naiveCount: number;
  log: (line: string) => void;
  /** Give the integration table the match indexes (as a team should); off only to measure their effect. @default true */
  matchIndexes?: boolean;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Local rows R0..; integration rows: 50% match on f1 (other case), 20% only on f2, 30% nothing. */
async function seedMatch(env: BenchEnv, count: number, localCount = count, matchIndexes = true): Promise<void> {
  const stamp = new Date(Date.now() - 60_000).toISOString();
  const chunk = rowsPerInsert(env.local, FIELDS.length + 2);
  for (let start = 0; start < localCount; start += chunk) {
    const rows = [];
    for (let i = start; i < Math.min(localCount, start + chunk); i++) rows.push(row(i, stamp));
    await env.local('src').insert(rows);
  }
  for (let start = 0; start < count; start += chunk) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      const r = row(i, stamp);
      r.id = `I${String(i).padStart(8, '0')}`;
      const bucket = i % 10;
      if (bucket < 5) r.f1 = ` ${r.f1.toUpperCase()} `;
      else if (bucket < 7) r.f1 = `other-${i}`;
      else {
        r.f1 = `other-${i}`;
        r.f2 = `other-${i}`;
      }
      for (const f of FIELDS.slice(2)) r[f] = `${r[f]}x`;
      rows.push(r);
    }
    await env.integration('dst').insert(rows);
  }
  // Built after the rows (faster than maintaining it per insert) and before the clock starts: a schema step, once per table.
  if (matchIndexes) await ensureMatchIndexes(env.integration, 'dst', matchIndexFields(parseMappingDefinition(benchMapping())));
}

export async function runMatchBench(o: MatchBenchOptions): Promise<Record<string, unknown>> {
  const rates: number[] = [];
  const coupledCounts: number[] = [];
  for (let run = 0; run < o.runs; run++) {
    const env = await openBenchEnv('sqlite');
    try {
      await seedMatch(env, o.count, o.count, o.matchIndexes ?? true);
      const taskQueue = `match-${randomUUID()}`;
      const worker = await createWorker({ connection: o.native, store: env.store, systems: env.systems, taskQueue, workflowBundle: { code: o.bundleCode } });
      const started = process.hrtime.bigint();
      await worker.runUntil(() =>
        o.client.workflow.execute('matchBasedCouplingWorkflow', {
          taskQueue,
          workflowId: `match-${randomUUID()}`,
          args: [{ mapping: 'BENCH', batchSize: 1000 }],
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const coupled = await env.store.countCouplings('BENCH');
      coupledCounts.push(coupled);
      rates.push(o.count / seconds);
      o.log(`match run ${run + 1}: ${Math.round(rates[run])}/s, ${coupled} coupled of ${o.count}`);
    } finally {
      await env.close();
    }
  }
  const naiveRates: number[] = [];
  const naiveBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./naive-workflow'), logger: new DefaultLogger('WARN') });
  for (let run = 0; run < o.runs; run++) {
    const env = await openBenchEnv('sqlite');
    try {
      await seedMatch(env, o.count, o.naiveCount, o.matchIndexes ?? true);
      const taskQueue = `naive-match-${randomUUID()}`;
      const deps = { store: env.store, systems: env.systems };
      const worker = await Worker.create({
        connection: o.native,
        taskQueue,
        workflowBundle: { code: naiveBundle.code },
        activities: { ...createActivities(deps), ...createNaiveActivities(deps) },
      });
      const started = process.hrtime.bigint();
      await worker.runUntil(() =>
        o.client.workflow.execute('naiveMatchWorkflow', { taskQueue, workflowId: `naive-match-${randomUUID()}`, args: [{ mapping: 'BENCH' }] }),
      );
      naiveRates.push(o.naiveCount / (Number(process.hrtime.bigint() - started) / 1e9));
      o.log(`naive match run ${run + 1}: ${naiveRates[run].toFixed(1)}/s`);
    } finally {
      await env.close();
    }
  }
  const rps = median(rates);
  return {
    records: o.count,
    recordsPerSecond: Math.round(rps),
    coupled: median(coupledCounts),
    naiveRecordsPerSecond: Number(median(naiveRates).toFixed(1)),
    naiveRecords: o.naiveCount,
    vsNaive: Number((rps / median(naiveRates)).toFixed(1)),
    samples: { rates: rates.map(Math.round), naive: naiveRates.map((x) => Number(x.toFixed(1))) },
  };
}
