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

export default async function globalSetup(): Promise<void> {
  const cli = await resolveTemporalCli({ log: (l) => console.log(`\n${l}`) });
  console.log(`\nTemporal CLI: ${cli.path ?? 'SDK download'} (${cli.source})`);
  const { env, uiPort } = await startDevServerWithUi(freePort, { log: (l) => console.log(`\n${l}`) });
  process.env.TEMPORAL_TEST_UI_URL = `http://localhost:${uiPort}`;
  globalThis.__TEMPORAL_ENV__ = env;
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
    `Temporal dev server at ${env.address} (Web UI ${process.env.TEMPORAL_TEST_UI_URL}); workflow bundle ${(bundle.code.length / 1024).toFixed(0)} KiB`,
  );
}
