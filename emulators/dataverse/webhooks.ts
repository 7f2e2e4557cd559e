/**
 * EMULATOR of Dataverse webhooks, with the platform's rules: a webhook is a
 * `serviceendpoints` row (contract 8, an absolute url, authtype 4 HttpHeader
 * with `<settings><setting name=".." value=".." /></settings>`, 5 WebhookKey
 * sent as `?code=`, or 6 HttpQueryString); it runs for the
 * `sdkmessageprocessingsteps` registered on it, each bound to a message
 * (`sdkmessages`: Create, Update, Delete) and a filter for one table
 * (`sdkmessagefilters`); a step posts the RemoteExecutionContext of each
 * change after the operation (stage 40), asynchronously (mode 1, retried when
 * the endpoint fails) or synchronously (mode 0). Only committed changes are
 * posted: a change set that rolls back posts nothing.
 */
import { randomUUID } from 'node:crypto';

export type Message = 'Create' | 'Update' | 'Delete';
const MESSAGES: Record<Message, string> = {
  Create: '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8',
  Update: '20bebb1b-ea3e-db11-86a7-000a3a5473e8',
  Delete: '20bdbb1b-ea3e-db11-86a7-000a3a5473e8',
};

interface Endpoint {
  serviceendpointid: string;
  name: string;
  url: string;
  contract: number;
  authtype: number;
  authvalue: string;
}

interface Step {
  sdkmessageprocessingstepid: string;
  name: string;
  message: Message;
  logicalName: string;
  endpointId: string;
  mode: number;
}

interface Answer {
  status: number;
  body?: unknown;
}

