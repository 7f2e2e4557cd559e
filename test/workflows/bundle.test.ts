/** The workflow bundle stays deterministic and small: no worker-only module may reach it. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const FORBIDDEN = /from '(knex|pg|sqlite3|node:[a-z]+|fs|path|crypto|\.\.\/(activities|connectors|store|worker|plugin|client)(\/[^']*)?)'/;

test('workflow code imports worker-only modules as types at most', () => {
  const dir = path.resolve('workflows');
  const offenders: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (/^import (?!type )/.test(line) && FORBIDDEN.test(line)) offenders.push(`${file}: ${line}`);
    }
  }
  expect(offenders).toEqual([]);
});

test('the prebuilt bundle has no Knex, no database driver and no connector', () => {
  const bundlePath = process.env.TEMPORAL_TEST_BUNDLE;
  expect(bundlePath).toBeDefined();
  const code = readFileSync(bundlePath as string, 'utf8');
  expect(code).not.toMatch(/node_modules\/knex\//);
  expect(code).not.toMatch(/node_modules\/(pg|sqlite3)\//);
  expect(code).not.toMatch(/knex-table-connector/);
  expect(code).toMatch(/bulkSyncWorkflow/);
});

test('workflow code loads zod and the input schemas only when it validates (run-support), not at import', () => {
  // zod cannot be preloaded (it breaks when frozen), so every run that imports it evaluates it again; it costs more than a single sync.
  const dir = path.resolve('workflows');
  const offenders: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (/^import (?!type )/.test(line) && /from '(zod|\.\.\/common\/inputs)'/.test(line)) offenders.push(`${file}: ${line}`);
    }
  }
  expect(offenders).toEqual([]);
});
