/**
 * One Temporal dev server and one workflow bundle for the whole Jest run. Test
 * files reach them through the environment variables set here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort } from './helpers/free-port';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServerWithUi } from '../worker/dev-server';
import { resolveTemporalCli } from '../worker/temporal-cli';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../worker/create-worker';

declare global {
  var __TEMPORAL_ENV__: { teardown(): Promise<void> } | undefined;
}

/** What Jest hands the global set-up: how many workers run test files at once. */
interface JestGlobalConfig {
  maxWorkers?: number;
}

export default async function globalSetup(globalConfig: JestGlobalConfig = {}): Promise<void> {
  const cli = await resolveTemporalCli({ log: (l) => console.log(`\n${l}`) });
  console.log(`\nTemporal CLI: ${cli.path ?? 'SDK download'} (${cli.source})`);
  // One dev server per Jest worker (test/worker-server.ts picks its own): workflow ids, Schedules and
  // search attributes are per namespace, so two files at once must not share one.
  const workers = Math.max(1, globalConfig.maxWorkers ?? 1);
  const servers = await Promise.all(Array.from({ length: workers }, () => startDevServerWithUi(freePort, { log: (l) => console.log(`\n${l}`) })));
  servers.forEach(({ env, uiPort }, i) => {
    process.env[`TEMPORAL_TEST_ADDRESS_${i + 1}`] = env.address;
    process.env[`TEMPORAL_TEST_UI_URL_${i + 1}`] = `http://localhost:${uiPort}`;
  });
  const { env, uiPort } = servers[0];
  process.env.TEMPORAL_TEST_UI_URL = `http://localhost:${uiPort}`;
  globalThis.__TEMPORAL_ENV__ = { teardown: async () => void (await Promise.all(servers.map((s) => s.env.teardown()))) };
  process.env.TEMPORAL_TEST_ADDRESS = env.address;
  const dir = path.resolve('.cache');
  mkdirSync(dir, { recursive: true });
  const bundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    ...WORKFLOW_BUNDLER_OPTIONS,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
  const bundlePath = path.join(dir, 'test-workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.TEMPORAL_TEST_BUNDLE = bundlePath;
  console.log(
    `Temporal dev server${workers > 1 ? 's' : ''} at ${servers.map((x) => x.env.address).join(', ')} (Web UI ${process.env.TEMPORAL_TEST_UI_URL}); workflow bundle ${(bundle.code.length / 1024).toFixed(0)} KiB`,
  );
}
