/**
 * The part every service emulator shares: an HTTP server on a free port with an
 * Entra ID token endpoint, bearer-token checks, the services' request limits
 * (requests per window, concurrent requests) and injectable faults, plus a
 * request log tests read. EMULATOR: it stands in for Microsoft's services,
 * which cannot be reached from here; it implements only the rules the
 * connectors rely on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface EmulatorRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Fault =
  /** Answer 429 with this Retry-After (seconds) instead of serving. */
  | { kind: 'throttle'; retryAfterSeconds: number }
  /** Answer with a server error. */
  | { kind: 'serverError'; status?: number }
  /** Serve after a delay. */
  | { kind: 'slow'; delayMs: number }
  /** Serve (the write is applied) and then drop the connection without answering. */
  | { kind: 'dropAfterWrite' };

export interface FaultRule {
  fault: Fault;
  /** How many requests it applies to. */
  times: number;
  /** Which requests; all when absent. */
  when?: (request: EmulatorRequest) => boolean;
}

export interface LogEntry {
  method: string;
  url: string;
  status: number;
  /** Operations in a $batch request, as the handler's `countOperations` counts them (1 otherwise). */
  operations: number;
  at: number;
}

export interface EmulatorLimits {
  /** Service protection: requests per window per client (Dataverse: 6,000 per 5 minutes). */
  requestsPerWindow: number;
  windowMs: number;
  /** Concurrent requests per client (Dataverse: 52). */
  maxConcurrent: number;
}

export interface EmulatorOptions {
  clientId: string;
  clientSecret: string;
  limits: EmulatorLimits;
  /** Token lifetime in seconds. @default 3600 */
  tokenLifetimeSeconds?: number;
}

export type Handler = (request: EmulatorRequest) => Promise<EmulatorResponse> | EmulatorResponse;

export interface RunningEmulator {
  /** http://127.0.0.1:port */
  origin: string;
  /** Token endpoint in the Entra ID v2 shape for tenant "emulator". */
  tokenUrl: string;
  log: LogEntry[];
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export function odataError(status: number, code: string, message: string, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify({ error: { code, message } }) };
}

export async function startEmulatorServer(
  options: EmulatorOptions,
  handler: Handler,
  countOperations: (request: EmulatorRequest) => number = () => 1,
): Promise<RunningEmulator> {
  const tokens = new Map<string, number>();
  const faults: FaultRule[] = [];
  const log: LogEntry[] = [];
  const windowStarts: number[] = [];
  let inFlight = 0;

  const serve = async (request: EmulatorRequest): Promise<EmulatorResponse & { drop?: boolean }> => {
    if (request.method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(request.url.split('?')[0])) {
      const form = new URLSearchParams(request.body);
      if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: JSON.stringify({ error: 'unsupported_grant_type' }) };
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return { status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }) };
      }
      if (!form.get('scope')?.endsWith('/.default')) return { status: 400, body: JSON.stringify({ error: 'invalid_scope' }) };
      const token = randomUUID();
      const lifetime = options.tokenLifetimeSeconds ?? 3600;
      tokens.set(token, Date.now() + lifetime * 1000);
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token_type: 'Bearer', expires_in: lifetime, access_token: token }),
      };
    }
    const auth = request.headers.authorization ?? '';
    const expires = tokens.get(auth.replace(/^Bearer /, ''));
    if (expires === undefined || expires < Date.now()) return odataError(401, 'Unauthorized', 'The access token is missing, invalid or expired.');

    const now = Date.now();
    while (windowStarts.length > 0 && windowStarts[0] <= now - options.limits.windowMs) windowStarts.shift();
    if (windowStarts.length >= options.limits.requestsPerWindow) {
      const retryAfter = Math.max(1, Math.ceil((windowStarts[0] + options.limits.windowMs - now) / 1000));
      return odataError(429, '0x80072322', 'Number of requests exceeded the limit.', { 'Retry-After': String(retryAfter) });
    }
    if (inFlight > options.limits.maxConcurrent) {
      return odataError(429, '0x80072326', 'Number of concurrent requests exceeded the limit.', { 'Retry-After': '1' });
    }
    windowStarts.push(now);

    const rule = faults.find((f) => f.times > 0 && (!f.when || f.when(request)));
    if (rule) rule.times--;
    const fault = rule?.fault;
    if (fault?.kind === 'throttle')
      return odataError(429, '0x80072321', 'Combined execution time of incoming requests exceeded limit.', { 'Retry-After': String(fault.retryAfterSeconds) });
    if (fault?.kind === 'serverError') return odataError(fault.status ?? 500, 'InternalServerError', 'An unexpected error occurred (injected).');
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
    const response = await handler(request);
    return fault?.kind === 'dropAfterWrite' ? { ...response, drop: true } : response;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: EmulatorRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      inFlight++;
      void serve(request)
        .catch((error: unknown) => odataError(500, 'EmulatorError', error instanceof Error ? error.message : String(error)))
        .then((response) => {
          inFlight--;
          log.push({ method: request.method, url: request.url, status: response.status, operations: countOperations(request), at: Date.now() });
          if ('drop' in response && response.drop) {
            req.socket.destroy();
            return;
          }
          res.writeHead(response.status, response.headers ?? {});
          res.end(response.body ?? '');
        });
    });
  });
  // An emulator shares its process with the client: a long synchronous request can hold both timers past
  // Node's 5 s keep-alive, and a POST sent on the socket the server is closing fails. Tests close the server anyway.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    tokenUrl: `${origin}/emulator/oauth2/v2.0/token`,
    log,
    injectFault: (rule) => {
      faults.push({ ...rule });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
