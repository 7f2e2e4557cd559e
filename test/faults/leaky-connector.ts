/**
 * A connector configured with credentials whose failures are as indiscreet as
 * real drivers and HTTP clients can be: error messages that quote the
 * connection string, the client secret, a bearer token, an API key and the
 * record's own values. The product must keep all of that out of Temporal's
 * history, out of failure messages and out of logs, and the secrets out of
 * error rows.
 */
import { randomBytes } from 'node:crypto';
import type {
  Connector,
  CreateRecord,
  FindCandidatesRequest,
  GetManyRequest,
  ReadChangedRequest,
  ScanKeysRequest,
  UpdateRecord,
  WriteResult,
} from '../../connectors/connector';

export interface FakeCredentials {
  databasePassword: string;
  clientSecret: string;
  bearerToken: string;
  apiKey: string;
  /** As a team would configure it: the password inside a connection URL. */
  databaseUrl: string;
}

export function fakeCredentials(): FakeCredentials {
  const token = (prefix: string): string => `${prefix}${randomBytes(9).toString('base64url')}`;
  const databasePassword = token('pw-');
  return {
    databasePassword,
    clientSecret: token('cs~'),
    bearerToken: `eyJhbGciOiJIUzI1NiJ9.${randomBytes(18).toString('base64url')}.${randomBytes(12).toString('base64url')}`,
    apiKey: token('ak_'),
    databaseUrl: `postgres://sync_user:${databasePassword}@crm-db.internal:5432/crm`,
  };
}

/** Every credential of the set, to search for. */
export const credentialValues = (c: FakeCredentials): string[] => [c.databasePassword, c.clientSecret, c.bearerToken, c.apiKey];

/** How a careless driver reports a failure: the endpoint with its password, the token request, the headers, the values. */
export function indiscreetMessage(c: FakeCredentials, what: string, values: unknown): string {
  return (
    `${what} failed at ${c.databaseUrl}: POST /oauth2/token body client_id=sync&client_secret=${c.clientSecret}&grant_type=client_credentials; ` +
    `headers {"Authorization": "Bearer ${c.bearerToken}", "x-api-key": "${c.apiKey}"}; row ${JSON.stringify(values)}`
  );
}

export interface LeakyFaults {
  /** Destination ids or creation keys whose writes fail with an indiscreet message. */
  failKeys?: Set<string>;
  /** 'transient' is retried, then gets an error row; 'permanent' gets one at once. */
  kind?: 'transient' | 'permanent';
  /** Throw this many times from scanKeys (planning), as a driver that cannot connect. */
  scanThrows?: number;
  /** Text appended to every message, e.g. a secret with no label that only registration can mask. */
  extra?: string;
}

export class LeakyConnector implements Connector {
  readonly name: string;
  readonly thrown = { scan: 0 };

  constructor(
    private readonly inner: Connector,
    readonly credentials: FakeCredentials,
    readonly faults: LeakyFaults = {},
  ) {
    this.name = `leaky:${inner.name}`;
  }

  private message(what: string, values: unknown): string {
    return `${indiscreetMessage(this.credentials, what, values)}${this.faults.extra ? ` ${this.faults.extra}` : ''}`;
  }

  private fail(key: string, values: unknown, id: string | null): WriteResult {
    return {
      ok: false,
      id,
      error: {
        kind: this.faults.kind ?? 'transient',
        code: 'E_LEAK',
        message: this.message(`write of ${key}`, values),
        detail: `stack of ${this.message('detail', values)}`,
      },
    };
  }

  describeTable(table: string): Promise<string[]> {
    return this.inner.describeTable(table);
  }
  get keyColumns() {
    return this.inner.keyColumns?.bind(this.inner);
  }

  async scanKeys(request: ScanKeysRequest) {
    if ((this.faults.scanThrows ?? 0) > this.thrown.scan) {
      this.thrown.scan++;
      throw new Error(this.message('connect', { table: request.table }));
    }
    return this.inner.scanKeys(request);
  }

  readChanged(request: ReadChangedRequest) {
    return this.inner.readChanged(request);
  }
  getMany(request: GetManyRequest) {
    return this.inner.getMany(request);
  }
  findCandidates(request: FindCandidatesRequest) {
    return this.inner.findCandidates(request);
  }
  deleteMany(table: string, ids: string[]) {
    return this.inner.deleteMany(table, ids);
  }

  async createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]> {
    const failing = this.faults.failKeys ?? new Set<string>();
    const passing = records.filter((r) => !failing.has(r.key));
    const written = await this.inner.createMany(table, passing);
    const byKey = new Map(passing.map((r, i) => [r.key, written[i]]));
    return records.map((r) => byKey.get(r.key) ?? this.fail(r.key, r.values, null));
  }

  async updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]> {
    const failing = this.faults.failKeys ?? new Set<string>();
    const passing = records.filter((r) => !failing.has(r.id));
    const written = await this.inner.updateMany(table, passing);
    const byId = new Map(passing.map((r, i) => [r.id, written[i]]));
    return records.map((r) => byId.get(r.id) ?? this.fail(r.id, r.values, r.id));
  }
}
