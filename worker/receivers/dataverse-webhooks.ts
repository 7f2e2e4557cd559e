/**
 * Dataverse webhook receiver: `POST /webhooks/dataverse/<mapping>` takes the
 * RemoteExecutionContext a step posts (Create, Update or Delete of the
 * mapping's Dataverse table) and tells live sync which record changed. Every
 * post must carry the route's header (registered as the endpoint's HttpHeader
 * authentication): without it, 401; a body that is not such a context, 400;
 * neither starts anything.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sameSecret } from './http-input';
import type { LiveNotifier } from './notify-batcher';
import type { Side } from '../../common/types';

export interface DataverseWebhookRoute {
  mapping: string;
  side: Side;
  /** The Dataverse table's logical name: a context for another table is refused. */
  logicalName: string;
  /** The header (name lower-case) and its secret value every post carries. */
  header: { name: string; value: string };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record a posted execution context names, or why it is refused. */
export function recordOf(body: string, logicalName: string): { id: string } | { reason: string } {
  let context: Record<string, unknown>;
  try {
    context = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { reason: 'not JSON' };
  }
  if (typeof context !== 'object' || context === null) return { reason: 'not an execution context' };
  if (!['Create', 'Update', 'Delete'].includes(String(context.MessageName)))
    return { reason: `message ${JSON.stringify(context.MessageName)} is not Create, Update or Delete` };
  if (context.PrimaryEntityName !== logicalName) return { reason: `table ${JSON.stringify(context.PrimaryEntityName)} is not ${logicalName}` };
  const id = String(context.PrimaryEntityId ?? '');
  return GUID.test(id) ? { id: id.toLowerCase() } : { reason: 'no record id' };
}

export async function startDataverseWebhookReceiver(options: {
  live: LiveNotifier;
  routes: readonly DataverseWebhookRoute[];
  host?: string;
  port?: number;
}): Promise<{ url(mapping: string): string; answered: Record<number, number>; close(): Promise<void> }> {
  const routes = new Map(options.routes.map((r) => [r.mapping, r]));
  const answered: Record<number, number> = {};
  const server = createServer((request, response) => {
    const answer = (status: number, text = ''): void => {
      answered[status] = (answered[status] ?? 0) + 1;
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
    };
    void (async () => {
      const m = /^\/webhooks\/dataverse\/([^/?]+)/.exec(request.url ?? '');
      const route = m ? routes.get(decodeURIComponent(m[1])) : undefined;
      if (!route) return answer(404);
      if (request.method !== 'POST') return answer(405);
      const given = request.headers[route.header.name.toLowerCase()];
      if (typeof given !== 'string' || !sameSecret(given, route.header.value)) return answer(401);
      const body = await readBody(request);
      if (body === null) return answer(413);
      const record = recordOf(body, route.logicalName);
      if ('reason' in record) return answer(400, record.reason);
      await options.live.notify(route.mapping, { side: route.side, ids: [record.id] });
      answer(202);
    })().catch(() => answer(500));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (mapping) => `http://${options.host ?? '127.0.0.1'}:${port}/webhooks/dataverse/${encodeURIComponent(mapping)}`,
    answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
