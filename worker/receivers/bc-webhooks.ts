/**
 * Business Central webhook receiver: one HTTP endpoint per watched mapping
 * (`/webhooks/bc/<mapping>`) that answers BC's validation handshake (the
 * `validationToken` it is sent, echoed as text) and turns notifications into
 * live-sync changes: `created`, `updated` and `deleted` name records (the id
 * in the resource), `collection` means many changed. Every notification must
 * carry the route's clientState: a request with any other is refused (401) and
 * starts nothing, as is one that is not a notification list (400).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sameSecret } from './http-input';
import type { LiveNotifier } from './notify-batcher';
import { MAX_RECORD_IDS } from '../../common/constants';
import type { Side } from '../../common/types';

export interface BcWebhookRoute {
  mapping: string;
  /** The side of the mapping that is Business Central. */
  side: Side;
  /** The secret each notification carries (given to BC when subscribing). */
  clientState: string;
}

export interface BcWebhookReceiverOptions {
  live: LiveNotifier;
  routes: readonly BcWebhookRoute[];
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
}

export interface BcWebhookReceiver {
  /** The notificationUrl to subscribe with for a mapping. */
  url(mapping: string): string;
  /** Requests answered, by status, for tests and logs. */
  answered: Record<number, number>;
  close(): Promise<void>;
}

const RECORD_ID = /\(([0-9a-fA-F-]{36})\)$/;

/** The changes a notification list names, or why it is refused. */
export function changesOf(body: string, clientState: string): { status: 400 | 401; reason: string } | { ids: string[]; many: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 400, reason: 'not JSON' };
  }
  const value = (parsed as { value?: unknown } | null)?.value;
  if (!Array.isArray(value) || value.length === 0) return { status: 400, reason: 'no "value" list of notifications' };
  const ids = new Set<string>();
  let many = false;
  for (const n of value as Record<string, unknown>[]) {
    if (typeof n !== 'object' || n === null) return { status: 400, reason: 'a notification is not an object' };
    if (typeof n.clientState !== 'string' || !sameSecret(n.clientState, clientState))
      return { status: 401, reason: 'a notification does not carry the clientState' };
    if (n.changeType === 'collection') many = true;
    else if (n.changeType === 'created' || n.changeType === 'updated' || n.changeType === 'deleted') {
      const id = typeof n.resource === 'string' ? RECORD_ID.exec(n.resource)?.[1] : undefined;
      if (!id) return { status: 400, reason: 'a notification names no record' };
      ids.add(id.toLowerCase());
    } else return { status: 400, reason: `unknown changeType ${JSON.stringify(n.changeType)}` };
  }
  return { ids: [...ids], many: many || ids.size > MAX_RECORD_IDS };
}

export async function startBcWebhookReceiver(options: BcWebhookReceiverOptions): Promise<BcWebhookReceiver> {
  const routes = new Map(options.routes.map((r) => [r.mapping, r]));
  const answered: Record<number, number> = {};
  const answer = (response: ServerResponse, status: number, text = ''): void => {
    answered[status] = (answered[status] ?? 0) + 1;
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
  };
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://receiver');
      const m = /^\/webhooks\/bc\/([^/]+)$/.exec(url.pathname);
      const route = m ? routes.get(decodeURIComponent(m[1])) : undefined;
      if (!route) return answer(response, 404);
      if (request.method !== 'POST') return answer(response, 405);
      const token = url.searchParams.get('validationToken');
      // The handshake: BC checks that this endpoint is ours to send to.
      if (token !== null) return answer(response, 200, token);
      const body = await readBody(request);
      if (body === null) return answer(response, 413);
      const changes = changesOf(body, route.clientState);
      if ('status' in changes) return answer(response, changes.status, changes.reason);
      if (changes.many) await options.live.notify(route.mapping, { side: route.side, many: true });
      else await options.live.notify(route.mapping, { side: route.side, ids: changes.ids });
      answer(response, 202);
    })().catch(() => answer(response, 500));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (mapping) => `http://${options.host ?? '127.0.0.1'}:${port}/webhooks/bc/${encodeURIComponent(mapping)}`,
    answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
