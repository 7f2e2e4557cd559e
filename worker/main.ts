/**
 * The standalone worker: connects to Temporal (TEMPORAL_* variables), opens the
 * store (DATABASE_URL) and the systems (SYSTEMS_CONFIG, or the demo's), and runs
 * until SIGINT/SIGTERM, finishing the activities in flight.
 */
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { Store } from '../store/store';
import { temporalConfigFromEnv } from './config';
import { createWorker } from './create-worker';
import { runMain } from '../support/fatal';
import { demoSystems, systemsFromFile } from './systems-config';
import { Client } from '@temporalio/client';
import { LiveSync } from '../client/live-sync';
import { ChangeFeed } from './receivers/change-feed';
import { PgChangeListener } from './receivers/pg-listen';
import { NotifyBatcher } from './receivers/notify-batcher';
import { startBcLive } from './receivers/bc-live';
import { startDataverseLive } from './receivers/dataverse-live';

/** A comma-separated list of mapping names from a variable (none when unset). */
function mappingList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
}

/** LIVE_SYNC_FEED_MS: a whole number of milliseconds, at least 50. */
function feedInterval(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{2,7}$/.test(value.trim()) || Number(value) < 50) throw new Error(`LIVE_SYNC_FEED_MS: "${value}" is not a whole number of milliseconds from 50 up.`);
  return Number(value);
}

/** A receiver's port (BC_WEBHOOK_PORT, 8787 by default; DATAVERSE_WEBHOOK_PORT, 8788). */
function webhookPort(value: string | undefined, fallback = 8787): number {
  if (value === undefined || value === '') return fallback;
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65_535)) throw new Error(`Webhook port: "${value}" is not a port from 1 to 65535.`);
  return port;
}

async function main(): Promise<void> {
  const temporal = temporalConfigFromEnv();
  const store = Store.open({ databaseUrl: process.env.DATABASE_URL });
  await store.migrate();
  const opened = process.env.SYSTEMS_CONFIG ? systemsFromFile(process.env.SYSTEMS_CONFIG) : demoSystems(path.resolve('data'));
  const connection = await NativeConnection.connect({ address: temporal.address, tls: temporal.tls, apiKey: temporal.apiKey });
  try {
    const worker = await createWorker({
      connection,
      store,
      systems: opened.systems,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      log: console.log,
    });
    console.log(`Worker listening on task queue "${temporal.taskQueue}" at ${temporal.address} (namespace ${temporal.namespace}).`);
    // Every receiver's notifications, gathered for 50 ms per mapping and side into one signal (worker/receivers/notify-batcher.ts).
    const notifier = new NotifyBatcher(new LiveSync(new Client({ connection, namespace: temporal.namespace }), temporal.taskQueue));
    // LIVE_SYNC_FEED=CUSTOMER,CONTACT: poll these mappings' tables for changes and live-sync them (worker/receivers).
    const watched = mappingList(process.env.LIVE_SYNC_FEED);
    const feed = watched.length
      ? new ChangeFeed({
          live: notifier,
          store,
          systems: opened.systems,
          mappings: watched,
          intervalMs: feedInterval(process.env.LIVE_SYNC_FEED_MS),
        })
      : null;
    await feed?.start();
    if (feed) console.log(`Change feed watching ${watched.join(', ')} every ${process.env.LIVE_SYNC_FEED_MS ?? 1000} ms.`);
    // LIVE_SYNC_LISTEN=CUSTOMER: LISTEN for these mappings' PostgreSQL tables' change triggers (connectors/knex-change-trigger.ts).
    const listened = mappingList(process.env.LIVE_SYNC_LISTEN);
    const listener = listened.length
      ? new PgChangeListener({
          live: notifier,
          store,
          systems: opened.systems,
          knexes: opened.knexes,
          mappings: listened,
          channel: process.env.LIVE_SYNC_CHANNEL,
        })
      : null;
    await listener?.start();
    if (listener) console.log(`Listening for changes to ${listener.watching.join('; ')}.`);
    // BC_WEBHOOKS=CUSTOMER: subscribe to these mappings' BC tables and live-sync what BC notifies.
    const bcMappings = mappingList(process.env.BC_WEBHOOKS);
    const bcLive = bcMappings.length
      ? await startBcLive({
          live: notifier,
          store,
          systems: opened.systems,
          mappings: bcMappings,
          clientState: process.env.BC_WEBHOOK_CLIENT_STATE ?? '',
          publicUrl: process.env.BC_WEBHOOK_PUBLIC_URL,
          host: process.env.BC_WEBHOOK_HOST,
          port: webhookPort(process.env.BC_WEBHOOK_PORT),
        })
      : null;
    if (bcLive) for (const [mapping, url] of Object.entries(bcLive.urls)) console.log(`BC webhooks of ${mapping} to ${url}`);
    // DATAVERSE_WEBHOOKS=CUSTOMER: register webhook steps on these mappings' Dataverse tables and live-sync what they post.
    const dvMappings = mappingList(process.env.DATAVERSE_WEBHOOKS);
    const dvLive = dvMappings.length
      ? await startDataverseLive({
          live: notifier,
          store,
          systems: opened.systems,
          mappings: dvMappings,
          key: process.env.DATAVERSE_WEBHOOK_KEY ?? '',
          publicUrl: process.env.DATAVERSE_WEBHOOK_PUBLIC_URL,
          host: process.env.DATAVERSE_WEBHOOK_HOST,
          port: webhookPort(process.env.DATAVERSE_WEBHOOK_PORT, 8788),
        })
      : null;
    if (dvLive) for (const [mapping, url] of Object.entries(dvLive.urls)) console.log(`Dataverse webhooks of ${mapping} to ${url}`);
    try {
      await worker.run();
    } finally {
      await feed?.stop();
      await listener?.stop();
      await bcLive?.close();
      await dvLive?.close();
      await notifier.close();
    }
  } finally {
    await connection.close();
    await opened.close();
    await store.close();
  }
}

runMain(main, () => ({ temporalAddress: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233', databaseUrl: process.env.DATABASE_URL ?? '' }));
