/**
 * Live sync from Dataverse webhooks, as the worker runs it: the receiver
 * (dataverse-webhooks.ts) for the watched mappings, and their service endpoint
 * and Create/Update/Delete steps registered at start (kept when there).
 */
import type { LiveNotifier } from './notify-batcher';
import type { Systems } from '../../activities/deps';
import { DataverseConnector } from '../../connectors/dataverse';
import type { Store } from '../../store/store';
import { startDataverseWebhookReceiver, type DataverseWebhookRoute } from './dataverse-webhooks';
import { serviceSide } from './http-input';

/** The header the steps send and the receiver checks. */
export const DATAVERSE_WEBHOOK_HEADER = 'x-coupling-sync-key';

export interface DataverseLiveOptions {
  live: LiveNotifier;
  store: Store;
  systems: Systems;
  mappings: readonly string[];
  /** The header's secret value (at least 16 characters). */
  key: string;
  /** The base URL Dataverse reaches the receiver at; the receiver's own address when absent. */
  publicUrl?: string;
  host?: string;
  port?: number;
}

export async function startDataverseLive(options: DataverseLiveOptions): Promise<{ urls: Record<string, string>; close(): Promise<void> }> {
  if (options.key.length < 16) throw new Error('DATAVERSE_WEBHOOK_KEY: use a secret of at least 16 characters.');
  const header = { name: DATAVERSE_WEBHOOK_HEADER, value: options.key };
  const watched: (DataverseWebhookRoute & { connector: DataverseConnector })[] = [];
  for (const name of options.mappings) {
    const dv = serviceSide(await options.store.requireMapping(name), options.systems, (c): c is DataverseConnector => c instanceof DataverseConnector);
    if (!dv) throw new Error(`DATAVERSE_WEBHOOKS: mapping ${name} has no Dataverse side.`);
    // A Dataverse table is configured under its logical name (e.g. "account").
    watched.push({ mapping: name, side: dv.side, logicalName: dv.table, header, connector: dv.connector });
  }
  const receiver = await startDataverseWebhookReceiver({ live: options.live, routes: watched, host: options.host, port: options.port });
  const urlOf = (mapping: string): string =>
    options.publicUrl ? `${options.publicUrl.replace(/\/$/, '')}/webhooks/dataverse/${encodeURIComponent(mapping)}` : receiver.url(mapping);
  for (const w of watched) {
    await w.connector.webhooks().ensure({ name: `coupling-sync ${w.mapping}`, url: urlOf(w.mapping), logicalName: w.logicalName, header });
  }
  return { urls: Object.fromEntries(watched.map((w) => [w.mapping, urlOf(w.mapping)])), close: () => receiver.close() };
}
