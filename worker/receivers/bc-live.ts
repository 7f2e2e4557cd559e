/**
 * Live sync from Business Central webhooks, as the worker runs it: the
 * receiver (bc-webhooks.ts) for the watched mappings, and one subscription per
 * mapping's BC table, made now and renewed before it expires (BC keeps one
 * three days), checked every `renewEveryMs`.
 */
import type { LiveNotifier } from './notify-batcher';
import type { Systems } from '../../activities/deps';
import { BusinessCentralConnector } from '../../connectors/business-central';
import type { Side } from '../../common/types';
import type { Store } from '../../store/store';
import { startBcWebhookReceiver, type BcWebhookRoute } from './bc-webhooks';
import { serviceSide } from './http-input';

export interface BcLiveOptions {
  live: LiveNotifier;
  store: Store;
  systems: Systems;
  mappings: readonly string[];
  /** The secret every notification must carry (at least 16 characters). */
  clientState: string;
  /** The base URL BC reaches the receiver at (a reverse proxy with TLS); the receiver's own address when absent. */
  publicUrl?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default one hour */
  renewEveryMs?: number;
  warn?: (message: string) => void;
}

export async function startBcLive(options: BcLiveOptions): Promise<{ urls: Record<string, string>; close(): Promise<void> }> {
  if (options.clientState.length < 16) throw new Error('BC_WEBHOOK_CLIENT_STATE: use a secret of at least 16 characters.');
  const watched: { mapping: string; side: Side; connector: BusinessCentralConnector; table: string }[] = [];
  for (const name of options.mappings) {
    const bc = serviceSide(
      await options.store.requireMapping(name),
      options.systems,
      (c): c is BusinessCentralConnector => c instanceof BusinessCentralConnector,
    );
    if (!bc) throw new Error(`BC_WEBHOOKS: mapping ${name} has no Business Central side.`);
    watched.push({ mapping: name, ...bc });
  }
  const routes: BcWebhookRoute[] = watched.map((w) => ({ mapping: w.mapping, side: w.side, clientState: options.clientState }));
  const receiver = await startBcWebhookReceiver({ live: options.live, routes, host: options.host, port: options.port });
  const urlOf = (mapping: string): string =>
    options.publicUrl ? `${options.publicUrl.replace(/\/$/, '')}/webhooks/bc/${encodeURIComponent(mapping)}` : receiver.url(mapping);
  const warn = options.warn ?? console.warn;
  const ensureAll = async (): Promise<void> => {
    for (const w of watched) {
      try {
        await w.connector
          .subscriptions()
          .ensure({ notificationUrl: urlOf(w.mapping), entitySet: w.connector.entitySetOf(w.table), clientState: options.clientState });
      } catch (error) {
        warn(`BC webhook subscription of ${w.mapping}: ${(error as Error).message}; trying again at the next check.`);
      }
    }
  };
  await ensureAll();
  const timer = setInterval(() => void ensureAll(), options.renewEveryMs ?? 3_600_000);
  return {
    urls: Object.fromEntries(watched.map((w) => [w.mapping, urlOf(w.mapping)])),
    close: async () => {
      clearInterval(timer);
      await receiver.close();
    },
  };
}
