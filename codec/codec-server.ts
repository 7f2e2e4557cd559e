/**
 * A codec server for the Temporal Web UI and CLI: POST /decode and /encode
 * with `{"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}`
 * (Temporal's codec server protocol), answered the same way. The UI calls it
 * from the browser, so it answers CORS for the UI's origin only. Decoding
 * shows plaintext to whoever can reach it: it listens on 127.0.0.1 unless told
 * otherwise, and with a token set it requires `Authorization: Bearer <token>`
 * (the UI can pass the user's access token; see README).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** @default 8888 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Origins allowed to call from a browser, e.g. the Web UI's. @default ['http://localhost:8233'] */
  allowedOrigins?: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body accepted. @default 4 MiB (Temporal's payloads are at most 2 MiB each by default) */
  maxBodyBytes?: number;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class BadRequest extends Error {}

function fromJson(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new BadRequest('expected {"payloads": [...]}');
  return payloads.map((p: unknown, i) => {
    if (p === null || typeof p !== 'object') throw new BadRequest(`payloads[${i}] is not an object`);
    const { metadata, data } = p as JsonPayload;
    if (metadata !== undefined && (metadata === null || typeof metadata !== 'object')) throw new BadRequest(`payloads[${i}].metadata is not an object`);
    if (data !== undefined && typeof data !== 'string') throw new BadRequest(`payloads[${i}].data is not base64 text`);
    return {
      metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])),
      data: Buffer.from(data ?? '', 'base64'),
    };
  });
}

function toJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const allowed = new Set((options.allowedOrigins ?? ['http://localhost:8233']).map((o) => o.replace(/\/+$/, '')));
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Vary', 'Origin');
    }
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(origin && allowed.has(origin) ? 204 : 403);
      res.end();
      return;
    }
    const route = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
    if (req.method !== 'POST' || (route !== '/decode' && route !== '/encode')) {
      send(404, { error: 'POST /decode or /encode' });
      return;
    }
    // A browser on another site must not get plaintext: its origin is refused outright.
    if (origin && !allowed.has(origin)) {
      send(403, { error: `origin ${origin} is not allowed` });
      return;
    }
    if (options.token) {
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!sameToken(given, options.token)) {
        send(401, { error: 'missing or wrong bearer token' });
        return;
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        send(413, { error: `request body over ${maxBody} bytes` });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      void (async () => {
        try {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            throw new BadRequest('the body is not JSON');
          }
          const payloads = fromJson(body);
          const out = route === '/decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
          send(200, toJson(out));
        } catch (error) {
          // A payload that fails to decrypt is the caller's problem to see; the reason carries no plaintext.
          send(error instanceof BadRequest ? 400 : 422, { error: error instanceof Error ? error.message : String(error) });
        }
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8888, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
