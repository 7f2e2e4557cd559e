/**
 * Business Central webhook subscriptions (API v2.0 `subscriptions`) for one
 * company table: find ours (same notificationUrl and resource), create it when
 * missing, renew it (PATCH with If-Match) when it expires within `renewWithinMs`
 * (a subscription lives three days). BC validates the notificationUrl with a
 * handshake on create and renew: the receiver must be listening first.
 */
import type { HttpClient } from '../http/http-client';
import { ConnectorError } from '../connector-error';

export interface BcSubscription {
  subscriptionId: string;
  notificationUrl: string;
  resource: string;
  clientState: string;
  expirationDateTime: string;
  etag: string;
}

export interface EnsureSubscription {
  notificationUrl: string;
  entitySet: string;
  clientState: string;
  /** Renew when it expires sooner than this. @default one day */
  renewWithinMs?: number;
}

function parse(text: string): BcSubscription {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return {
    subscriptionId: String(raw.subscriptionId),
    notificationUrl: String(raw.notificationUrl),
    resource: String(raw.resource),
    clientState: String(raw.clientState ?? ''),
    expirationDateTime: String(raw.expirationDateTime),
    etag: String(raw['@odata.etag']),
  };
}

export class BcSubscriptionClient {
  constructor(
    private readonly http: HttpClient,
    private readonly companyId: string,
    private readonly name: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private fail(what: string, status: number, text: string): never {
    throw new ConnectorError(`${this.name}: ${what} failed with HTTP ${status}: ${text.slice(0, 300)}`, { kind: 'permanent', status });
  }

  async list(): Promise<BcSubscription[]> {
    const response = await this.http.send({ method: 'GET', url: 'subscriptions' });
    if (response.status !== 200) this.fail('listing subscriptions', response.status, response.text);
    const body = JSON.parse(response.text) as { value?: unknown[] };
    return (body.value ?? []).map((v) => parse(JSON.stringify(v)));
  }

  /** Ours, created or renewed as needed; `action` says which. */
  async ensure(request: EnsureSubscription): Promise<{ subscription: BcSubscription; action: 'created' | 'renewed' | 'kept' }> {
    const resource = `/api/v2.0/companies(${this.companyId})/${request.entitySet}`;
    const existing = (await this.list()).find((s) => s.notificationUrl === request.notificationUrl && s.resource === resource);
    const body = JSON.stringify({ notificationUrl: request.notificationUrl, resource, clientState: request.clientState });
    if (!existing) {
      const response = await this.http.send({ method: 'POST', url: 'subscriptions', headers: { 'Content-Type': 'application/json' }, body });
      if (response.status !== 201) this.fail(`subscribing to ${request.entitySet}`, response.status, response.text);
      return { subscription: parse(response.text), action: 'created' };
    }
    const left = Date.parse(existing.expirationDateTime) - this.now().getTime();
    if (left > (request.renewWithinMs ?? 24 * 3_600_000) && existing.clientState === request.clientState) return { subscription: existing, action: 'kept' };
    const response = await this.http.send({
      method: 'PATCH',
      url: `subscriptions('${existing.subscriptionId}')`,
      headers: { 'Content-Type': 'application/json', 'If-Match': existing.etag },
      body,
    });
    if (response.status !== 200) this.fail(`renewing the subscription to ${request.entitySet}`, response.status, response.text);
    return { subscription: parse(response.text), action: 'renewed' };
  }
}
