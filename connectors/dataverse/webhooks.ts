/**
 * Dataverse webhook registration through the Web API: one service endpoint
 * (contract 8, Webhook; authtype 4, an HTTP header the receiver checks) named
 * for the mapping, and one asynchronous post-operation step (mode 1, stage 40)
 * per message (Create, Update, Delete) of the table, bound to the message's
 * `sdkmessages` row and the table's `sdkmessagefilters` row. Made when missing,
 * kept when there (so it is safe to call at every start).
 */
import type { HttpClient } from '../http/http-client';
import { ConnectorError } from '../connector-error';

export type WebhookMessage = 'Create' | 'Update' | 'Delete';

export interface EnsureWebhook {
  /** The service endpoint's name, e.g. "coupling-sync CUSTOMER". */
  name: string;
  url: string;
  /** The table's logical name, e.g. "account". */
  logicalName: string;
  /** The header every post carries, and the receiver checks. */
  header: { name: string; value: string };
  /** @default ['Create', 'Update', 'Delete'] */
  messages?: readonly WebhookMessage[];
}

type Row = Record<string, unknown>;
const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class DataverseWebhookClient {
  constructor(
    private readonly http: HttpClient,
    private readonly name: string,
  ) {}

  private async call(method: 'GET' | 'POST', url: string, body?: Row): Promise<Row> {
    const response = await this.http.send({
      method,
      url,
      ...(body ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (response.status >= 300) {
      throw new ConnectorError(`${this.name}: ${method} ${url.split('?')[0]} failed with HTTP ${response.status}: ${response.text.slice(0, 300)}`, {
        kind: 'permanent',
        status: response.status,
      });
    }
    return response.text ? (JSON.parse(response.text) as Row) : {};
  }

  private async list(url: string): Promise<Row[]> {
    return ((await this.call('GET', url)).value as Row[] | undefined) ?? [];
  }

  /** The endpoint and its steps, made where missing; says how many steps it made. */
  async ensure(request: EnsureWebhook): Promise<{ serviceEndpointId: string; stepsCreated: number }> {
    const endpoints = await this.list(`serviceendpoints?$filter=name eq '${request.name.replace(/'/g, "''")}'`);
    let endpoint = endpoints.find((e) => e.name === request.name && e.url === request.url);
    endpoint ??= await this.call('POST', 'serviceendpoints', {
      name: request.name,
      url: request.url,
      contract: 8,
      authtype: 4,
      authvalue: `<settings><setting name="${xml(request.header.name)}" value="${xml(request.header.value)}" /></settings>`,
    });
    const endpointId = String(endpoint.serviceendpointid);
    const steps = await this.list('sdkmessageprocessingsteps');
    let stepsCreated = 0;
    for (const message of request.messages ?? (['Create', 'Update', 'Delete'] as const)) {
      const [sdkMessage] = await this.list(`sdkmessages?$filter=name eq '${message}'`);
      if (!sdkMessage) throw new ConnectorError(`${this.name}: Dataverse has no ${message} message.`, { kind: 'permanent' });
      const messageId = String(sdkMessage.sdkmessageid);
      const [filter] = await this.list(`sdkmessagefilters?$filter=primaryobjecttypecode eq '${request.logicalName}' and _sdkmessageid_value eq ${messageId}`);
      if (!filter) throw new ConnectorError(`${this.name}: table ${request.logicalName} takes no ${message} steps.`, { kind: 'permanent' });
      const filterId = String(filter.sdkmessagefilterid);
      if (steps.some((s) => s._eventhandler_value === endpointId && s._sdkmessageid_value === messageId && s._sdkmessagefilterid_value === filterId)) continue;
      await this.call('POST', 'sdkmessageprocessingsteps', {
        name: `${request.name}: ${message} of ${request.logicalName}`,
        mode: 1,
        stage: 40,
        rank: 1,
        supporteddeployment: 0,
        'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
        'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
      });
      stepsCreated++;
    }
    return { serviceEndpointId: endpointId, stepsCreated };
  }
}
