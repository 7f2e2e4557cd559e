/**
 * `npm run console`: the console alone, against any Temporal and store, with
 * the worker's environment variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TLS and API key, DATABASE_URL) and its own:
 *   COUPLING_SYNC_CONSOLE_HOST   where it listens (default 127.0.0.1)
 *   COUPLING_SYNC_CONSOLE_PORT   (default 8234)
 *   COUPLING_SYNC_CONSOLE_TOKEN  required on any address but loopback
 *   TEMPORAL_UI_URL              the Web UI runs link to (default http://localhost:8233)
 */
import { Client, Connection } from '@temporalio/client';
import { CouplingSyncClient } from '../client';
import { SyncSchedules } from '../client/schedules';
import { codecDataConverterFromEnv } from '../codec/aes-gcm-codec';
import { Store } from '../store/store';
import { runMain } from '../support/fatal';
import { registerSecret } from '../support/redact';
import { temporalConfigFromEnv } from '../worker/config';
import { startConsole, type ConsoleDeps, type RunningConsole } from './server';

export const DEFAULT_CONSOLE_PORT = 8234;

/** The console beside a worker (npm start) or alone: the caller owns the client and the store. */
export async function startConsoleFromEnv(
  deps: Omit<ConsoleDeps, 'webUiUrl'> & { webUiUrl?: string | null },
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningConsole> {
  const token = env.COUPLING_SYNC_CONSOLE_TOKEN?.trim() || null;
  if (token) registerSecret(token);
  return startConsole(
    { ...deps, webUiUrl: deps.webUiUrl ?? env.TEMPORAL_UI_URL ?? 'http://localhost:8233' },
    { host: env.COUPLING_SYNC_CONSOLE_HOST?.trim() || '127.0.0.1', port: Number(env.COUPLING_SYNC_CONSOLE_PORT ?? DEFAULT_CONSOLE_PORT), token },
  );
}

async function main(): Promise<void> {
  const config = temporalConfigFromEnv(process.env);
  const connection = await Connection.connect({ address: config.address, tls: config.tls, apiKey: config.apiKey });
  const client = new Client({ connection, namespace: config.namespace, dataConverter: codecDataConverterFromEnv() });
  const store = Store.open({ databaseUrl: process.env.DATABASE_URL });
  await store.migrate();
  const running = await startConsoleFromEnv({
    store,
    sync: new CouplingSyncClient({ client, taskQueue: config.taskQueue }),
    schedules: new SyncSchedules(client, config.taskQueue),
    namespace: config.namespace,
  });
  console.log(`Console: ${running.url} (Temporal ${config.address}, namespace ${config.namespace}). Ctrl-C stops it.`);
  const stop = async (): Promise<void> => {
    await running.close();
    await store.close();
    await connection.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (require.main === module) runMain(main);
