/**
 * OAuth 2.0 client-credentials tokens (Microsoft Entra ID v2 endpoint), cached
 * and refreshed before they expire. A small client rather than msal-node because
 * the token URL must be plain configuration: tests point it at an emulator.
 * The secret lives in the worker's process only and is registered for redaction.
 */
import { registerSecret } from '../../activities/redact';

export interface ClientCredentials {
  /** e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** e.g. https://org.crm.dynamics.com/.default */
  scope: string;
}

export interface TokenProvider {
  /** A valid access token; `forceRefresh` after the service rejected the cached one. */
  getToken(forceRefresh?: boolean): Promise<string>;
}

/** Raised when the token endpoint refuses the credentials: retrying will not help. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

export function entraTokenUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

interface CachedToken { value: string; expiresAt: number }

export class ClientCredentialsTokenProvider implements TokenProvider {
  private cached: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly options: { fetch?: typeof fetch; now?: () => number; refreshBeforeExpiryMs?: number } = {},
  ) {
    registerSecret(credentials.clientSecret);
  }

  async getToken(forceRefresh = false): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const early = this.options.refreshBeforeExpiryMs ?? 5 * 60_000;
    if (!forceRefresh && this.cached && this.cached.expiresAt - early > now) return this.cached.value;
    // One request for all callers waiting on a refresh.
    this.pending ??= this.requestToken().finally(() => { this.pending = null; });
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
    const response = await (this.options.fetch ?? fetch)(this.credentials.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* reported below */ }
    if (!response.ok || typeof json.access_token !== 'string') {
      const reason = typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description.split('\n')[0]}` : ''}` : `HTTP ${response.status}`;
      const message = `token request for client ${this.credentials.clientId} failed (${reason})`;
      // 4xx: the credentials or scope are wrong. 5xx: the identity service is having trouble; retry.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new AuthenticationError(message);
      throw new Error(message);
    }
    registerSecret(json.access_token);
    const lifetimeS = Number(json.expires_in ?? 3600);
    return { value: json.access_token, expiresAt: started + (Number.isFinite(lifetimeS) ? lifetimeS : 3600) * 1000 };
  }
}
