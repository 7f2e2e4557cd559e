/**
 * Starts the Temporal dev server (Web UI included) from the resolved CLI, with
 * our search attributes registered. Used by `npm start`, the tests and the benchmarks.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_KEYS } from '../common/search-attributes';
import { cliUnavailableMessage, resolveTemporalCli, TemporalCliNotFoundError } from './temporal-cli';

export interface DevServerOptions {
  /** gRPC port; a free one when absent. */
  port?: number;
  /** Web UI port; no UI when absent. */
  uiPort?: number;
  /** Persist the server's state in this SQLite file; in memory when absent. */
  dbFilename?: string;
  /** Where progress lines go. */
  log?: (line: string) => void;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = await resolveTemporalCli({ log: options.log });
  // One partition per task queue: with the default four, a task and a waiting poller often sit on
  // different partitions and every dispatch pays a forwarding hop (~40 ms each on a dev server).
  const extraArgs: string[] = [
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    // Lets a worker run an activity it schedules at once, without a round trip through matching.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // Lets a client that shares its NativeConnection with a worker get the first workflow task in
    // the start response (CouplingSyncClient's eagerStart); other starts are unaffected.
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
    // The transfer queue (which hands a new workflow task to matching) reads new tasks at most
    // 20 times a second by default: a start then waits ~25 ms for the next read, half of a
    // single-record sync's latency. 200 reads/s cut that to ~3 ms; at 1,000 the smaller
    // batches cost more server CPU under load (empty workflows: ~54/s vs ~63/s at 20 or 200).
    // Reads still happen only when there are new tasks: idle CPU is unchanged.
    '--dynamic-config-value',
    'history.transferProcessorMaxPollRPS=200',
  ];
  if (options.dbFilename) {
    // A file-backed server spends most of its time in fsync without these.
    extraArgs.push('--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  }
  try {
    return await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli.executable,
        port: options.port,
        ui: options.uiPort !== undefined,
        uiPort: options.uiPort,
        dbFilename: options.dbFilename,
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        extraArgs,
        log: { format: 'pretty', level: 'error' },
      },
    });
  } catch (error) {
    if (cli.source === 'sdk download') throw new TemporalCliNotFoundError(cliUnavailableMessage(error));
    throw error;
  }
}

/**
 * Starts the dev server with its Web UI on a port `pickPort` chooses, choosing
 * again when the server could not start: a port free when chosen may be taken
 * before the UI binds it (the server picks its own other ports meanwhile).
 */
export async function startDevServerWithUi(
  pickPort: () => Promise<number>,
  options: Omit<DevServerOptions, 'uiPort'> = {},
  attempts = 3,
): Promise<{ env: TestWorkflowEnvironment; uiPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const uiPort = await pickPort();
    try {
      return { env: await startDevServer({ ...options, uiPort }), uiPort };
    } catch (error) {
      if (attempt >= attempts || error instanceof TemporalCliNotFoundError) throw error;
      options.log?.(`The dev server did not start with its Web UI on port ${uiPort} (${(error as Error).message.split('\n')[0]}); trying another port.`);
    }
  }
}
