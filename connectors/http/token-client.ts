/**
 * OAuth 2.0 client-credentials tokens (Microsoft Entra ID v2 endpoint), cached
 * and refreshed before they expire. A small client rather than msal-node because
 * the token URL must be plain configuration: tests point it at an emulator.
 * The secret lives in the worker's process only and is registered for redaction;
 * it goes to the token URL only (https, or http to a loopback address), never
 * on through a redirect, and a request that gets no answer times out.
 */
import { redact, registerSecret } from '../../support/redact';
import { ConnectorError } from '../connector-error';
import { fetchErrorText, TransientHttpError } from './http-client';
import { requireCredentialSafeUrl, UntrustedUrlError } from './url-policy';

export interface ClientCredentials {
  /** e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token (see entraTokenUrl). */
  tokenUrl: string;
  clientId: string;
  /** Stays in the worker process; registered for redaction. */
  clientSecret: string;
  /** e.g. https://org.crm.dynamics.com/.default */
  scope: string;
}

/** Client credentials as a connector's options take them: each service has its own default scope. */
export interface ConnectorCredentials extends Omit<ClientCredentials, 'scope'> {
  scope?: string;
}

export interface TokenProvider {
  /** A valid access token; `forceRefresh` after the service rejected the cached one. */
  getToken(forceRefresh?: boolean): Promise<string>;
}

/** Raised when the token endpoint refuses the credentials: retrying will not help. */
export class AuthenticationError extends ConnectorError {
  override readonly name = 'AuthenticationError';
  constructor(message: string, status?: number) {
    super(message, { kind: 'auth', status });
  }
}

export function entraTokenUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export interface TokenProviderOptions {
  fetch?: typeof fetch;
  now?: () => number;
  /** @default 300000 (five minutes) */
  refreshBeforeExpiryMs?: number;
  /** How long a token request may go unanswered. @default 30000 */
  timeoutMs?: number;
  /** The connector's name, for messages. */
  name?: string;
}

export class ClientCredentialsTokenProvider implements TokenProvider {
  private cached: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;

  private readonly tokenUrl: URL;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly options: TokenProviderOptions = {},
  ) {
    registerSecret(credentials.clientSecret);
    this.tokenUrl = requireCredentialSafeUrl(credentials.tokenUrl, `${options.name ? `${options.name}: ` : ''}tokenUrl`);
  }

  async getToken(forceRefresh = false): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const early = this.options.refreshBeforeExpiryMs ?? 5 * 60_000;
    if (!forceRefresh && this.cached && this.cached.expiresAt - early > now) return this.cached.value;
    // One request for all callers waiting on a refresh.
    this.pending ??= this.requestToken().finally(() => {
      this.pending = null;
    });
    this.cached = await this.pending;
    return this.cached.value;
  }

  private async requestToken(): Promise<CachedToken> {
    const started = (this.options.now ?? Date.now)();
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.credentials.clientId,
      client_secret: this.credentials.clientSecret,
      scope: this.credentials.scope,
    });
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const where = `token request for client ${this.credentials.clientId} to ${this.tokenUrl.host}`;
    let response: Response;
    let text: string;
    try {
      response = await (this.options.fetch ?? fetch)(this.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        // A redirect would re-send the form, secret and all, wherever it points.
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      // By name: fetch's errors may come from another realm (Jest's sandbox).
      if (typeof error === 'object' && error !== null && 'name' in error && error.name === 'TimeoutError') {
        throw new TransientHttpError(`${where} timed out after ${timeoutMs} ms`);
      }
      throw new TransientHttpError(redact(`${where} failed: ${fetchErrorText(error)}`));
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      const target = location && URL.canParse(location, this.tokenUrl.href) ? new URL(location, this.tokenUrl) : null;
      throw new UntrustedUrlError(
        `${where} was answered with a redirect${target ? ` to ${target.protocol}//${target.host}` : ''}, which is not followed with the client secret; set tokenUrl to the endpoint itself.`,
      );
    }
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    if (!response.ok || typeof json.access_token !== 'string') {
      const reason =
        typeof json.error === 'string'
          ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description.split('\n')[0]}` : ''}`
          : `HTTP ${response.status}`;
      const message = `token request for client ${this.credentials.clientId} failed (${reason})`;
      // 4xx: the credentials or scope are wrong. 5xx: the identity service is having trouble; retry.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new AuthenticationError(message, response.status);
      throw new Error(message);
    }
    registerSecret(json.access_token);
    const lifetimeS = Number(json.expires_in ?? 3600);
    return { value: json.access_token, expiresAt: started + (Number.isFinite(lifetimeS) ? lifetimeS : 3600) * 1000 };
  }
}