const fail = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The filter of a (table, message) pair: a stable id the tests and the client can look up. */
const filterId = (logicalName: string, message: Message): string => {
  let h = 0;
  for (const c of `${logicalName}/${message}`) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${h.toString(16).padStart(8, '0')}-0000-4000-8000-${MESSAGES[message].slice(0, 12).replace(/-/g, '0')}`;
};

function headersOf(endpoint: Endpoint): { headers: Record<string, string>; query: Record<string, string> } {
  if (endpoint.authtype === 5) return { headers: {}, query: { code: endpoint.authvalue } };
  const settings: Record<string, string> = {};
  for (const m of endpoint.authvalue.matchAll(/<setting\s+name="([^"]+)"\s+value="([^"]*)"\s*\/>/g)) settings[m[1]] = m[2];
  return endpoint.authtype === 4 ? { headers: settings, query: {} } : { headers: {}, query: settings };
}

export class DataverseWebhooks {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly steps = new Map<string, Step>();
  private queue: { token: number; step: Step; id: string }[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Posts made to endpoints, for tests. */
  readonly deliveries: { url: string; status: number | null; message: Message }[] = [];

  private readonly rules: { delayMs: number; attempts: number; concurrency: number };

  constructor(
    private readonly logicalNames: ReadonlySet<string>,
    private readonly organizationUrl: () => string,
    rules: Partial<{ delayMs: number; attempts: number; concurrency: number }> = {},
  ) {
    // Dataverse's asynchronous service runs queued steps several at a time.
    this.rules = { delayMs: 100, attempts: 3, concurrency: 4, ...rules };
  }

  /** Serves the webhook entity sets; null for any other. */
  handle(method: string, path: string, query: URLSearchParams, body: unknown): Answer | null {
    const m = /^(serviceendpoints|sdkmessageprocessingsteps|sdkmessages|sdkmessagefilters)(?:\(([^)]+)\))?$/.exec(path);
    if (!m) return null;
    const [, set, key] = m;
    const filter = query.get('$filter') ?? '';
    if (set === 'sdkmessages' && method === 'GET') {
      const name = /name eq '([A-Za-z]+)'/.exec(filter)?.[1];
      const rows = Object.entries(MESSAGES)
        .filter(([n]) => !name || n === name)
        .map(([n, id]) => ({ sdkmessageid: id, name: n }));
      return { status: 200, body: { value: rows } };
    }
    if (set === 'sdkmessagefilters' && method === 'GET') {
      const table = /primaryobjecttypecode eq '([a-z0-9_]+)'/.exec(filter)?.[1];
      const messageId = /_sdkmessageid_value eq ([0-9a-f-]{36})/i.exec(filter)?.[1]?.toLowerCase();
      const message = (Object.keys(MESSAGES) as Message[]).find((n) => MESSAGES[n] === messageId);
      if (!table || !message || !this.logicalNames.has(table)) return { status: 200, body: { value: [] } };
      return { status: 200, body: { value: [{ sdkmessagefilterid: filterId(table, message), primaryobjecttypecode: table, _sdkmessageid_value: messageId }] } };
    }
    if (set === 'serviceendpoints') return this.endpointRequest(method, key, body);
    if (set === 'sdkmessageprocessingsteps') return this.stepRequest(method, key, body);
    return fail(405, '0x80060888', `${method} is not supported on ${set}.`);
  }

  private endpointRequest(method: string, key: string | undefined, body: unknown): Answer {
    if (method === 'GET' && !key) return { status: 200, body: { value: [...this.endpoints.values()] } };
    if (method === 'DELETE' && key) {
      if (!this.endpoints.delete(key.toLowerCase())) return fail(404, '0x80040217', `serviceendpoint With Id = ${key} Does Not Exist`);
      for (const [id, s] of this.steps) if (s.endpointId === key.toLowerCase()) this.steps.delete(id);
      return { status: 204 };
    }
    if (method !== 'POST' || key) return fail(405, '0x80060888', `${method} is not supported here.`);
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.contract !== 8) return fail(400, '0x80040203', 'contract must be 8 (Webhook).');
    if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url)) return fail(400, '0x80040203', 'url must be an absolute http(s) URL.');
    if (b.authtype !== 4 && b.authtype !== 5 && b.authtype !== 6)
      return fail(400, '0x80040203', 'authtype must be 4 (HttpHeader), 5 (WebhookKey) or 6 (HttpQueryString).');
    if (typeof b.authvalue !== 'string' || b.authvalue.length === 0) return fail(400, '0x80040203', 'authvalue is required for a webhook.');
    const endpoint: Endpoint = {
      serviceendpointid: randomUUID(),
      name: String(b.name ?? ''),
      url: b.url,
      contract: 8,
      authtype: b.authtype,
      authvalue: b.authvalue,
    };
    this.endpoints.set(endpoint.serviceendpointid, endpoint);
    return { status: 201, body: endpoint };
  }

  private stepRequest(method: string, key: string | undefined, body: unknown): Answer {
    if (method === 'GET' && !key)
      return {
        status: 200,
        body: {
          value: [...this.steps.values()].map((s) => ({
            sdkmessageprocessingstepid: s.sdkmessageprocessingstepid,
            name: s.name,
            mode: s.mode,
            _eventhandler_value: s.endpointId,
            _sdkmessageid_value: MESSAGES[s.message],
            _sdkmessagefilterid_value: filterId(s.logicalName, s.message),
          })),
        },
      };
    if (method === 'DELETE' && key) return this.steps.delete(key.toLowerCase()) ? { status: 204 } : fail(404, '0x80040217', 'step does not exist');
    if (method !== 'POST' || key) return fail(405, '0x80060888', `${method} is not supported here.`);
    const b = (body ?? {}) as Record<string, unknown>;
    const bound = (name: string, set: string): string | null => {
      const ref = b[`${name}@odata.bind`];
      const id = typeof ref === 'string' ? new RegExp(`^/?${set}\\(([^)]+)\\)$`).exec(ref)?.[1]?.toLowerCase() : undefined;
      return id && GUID.test(id) ? id : null;
    };
    const messageId = bound('sdkmessageid', 'sdkmessages');
    const filter = bound('sdkmessagefilterid', 'sdkmessagefilters');
    const endpointId = bound('eventhandler_serviceendpoint', 'serviceendpoints');
    const message = (Object.keys(MESSAGES) as Message[]).find((n) => MESSAGES[n] === messageId);
    if (!message) return fail(400, '0x80040203', 'sdkmessageid must bind a message (Create, Update or Delete).');
    const logicalName = [...this.logicalNames].find((t) => filterId(t, message) === filter);
    if (!logicalName) return fail(400, '0x80040203', 'sdkmessagefilterid must bind the filter of this message for a table.');
    if (!endpointId || !this.endpoints.has(endpointId)) return fail(400, '0x80040203', 'eventhandler_serviceendpoint must bind an existing service endpoint.');
    if (b.stage !== 40) return fail(400, '0x80040203', 'A webhook step runs after the operation: stage 40.');
    if (b.mode !== 0 && b.mode !== 1) return fail(400, '0x80040203', 'mode must be 0 (synchronous) or 1 (asynchronous).');
    const step: Step = { sdkmessageprocessingstepid: randomUUID(), name: String(b.name ?? ''), message, logicalName, endpointId, mode: b.mode };
    this.steps.set(step.sdkmessageprocessingstepid, step);
    return { status: 201, body: { sdkmessageprocessingstepid: step.sdkmessageprocessingstepid } };
  }

  /** A row was created, updated or deleted; returns a token a rolled-back change set cancels it with. */
  noteChange(logicalName: string, id: string, message: Message): number[] {
    const tokens: number[] = [];
    for (const step of this.steps.values()) {
      if (step.logicalName !== logicalName || step.message !== message) continue;
      const token = ++this.next;
      this.queue.push({ token, step, id });
      tokens.push(token);
    }
    if (this.queue.length && !this.timer) this.timer = setTimeout(() => void this.flush(), this.rules.delayMs);
    return tokens;
  }

  cancel(tokens: readonly number[]): void {
    const gone = new Set(tokens);
    this.queue = this.queue.filter((q) => !gone.has(q.token));
  }

  /** Posts what is queued now. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const due = this.queue;
    this.queue = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < due.length) {
        const { step, id } = due[next++];
        await this.post(step, id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.rules.concurrency, due.length) }, lane));
  }

  private async post(step: Step, id: string): Promise<void> {
    const endpoint = this.endpoints.get(step.endpointId);
    if (!endpoint) return;
    const { headers, query } = headersOf(endpoint);
    const url = new URL(endpoint.url);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const context = {
      MessageName: step.message,
      PrimaryEntityName: step.logicalName,
      PrimaryEntityId: id,
      Stage: 40,
      Mode: step.mode,
      OrganizationName: new URL(this.organizationUrl()).hostname,
      OperationCreatedOn: new Date().toISOString(),
      CorrelationId: randomUUID(),
      InputParameters: [],
    };
    for (let attempt = 1; attempt <= (step.mode === 1 ? this.rules.attempts : 1); attempt++) {
      let status: number | null = null;
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(context) });
        status = response.status;
      } catch {
        status = null;
      }
      this.deliveries.push({ url: endpoint.url, status, message: step.message });
      if (status !== null && status >= 200 && status < 300) return;
      await new Promise((r) => setTimeout(r, this.rules.delayMs));
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
