/**
 * EMULATOR of Business Central's webhook subscriptions (API v2.0
 * `subscriptions`), with the service's rules: creating or renewing one sends
 * a validation handshake to its notificationUrl (`?validationToken=...`,
 * answered 200 with the token) and fails when it is not answered; a
 * subscription expires three days after it was created or renewed, and a
 * renewal is a PATCH with If-Match; changes are delivered in batches after a
 * delay, each notification carrying the subscription's clientState; more
 * changes of one resource in a batch than the threshold are one `collection`
 * notification ("read the changes yourself"); a delivery that fails is retried.
 * Times are scaled down for tests (BC waits about 30 seconds to batch).
 */
import { randomUUID } from 'node:crypto';
import { isObject } from '../../common/collections';

export interface SubscriptionRules {
  /** BC: 3 days. */
  lifetimeMs: number;
  /** How long changes are gathered before a delivery (BC: about 30 s). @default 200 */
  batchDelayMs: number;
  /** More changes of one resource in a delivery than this are one `collection` notification (BC: 1,000). @default 20 */
  collectionThreshold: number;
  /** Deliveries tried per batch, and the wait between them. @default { attempts: 3, delayMs: 200 } */
  retry: { attempts: number; delayMs: number };
}

export const DEFAULT_SUBSCRIPTION_RULES: SubscriptionRules = {
  lifetimeMs: 3 * 24 * 3_600_000,
  batchDelayMs: 200,
  collectionThreshold: 20,
  retry: { attempts: 3, delayMs: 200 },
};

export interface Subscription {
  subscriptionId: string;
  notificationUrl: string;
  resource: string;
  clientState: string;
  expirationDateTime: string;
  lastModifiedDateTime: string;
  version: number;
}

export type ChangeType = 'created' | 'updated' | 'deleted';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal';
const etagOf = (s: Subscription): string => `W/"${s.subscriptionId}-${s.version}"`;
const error = (status: number, code: string, message: string): Answer => ({
  status,
  headers: { 'Content-Type': JSON_TYPE },
  body: { error: { code, message } },
});

export class BcSubscriptions {
  private readonly byId = new Map<string, Subscription>();
  private readonly queued = new Map<string, { resource: string; changeType: ChangeType | 'collection'; at: string }[]>();
  private timer: NodeJS.Timeout | null = null;
  private delivering: Promise<void> = Promise.resolve();
  /** Deliveries made (each POST to a notificationUrl), for tests. */
  readonly deliveries: { subscriptionId: string; status: number | null; notifications: number }[] = [];

  constructor(
    /** `/api/v2.0/companies(<id>)`: what a subscription's resource starts with. */
    private readonly companyResource: string,
    private readonly entitySets: ReadonlySet<string>,
    private readonly now: () => Date,
    private readonly rules: SubscriptionRules = DEFAULT_SUBSCRIPTION_RULES,
  ) {}

  private live(): Subscription[] {
    const now = this.now().getTime();
    for (const [id, s] of this.byId) if (Date.parse(s.expirationDateTime) <= now) this.byId.delete(id);
    return [...this.byId.values()];
  }

  private view(s: Subscription): Record<string, unknown> {
    const { version: _version, ...rest } = s;
    return { '@odata.etag': etagOf(s), ...rest };
  }

