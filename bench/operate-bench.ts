/**
 * Issue #18's figures: how fast the console answers a page when a mapping has
 * 100,000 error rows and 100,000 failed couplings (first page and a page deep
 * in, by keyset), and how fast the CLI starts (`--help`, and a store read),
 * beside `node -e ""` measured in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CouplingSyncClient } from '../client';
import type { SyncSchedules } from '../client/schedules';
import { startConsole } from '../console/server';
import { Store } from '../store/store';
import { TABLES } from '../store/tables';
import { log, median, round } from './stats';

export interface OperateSamples {
  rows: number;
  pages: Record<string, number[]>;
  cli: { help: number[]; storeRead: number[]; nodeBaseline: number[] };
}

const MAPPING = 'OPERATE_BENCH';

async function seed(store: Store, rows: number): Promise<void> {
  await store.saveMapping({
    name: MAPPING,
    local: { system: 'local', table: 'customer' },
    integration: { system: 'integration', table: 'account' },
    direction: 'Bidirectional',
    fields: [{ localField: 'name', integrationField: 'name', direction: 'Bidirectional' }],
  });
  const at = new Date().toISOString();
  const chunk = 500;
  for (let i = 0; i < rows; i += chunk) {
    const n = Math.min(chunk, rows - i);
    await store.knex(TABLES.jobErrors).insert(
      Array.from({ length: n }, (_, k) => ({
        job_id: `job-${Math.floor((i + k) / 1000)}`,
        mapping_name: MAPPING,
        source_record_id: `R${i + k}`,
        destination_record_id: null,
        message: `The record was changed on both sides since the last synchronization (${i + k})`,
        attempts: 1,
        created_at: at,
      })),
    );
    await store.knex(TABLES.couplings).insert(
      Array.from({ length: n }, (_, k) => ({
        mapping_name: MAPPING,
        local_system: 'local',
        local_table: 'customer',
        local_id: `C${i + k}`,
        integration_system: 'integration',
        integration_table: 'account',
        integration_id: `A${i + k}`,
        last_to_integration_result: 'Failure',
        to_integration_failure_count: 1,
        to_integration_last_error: 'The record was changed on both sides since the last synchronization',
        created_at: at,
        updated_at: at,
      })),
    );
  }
}

function wall(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) =>
    execFile(command, args, { env, cwd: path.resolve('.') }, (error) => (error ? reject(error) : resolve(performance.now() - started))),
  );
}

export async function operateRuns(rows: number, requests: number): Promise<OperateSamples> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'operate-bench-'));
  const databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
  const store = Store.open({ databaseUrl });
  try {
    await store.migrate();
    log(`operate: seeding ${rows} error rows and ${rows} failed couplings`);
    await seed(store, rows);
    // Pages read the store alone; Temporal is not asked for them.
    const never = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by these pages')) });
    const running = await startConsole({ store, sync: never as CouplingSyncClient, schedules: never as SyncSchedules, webUiUrl: null, namespace: 'default' });
    const pages: Record<string, number[]> = {};
    try {
      const deepError = (await store
        .knex(TABLES.jobErrors)
        .where('mapping_name', MAPPING)
        .orderBy('id', 'desc')
        .offset(Math.floor(rows / 2))
        .first('id')) as { id: number };
      const deepCoupling = (await store
        .knex(TABLES.couplings)
        .where('mapping_name', MAPPING)
        .orderBy('id')
        .offset(Math.floor(rows / 2))
        .first('id')) as { id: number };
      const urls: Record<string, string> = {
        errorsFirstPage: `/errors?mapping=${MAPPING}`,
        errorsDeepPage: `/errors?mapping=${MAPPING}&before=${deepError.id}`,
        failedFirstPage: `/couplings?mapping=${MAPPING}&view=failed`,
        failedDeepPage: `/couplings?mapping=${MAPPING}&view=failed&after=${deepCoupling.id}`,
        searchRecord: `/couplings?mapping=${MAPPING}&record=C${rows - 1}`,
        mappingsPage: '/mappings',
      };
      for (const [name, url] of Object.entries(urls)) {
        pages[name] = [];
        for (let i = 0; i < requests + 1; i++) {
          const started = performance.now();
          const response = await fetch(`${running.url}${url}`);
          const body = await response.text();
          if (response.status !== 200 || !body.includes('<table')) throw new Error(`${url} answered ${response.status}`);
          if (i > 0) pages[name].push(performance.now() - started); // the first warms the statement cache
        }
        log(`operate: ${name} p50 ${round(median(pages[name]), 1)} ms`);
      }
    } finally {
      await running.close();
    }

    const env = { ...process.env, DATABASE_URL: databaseUrl };
    const cli = path.resolve('bin/coupling-sync.js');
    await wall(process.execPath, [cli, '--help'], env); // builds the bundle when a source changed
    const samples = { help: [] as number[], storeRead: [] as number[], nodeBaseline: [] as number[] };
    for (let i = 0; i < 7; i++) {
      samples.nodeBaseline.push(await wall(process.execPath, ['-e', ''], env));
      samples.help.push(await wall(process.execPath, [cli, '--help'], env));
      samples.storeRead.push(await wall(process.execPath, [cli, 'jobs', '--json', '--limit', '5'], env));
    }
    log(
      `operate: CLI --help p50 ${round(median(samples.help))} ms, jobs ${round(median(samples.storeRead))} ms, node alone ${round(median(samples.nodeBaseline))} ms`,
    );
    return { rows, pages, cli: samples };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
