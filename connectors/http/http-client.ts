/**
 * The HTTP layer shared by the Dataverse and Business Central connectors:
 * bearer tokens, a bound on concurrent requests, and the service limits turned
 * into what activities understand. A 429 (or a 503 with Retry-After) becomes a
 * ThrottledError carrying the delay the service asked for; 5xx, timeouts and
 * dropped connections become TransientHttpError (the activity retries with
 * backoff), a 401 or 403 despite a fresh token an AccessDeniedError. Every
 * other status is returned for the connector to map per record.
 * The token goes only to the configured origin: a URL elsewhere (an
 * @odata.nextLink naming another host, scheme or port) is refused before
 * anything is sent.
 */
import pLimit from 'p-limit';
import { ThrottledError } from '../connector';
import { ConnectorError } from '../connector-error';
import { redact } from '../../support/redact';
import { retryAfterMs } from './retry-after';
import { parseODataError } from './odata-error';
import type { TokenProvider } from './token-client';
import { requireCredentialSafeUrl, UntrustedUrlError } from './url-policy';

export { UntrustedUrlError };

export interface HttpClientOptions {
  /** Service root every relative path is resolved against, e.g. https://org.crm.dynamics.com/api/data/v9.2/ */
  baseUrl: string;
  tokens: TokenProvider;
  /** Requests in flight at once from this worker process. */
  maxConcurrency: number;
  /** Headers sent with every request (OData version headers...). */
  headers?: Record<string, string>;
  /** @default 120000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Name for messages, e.g. "dataverse". */
  name: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to baseUrl, or an absolute URL (an @odata.nextLink, followed unchanged). */
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A failure worth retrying later: 5xx, a timeout, a dropped connection. */
export class TransientHttpError extends ConnectorError {
  override readonly name = 'TransientHttpError';
  constructor(message: string, status?: number) {
    super(message, { kind: 'transient', status });
  }
}

/**
 * The service refused a request with 401 or 403 although the token is fresh:
 * the application user lacks a permission. Left to the retry policy (unlike a
 * refused client secret, an AuthenticationError).
 */
export class AccessDeniedError extends ConnectorError {
  override readonly name = 'AccessDeniedError';
  constructor(message: string, status: number, serviceCode?: string) {
    super(message, { kind: 'permanent', status, serviceCode });
  }
}

/** A failed fetch's message and its cause's, e.g. "fetch failed (connect ECONNREFUSED 10.0.0.5:443)". */
export function fetchErrorText(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (Jest's sandbox), where instanceof Error fails.
  const messageOf = (e: unknown): string => (typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e));
  const inner = typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  return `${messageOf(error)}${inner !== undefined ? ` (${messageOf(inner)})` : ''}`;
}

export class HttpClient {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly base: URL;

  constructor(private readonly options: HttpClientOptions) {
    this.limit = pLimit(Math.max(1, options.maxConcurrency));
    this.base = requireCredentialSafeUrl(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`, `${options.name}: the service URL`);
  }

  resolve(url: string): string {
    return new URL(url, this.base).toString();
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    return this.limit(() => this.sendNow(request, false));
  }

  /** The absolute URL of a request, refused unless it is on the configured origin (scheme, host and port). */
  private trusted(url: string): string {
    if (!URL.canParse(url, this.base.href)) throw new UntrustedUrlError(`${this.options.name}: a link in the service's answer is not a URL.`);
    const resolved = new URL(url, this.base);
    if (resolved.origin !== this.base.origin || resolved.origin === 'null') {
      // Named by scheme and host only: the rest of the link may carry anything.
      throw new UntrustedUrlError(
        `${this.options.name}: refused to send the access token to ${resolved.protocol}//${resolved.host}, which is not the configured ${this.base.origin} (a link or redirect in the service's answer pointed there).`,
      );
    }
    return resolved.toString();
  }

  private async sendNow(request: HttpRequest, retriedAuth: boolean): Promise<HttpResponse> {
    const url = this.trusted(request.url);
    const token = await this.options.tokens.getToken(retriedAuth);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method: request.method,
        headers: { ...this.options.headers, ...request.headers, Authorization: `Bearer ${token}` },
        body: request.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
        // A redirect is answered here, not followed with the token attached.
        redirect: 'manual',
      });
    } catch (error) {
      throw new TransientHttpError(redact(`${this.options.name}: ${request.method} ${new URL(url).pathname} failed: ${fetchErrorText(error)}`));
    }
    const text = await response.text().catch((error: unknown) => {
      throw new TransientHttpError(`${this.options.name}: response to ${request.method} ${new URL(url).pathname} was cut off: ${String(error)}`);
    });
    if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
      // Another origin is refused as a link there would be; on this one the connector sees the status like any other.
      this.trusted(response.headers.get('location') as string);
    }
    if (response.status === 401 && !retriedAuth) return this.sendNow(request, true);
    const delay = retryAfterMs(response.headers.get('retry-after'));
    if (response.status === 429 || (response.status === 503 && delay !== null)) {
      const { message } = parseODataError(response.status, text);
      if (delay !== null)
        throw new ThrottledError(`${this.options.name} throttled the request (${redact(message)}); retry after ${delay} ms`, delay, response.status);
      throw new TransientHttpError(`${this.options.name} throttled the request (${redact(message)})`, response.status);
    }
    if (response.status >= 500 || response.status === 408) {
      const { code, message } = parseODataError(response.status, text);
      throw new TransientHttpError(redact(`${this.options.name}: HTTP ${response.status}${code ? ` ${code}` : ''}: ${message}`), response.status);
    }
    if (response.status === 401 || response.status === 403) {
      const { code, message } = parseODataError(response.status, text);
      throw new AccessDeniedError(redact(`${this.options.name}: HTTP ${response.status}: ${message}`), response.status, code);
    }
    return { status: response.status, headers: response.headers, text };
  }
}
