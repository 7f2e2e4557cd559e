/**
 * The package as a team gets it: `npm pack` (which builds dist/ first) holds
 * the compiled library, the CLI and the docs, and no tests, emulators or
 * benchmarks; installed into an empty project, its `coupling-sync` runs and
 * its three entry points load, the workflow-only one into a workflow bundle.
 *
 * Install scripts are skipped: sqlite3's would build from source on a machine
 * without internet (minutes), and nothing here opens a SQLite store. The
 * dependencies come from the npm cache `npm ci` filled (the registry only for
 * what it lacks).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let dir: string;
let packed: PackResult;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'npm-pack-'));
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: path.resolve('.'), maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
  // npm prints the prepack script's output before the JSON.
  packed = (JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as PackResult[])[0];
}, 200_000);

afterAll(() => {
  // The consumer project holds a whole node_modules.
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the compiled entry points, the CLI and the docs, and no tests, emulators or benchmarks', () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const expected of [
    'package.json',
    'README.md',
    'bin/coupling-sync.js',
    'docs/SECURITY.md',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/workflows/index.js',
    'dist/workflows/index.d.ts',
    'dist/cli/main.js',
    'dist/worker/main.js',
    'dist/codec/codec-server-main.js',
  ]) {
    expect(files).toContain(expected);
  }
  const unwanted = files.filter((f) => /(^|\/)(test|bench|emulators)\//.test(f) || /\.test\.|\.fault\./.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)));
  expect(unwanted).toEqual([]);
  expect(files.filter((f) => /demo\/(emulated-systems|demo-set)|start-dev|worker\/try/.test(f))).toEqual([]);
});

test('installed into an empty project: coupling-sync --help runs, and the plugin, client and workflows entry points load', async () => {
  const project = path.join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  await run(npm, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', path.join(dir, packed.filename)], {
    cwd: project,
    timeout: 240_000,
    maxBuffer: 64 * 1024 * 1024,
  });

  const help = await run(path.join(project, 'node_modules', '.bin', 'coupling-sync'), ['--help'], { cwd: project, timeout: 60_000 });
  expect(help.stdout).toMatch(/^Usage: coupling-sync \[options\] \[command\]/);
  expect(help.stdout).toMatch(/\bbulk\b.*\bjobs\b/s);

  const script = `
    const { bundleWorkflowCode } = require('@temporalio/worker');
    const main = require('temporal-coupling-sync');
    const client = require('temporal-coupling-sync/client');
    const workflows = require('temporal-coupling-sync/workflows');
    (async () => {
      const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('temporal-coupling-sync/workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
      console.log(JSON.stringify({
        plugin: typeof main.CouplingSyncPlugin, store: typeof main.Store, taskQueue: main.TASK_QUEUE,
        client: typeof client.CouplingSyncClient, schedules: typeof client.SyncSchedules,
        workflows: Object.keys(workflows).sort(), bundled: bundle.code.includes('bulkSyncWorkflow'),
      }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  // @temporalio/worker is the consumer's own, as it would be in a team's worker: a dependency of ours, hoisted.
  const loaded = await run(process.execPath, ['-e', script], { cwd: project, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  expect(JSON.parse(loaded.stdout.trim().split('\n').pop() as string)).toEqual({
    plugin: 'function',
    store: 'function',
    taskQueue: 'coupling-sync',
    client: 'function',
    schedules: 'function',
    workflows: [
      'bulkSyncWorkflow',
      'describeMappingWorkflow',
      'fullSynchronizationWorkflow',
      'liveSyncWorkflow',
      'logRetentionWorkflow',
      'matchBasedCouplingWorkflow',
      'retryFailedWorkflow',
      'setUpCouplingWorkflow',
      'singleSyncWorkflow',
      'uncoupleWorkflow',
    ],
    bundled: true,
  });
}, 400_000);
