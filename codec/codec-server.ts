/**
 * A codec server for the Temporal Web UI and CLI: POST /decode and /encode
 * with `{"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}`
 * (Temporal's codec server protocol), answered the same way. The UI calls it
 * from the browser, so it answers CORS for the UI's origin only. Decoding
 * shows plaintext to whoever can reach it: it listens on 127.0.0.1 unless told
 * otherwise, and on any other address only with a token. With a token set,
 * every request needs `Authorization: Bearer <token>` (the UI can pass the
 * user's access token; see README); without one, only the UI's origin is
 * answered (a request with no Origin header is not a browser's, and is refused).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { isLoopbackHost } from '../common/loopback';

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

/** The codec server would answer other machines without asking for a token. */
export class CodecServerConfigError extends Error {
  override readonly name = 'CodecServerConfigError';
}

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

/** The credential of an `Authorization: Bearer <token>` header; the scheme's name is case-insensitive (RFC 9110). */
function bearerToken(header: string | undefined): string {
  return /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1] ?? '';
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const allowed = new Set((options.allowedOrigins ?? ['http://localhost:8233']).map((o) => o.replace(/\/+$/, '')));
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const host = options.host ?? '127.0.0.1';
  if (!options.token && !isLoopbackHost(host)) {
    throw new CodecServerConfigError(
      `The codec server would listen on ${host}, which other machines can reach, with no token: anyone reaching it could read every payload. Set a token (CODEC_SERVER_TOKEN) or listen on 127.0.0.1 (CODEC_SERVER_HOST).`,
    );
  }

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
      if (!sameToken(bearerToken(req.headers.authorization), options.token)) {
        send(401, { error: 'missing or wrong bearer token' });
        return;
      }
    } else if (!origin) {
      // Without a token, the UI's origin is the only credential: a caller that sends none is not the UI.
      send(403, { error: 'a request without an Origin header needs the bearer token; start the codec server with CODEC_SERVER_TOKEN' });
      return;
    }
    // Too large: answered 413 while the rest of the body is read and dropped. Closing with the body
    // unread would reset the connection, and a client still sending would never see the answer.
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      if (res.headersSent) return;
      chunks.length = 0;
      send(413, { error: `request body over ${maxBody} bytes` });
    };
    if (Number(req.headers['content-length']) > maxBody) tooLarge();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) tooLarge();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
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
    server.listen(options.port ?? 8888, host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