  /** The handshake: BC's own request to the subscriber, which must answer 200 with the token. */
  private async validate(notificationUrl: string): Promise<boolean> {
    const token = randomUUID();
    try {
      const url = new URL(notificationUrl);
      url.searchParams.set('validationToken', token);
      const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5_000) });
      return response.status === 200 && (await response.text()).trim() === token;
    } catch {
      return false;
    }
  }

  private checked(body: unknown): { notificationUrl: string; resource: string; clientState: string } | Answer {
    if (!isObject(body)) return error(400, 'BadRequest_InvalidRequestBody', 'The request body must be a JSON object.');
    const { notificationUrl, resource, clientState } = body;
    if (typeof notificationUrl !== 'string' || !/^https?:\/\//.test(notificationUrl))
      return error(400, 'BadRequest', 'notificationUrl must be an absolute http(s) URL.');
    const set = typeof resource === 'string' && resource.startsWith(`${this.companyResource}/`) ? resource.slice(this.companyResource.length + 1) : null;
    if (!set || !this.entitySets.has(set)) return error(400, 'BadRequest', `The resource '${String(resource)}' cannot be subscribed to.`);
    if (clientState !== undefined && typeof clientState !== 'string') return error(400, 'BadRequest', 'clientState must be a string.');
    return { notificationUrl, resource: resource as string, clientState: (clientState as string | undefined) ?? '' };
  }

  /** Serves `subscriptions` and `subscriptions('<id>')`; null for any other path. */
  async handle(method: string, rest: string, headers: Record<string, string>, body: unknown): Promise<Answer | null> {
    const m = /^subscriptions(?:\('([^']+)'\))?$/.exec(rest);
    if (!m) return null;
    const id = m[1];
    const stamp = (): { expirationDateTime: string; lastModifiedDateTime: string } => ({
      expirationDateTime: new Date(this.now().getTime() + this.rules.lifetimeMs).toISOString(),
      lastModifiedDateTime: this.now().toISOString(),
    });
    if (id === undefined) {
      if (method === 'GET') return { status: 200, headers: { 'Content-Type': JSON_TYPE }, body: { value: this.live().map((s) => this.view(s)) } };
      if (method !== 'POST') return error(405, 'BadRequest_MethodNotAllowed', `${method} is not allowed on subscriptions.`);
      const given = this.checked(body);
      if ('status' in given) return given;
      if (!(await this.validate(given.notificationUrl)))
        return error(400, 'BadRequest', `The subscription could not be validated: ${given.notificationUrl} did not answer the validation token.`);
      const created: Subscription = { subscriptionId: randomUUID().replace(/-/g, ''), ...given, ...stamp(), version: 1 };
      this.byId.set(created.subscriptionId, created);
      return { status: 201, headers: { 'Content-Type': JSON_TYPE, ETag: etagOf(created) }, body: this.view(created) };
    }
    const found = this.live().find((s) => s.subscriptionId === id);
    if (!found) return error(404, 'BadRequest_NotFound', `The subscription '${id}' does not exist.`);
    if (method === 'GET') return { status: 200, headers: { 'Content-Type': JSON_TYPE, ETag: etagOf(found) }, body: this.view(found) };
    if (method === 'DELETE') {
      this.byId.delete(id);
      return { status: 204, headers: {} };
    }
    if (method !== 'PATCH') return error(405, 'BadRequest_MethodNotAllowed', `${method} is not allowed on a subscription.`);
    const ifMatch = headers['if-match'];
    if (!ifMatch) return error(428, 'Internal_RequestPreconditionRequired', 'A renewal needs an If-Match header with the subscription ETag.');
    if (ifMatch !== '*' && ifMatch !== etagOf(found)) return error(412, 'Internal_EntityChanged', 'The subscription was changed since it was read.');
    const given = this.checked({
      notificationUrl: found.notificationUrl,
      resource: found.resource,
      clientState: found.clientState,
      ...(isObject(body) ? body : {}),
    });
    if ('status' in given) return given;
    if (!(await this.validate(given.notificationUrl)))
      return error(400, 'BadRequest', `The subscription could not be validated: ${given.notificationUrl} did not answer the validation token.`);
    Object.assign(found, given, stamp(), { version: found.version + 1 });
    return { status: 200, headers: { 'Content-Type': JSON_TYPE, ETag: etagOf(found) }, body: this.view(found) };
  }

  /** A record of `entitySet` changed (through the API or a user's edit): queued for each live subscription to it. */
  noteChange(entitySet: string, id: string, changeType: ChangeType): void {
    const collection = `${this.companyResource}/${entitySet}`;
    for (const s of this.live()) {
      if (s.resource !== collection) continue;
      const list = this.queued.get(s.subscriptionId) ?? [];
      list.push({ resource: `${collection}(${id})`, changeType, at: this.now().toISOString() });
      this.queued.set(s.subscriptionId, list);
    }
    if (this.queued.size > 0 && !this.timer) this.timer = setTimeout(() => void this.flush(), this.rules.batchDelayMs);
  }

  /** Delivers what is queued now (tests call it instead of waiting for the batch delay). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batches = [...this.queued.entries()];
    this.queued.clear();
    this.delivering = this.delivering.then(() => Promise.all(batches.map(([id, changes]) => this.deliver(id, changes))).then(() => undefined));
    return this.delivering;
  }

  private async deliver(subscriptionId: string, changes: { resource: string; changeType: ChangeType | 'collection'; at: string }[]): Promise<void> {
    const s = this.live().find((x) => x.subscriptionId === subscriptionId);
    if (!s) return;
    const entries =
      changes.length > this.rules.collectionThreshold
        ? [{ resource: s.resource, changeType: 'collection' as const, at: changes[changes.length - 1].at }]
        : changes;
    const value = entries.map((c) => ({
      subscriptionId,
      clientState: s.clientState,
      expirationDateTime: s.expirationDateTime,
      resource: c.resource,
      changeType: c.changeType,
      lastModifiedDateTime: c.at,
    }));
    for (let attempt = 1; attempt <= this.rules.retry.attempts; attempt++) {
      let status: number | null = null;
      try {
        const response = await fetch(s.notificationUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ value }),
          signal: AbortSignal.timeout(5_000),
        });
        status = response.status;
      } catch {
        status = null;
      }
      this.deliveries.push({ subscriptionId, status, notifications: value.length });
      if (status !== null && status >= 200 && status < 300) return;
      await new Promise((r) => setTimeout(r, this.rules.retry.delayMs));
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
