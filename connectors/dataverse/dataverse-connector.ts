/**
 * The Connector contract on the Dataverse Web API (OData v4).
 *
 * Reads are keyset-paged on (modifiedon, primary id) with the service doing
 * every comparison, so ids are never ordered on our side (Dataverse orders
 * GUIDs as SQL Server does, not as strings). Writes go in $batch requests of
 * up to 1,000 operations with continue-on-error, each answered per record.
 * Creates are upserts by the engine's creation key (a UUID) guarded by
 * If-None-Match, so a create replayed after a lost answer finds its record
 * instead of adding a second one; updates carry the ETag they were decided on.
 *
 * Longer than our other modules on purpose: it is the contract's eight batch
 * methods, each mapped onto the Web API ($batch, ETags, alternate keys,
 * paging); the request plumbing (batch.ts, odata-query.ts, options.ts) is
 * already beside it.
 */
import { DataverseWebhookClient } from './webhooks';
import { randomUUID } from 'node:crypto';
import {
  ThrottledError,
  type Connector,
  type CreateRecord,
  type KeyColumns,
  type FindCandidatesRequest,
  type GetManyRequest,
  type ReadChangedRequest,
  type RecordKey,
  type RecordWriteError,
  type ScanKeysRequest,
  type SourceRecord,
  type UpdateRecord,
  type WriteResult,
} from '../connector';
import { ConnectorError, refusalKind } from '../connector-error';
import type { FilterCondition } from '../../common/types';
import { chunk, isObject } from '../../common/collections';
import { redact } from '../../support/redact';
import { HttpClient, type HttpRequest, type HttpResponse } from '../http/http-client';
import { AuthenticationError, ClientCredentialsTokenProvider, type TokenProvider } from '../http/token-client';
import { parseODataError } from '../http/odata-error';
import { retryAfterMs } from '../http/retry-after';
import { boundaryOf, buildBatchBody, parseBatchResponse, type BatchRequestPart, type BatchResponsePart } from './batch';
import {
  FilterBuilder,
  afterClause,
  assertIdentifier,
  attributeKindOf,
  chunkByBudget,
  collectionUrl,
  conditionClause,
  encodeQueryValue,
  encodedMemberLength,
  listClause,
  sinceClause,
  throughClause,
  type AttributeKind,
} from './odata-query';
import { isGuid, isIdentifier, stringLiteral } from '../odata/literals';
import { columnOf, lookupOf, readName, writeValues } from './lookups';
import { resolveDataverseOptions, type DataverseConnectorOptions, type DataverseTableOptions, type ResolvedDataverseOptions } from './options';

/** Every Dataverse table has it; Dataverse reports it in whole seconds, UTC. */
export const MODIFIED_ON = 'modifiedon';

/** Wait asked of us when a throttled batch operation carries no Retry-After. */
const DEFAULT_PART_RETRY_MS = 5000;

type ODataRow = Record<string, unknown>;

/** A request the service refused as a whole (not one record of a batch). */
export class DataverseRequestError extends ConnectorError {
  override readonly name = 'DataverseRequestError';
  declare readonly status: number;
  constructor(message: string, status: number, serviceCode?: string) {
    super(message, { kind: refusalKind(status), status, serviceCode });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const SUCCESS = new Set([200, 201, 204]);

export class DataverseConnector implements Connector {
  readonly name: string;
  private readonly settings: ResolvedDataverseOptions;
  private readonly http: HttpClient;
  private readonly attributeCache = new Map<string, Promise<Map<string, AttributeKind>>>();

  constructor(options: DataverseConnectorOptions, deps: { tokens?: TokenProvider } = {}) {
    this.settings = resolveDataverseOptions(options);
    this.name = options.name;
    const tokens =
      deps.tokens ??
      new ClientCredentialsTokenProvider(
        {
          tokenUrl: options.credentials.tokenUrl,
          clientId: options.credentials.clientId,
          clientSecret: options.credentials.clientSecret,
          scope: this.settings.scope,
        },
        { fetch: options.fetch, name: options.name },
      );
    this.http = new HttpClient({
      name: options.name,
      baseUrl: this.settings.serviceRoot,
      tokens,
      maxConcurrency: this.settings.maxConcurrency,
      timeoutMs: this.settings.timeoutMs,
      fetch: options.fetch,
      headers: { 'OData-Version': '4.0', 'OData-MaxVersion': '4.0', Accept: 'application/json' },
    });
  }

  /** Webhook registration in this environment (a live-sync receiver keeps one endpoint per mapping). */
  webhooks(): DataverseWebhookClient {
    return new DataverseWebhookClient(this.http, this.name);
  }

  private table(table: string): DataverseTableOptions {
    const config = Object.prototype.hasOwnProperty.call(this.settings.tables, table) ? this.settings.tables[table] : undefined;
    if (!config) {
      throw new DataverseRequestError(`${this.name}: table "${table}" is not configured; its tables are: ${Object.keys(this.settings.tables).join(', ')}`, 0);
    }
    return config;
  }

  private async send(request: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.http.send(request);
    } catch (error) {
      // The token provider's message names the client but never the secret; say which connector failed.
      if (error instanceof AuthenticationError) throw new AuthenticationError(redact(`${this.name}: ${error.message}`), error.status);
      throw error;
    }
  }

  private refused(what: string, response: HttpResponse): DataverseRequestError {
    const { code, message } = parseODataError(response.status, response.text);
    return new DataverseRequestError(redact(`${this.name}: ${what}: HTTP ${response.status}${code ? ` ${code}` : ''}: ${message}`), response.status, code);
  }

  /** Attribute logical names and literal kinds, from EntityDefinitions; read once per table. */
  private attributes(table: string): Promise<Map<string, AttributeKind>> {
    let cached = this.attributeCache.get(table);
    if (!cached) {
      cached = (async () => {
        const url = `EntityDefinitions(LogicalName=${stringLiteral(assertIdentifier(table, 'table'))})/Attributes?$select=LogicalName,AttributeType`;
        const response = await this.send({ method: 'GET', url });
        if (response.status !== 200) throw this.refused(`reading the attributes of ${table}`, response);
        const body = parseJson(response.text);
        const value = isObject(body) && Array.isArray(body.value) ? body.value : null;
        if (!value) throw new DataverseRequestError(`${this.name}: the attributes of ${table} came back in an unexpected shape`, response.status);
        const kinds = new Map<string, AttributeKind>();
        for (const item of value) {
          if (isObject(item) && typeof item.LogicalName === 'string')
            kinds.set(item.LogicalName, attributeKindOf(typeof item.AttributeType === 'string' ? item.AttributeType : ''));
        }
        return kinds;
      })();
      this.attributeCache.set(table, cached);
      cached.catch(() => this.attributeCache.delete(table));
    }
    return cached;
  }

  keyColumns(table: string): KeyColumns {
    return { id: this.table(table).idAttribute, modifiedOn: MODIFIED_ON };
  }

  async describeTable(table: string): Promise<string[]> {
    const config = this.table(table);
    if (config.columns) return [...new Set([config.idAttribute, MODIFIED_ON, ...config.columns, ...Object.keys(config.lookups ?? {})])];
    return [...(await this.attributes(table)).keys()];
  }

  /**
   * Literal kinds for the filter's fields. Only string values need them (a GUID,
   * a date and a text are written differently); numbers, booleans and nulls do
   * not, so most filters cost no metadata request.
   */
  private async kindsFor(table: string, filter: readonly FilterCondition[]): Promise<(field: string) => AttributeKind> {
    const config = this.table(table);
    const known = (field: string): AttributeKind | null =>
      field === config.idAttribute || lookupOf(config, field) ? 'guid' : field === MODIFIED_ON ? 'datetime' : null;
    const needsMetadata = filter.some((c) => known(c.field) === null && (Array.isArray(c.value) ? c.value : [c.value]).some((v) => typeof v === 'string'));
    const kinds = needsMetadata ? await this.attributes(table) : new Map<string, AttributeKind>();
    return (field) => known(field) ?? kinds.get(field) ?? 'other';
  }

  private toRecord(config: DataverseTableOptions, row: ODataRow): SourceRecord {
    const id = row[config.idAttribute];
    const modifiedOn = row[MODIFIED_ON];
    if (typeof id !== 'string' || typeof modifiedOn !== 'string') {
      throw new DataverseRequestError(`${this.name}: a ${config.entitySet} record came back without ${config.idAttribute} or ${MODIFIED_ON}`, 200);
    }
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      // Annotations ("@odata.etag", "x@OData.Community.Display.V1.FormattedValue") are not columns.
      if (key === config.idAttribute || key === MODIFIED_ON || key.includes('@')) continue;
      values[columnOf(config, key)] = value;
    }
    const etag = row['@odata.etag'];
    return { id, modifiedOn, version: typeof etag === 'string' ? etag : undefined, values };
  }

  /** Runs a collection query, following @odata.nextLink exactly as given, until `limit` rows. */
  private async collect(url: string, limit: number, what: string): Promise<ODataRow[]> {
    const rows: ODataRow[] = [];
    const pageSize = Math.min(this.settings.pageSize, Math.max(1, limit));
    let next: string | null = url;
    while (next !== null && rows.length < limit) {
      const response = await this.send({ method: 'GET', url: next, headers: { Prefer: `odata.maxpagesize=${pageSize}` } });
      if (response.status !== 200) throw this.refused(what, response);
      const body = parseJson(response.text);
      if (!isObject(body) || !Array.isArray(body.value))
        throw new DataverseRequestError(`${this.name}: ${what}: the response is not an OData collection`, response.status);
      for (const row of body.value) if (isObject(row)) rows.push(row);
      const link = body['@odata.nextLink'];
      next = typeof link === 'string' ? link : null;
    }
    return rows.length > limit ? rows.slice(0, limit) : rows;
  }

  private select(config: DataverseTableOptions, fields: readonly string[]): string[] {
    return [...new Set([config.idAttribute, MODIFIED_ON, ...fields.map((f) => readName(config, assertIdentifier(f)))])];
  }

  private async rangeQuery(request: ScanKeysRequest & { fields: string[]; through: RecordKey | null }): Promise<SourceRecord[]> {
    const config = this.table(request.table);
    const kindOf = await this.kindsFor(request.table, request.filter);
    const filter = new FilterBuilder();
    for (const condition of request.filter)
      filter.add(conditionClause({ ...condition, field: readName(config, condition.field) }, kindOf(condition.field), config.idAttribute, filter));
    if (request.since !== null) filter.add(sinceClause(MODIFIED_ON, request.since));
    if (request.after) filter.add(afterClause(MODIFIED_ON, config.idAttribute, request.after));
    if (request.through) filter.add(throughClause(MODIFIED_ON, config.idAttribute, request.through));
    const url = collectionUrl({
      entitySet: config.entitySet,
      select: this.select(config, request.fields),
      filter,
      orderBy: [`${MODIFIED_ON} asc`, `${config.idAttribute} asc`],
    });
    const rows = await this.collect(url, request.limit, `reading ${request.table}`);
    return rows.map((row) => this.toRecord(config, row));
  }

  async scanKeys(request: ScanKeysRequest): Promise<RecordKey[]> {
    const records = await this.rangeQuery({ ...request, fields: [], through: null });
    return records.map((r) => ({ modifiedOn: r.modifiedOn, id: r.id }));
  }

  readChanged(request: ReadChangedRequest): Promise<SourceRecord[]> {
    return this.rangeQuery(request);
  }

  /** Queries with one value list split over as many requests as the URL length allows (measured with the list empty). */
  private async listQueries(
    config: DataverseTableOptions,
    select: readonly string[],
    build: (values: readonly string[]) => FilterBuilder,
    values: readonly string[],
    limit: number,
    what: string,
  ): Promise<ODataRow[]> {
    const fixedLength = this.http.resolve(collectionUrl({ entitySet: config.entitySet, select, filter: build([]) })).length;
    const room = this.settings.maxUrlLength - fixedLength;
    if (room < 200)
      throw new DataverseRequestError(`${this.name}: ${what}: the filter leaves no room for values within ${this.settings.maxUrlLength} characters`, 0);
    const chunks = chunkByBudget(values, encodedMemberLength, room);
    const pages = await Promise.all(
      chunks.map((part) => this.collect(collectionUrl({ entitySet: config.entitySet, select, filter: build(part) }), limit, what)),
    );
    return pages.flat();
  }

  async getMany(request: GetManyRequest): Promise<SourceRecord[]> {
    const config = this.table(request.table);
    // An id that is not a GUID cannot exist in Dataverse: absent, like any missing id.
    const ids = [...new Set(request.ids.filter(isGuid).map((id) => id.toLowerCase()))];
    if (ids.length === 0) return [];
    const select = this.select(config, request.fields);
    const conditions = request.filter ?? [];
    const kindOf = await this.kindsFor(request.table, conditions);
    const rows = await this.listQueries(
      config,
      select,
      (part) => {
        const filter = new FilterBuilder();
        for (const condition of conditions)
          filter.add(conditionClause({ ...condition, field: readName(config, condition.field) }, kindOf(condition.field), config.idAttribute, filter));
        return filter.add(listClause('In', config.idAttribute, part, filter));
      },
      ids,
      Number.MAX_SAFE_INTEGER,
      `reading ${request.table} by id`,
    );
    const seen = new Set<string>();
    const out: SourceRecord[] = [];
    for (const row of rows) {
      const record = this.toRecord(config, row);
      if (!seen.has(record.id)) out.push(record);
      seen.add(record.id);
    }
    return out;
  }

  /**
   * Dataverse compares strings without regard to case (and accents), so one
   * In per field returns a superset of both case-sensitive and insensitive
   * matches; the caller re-checks exactly. The longest list is split over
   * requests; the others go whole while they fit in half the URL, and are left
   * out beyond that (a wider superset, still correct).
   */
  async findCandidates(request: FindCandidatesRequest): Promise<SourceRecord[]> {
    const config = this.table(request.table);
    // A field that must equal one of no values: nothing matches.
    if (request.conditions.some((c) => c.values.length === 0)) return [];
    const kindOf = await this.kindsFor(request.table, request.filter);
    const lists = request.conditions
      .map((c) => ({ field: readName(config, assertIdentifier(c.field)), values: [...new Set(c.values)] }))
      .map((c) => ({ ...c, cost: c.values.reduce((n, v) => n + encodedMemberLength(v), 0) + 90 + c.field.length }))
      .sort((a, b) => b.cost - a.cost);
    const select = this.select(config, request.fields);
    const base = (): FilterBuilder => {
      const filter = new FilterBuilder();
      for (const condition of request.filter)
        filter.add(conditionClause({ ...condition, field: readName(config, condition.field) }, kindOf(condition.field), config.idAttribute, filter));
      return filter;
    };
    const inList = (filter: FilterBuilder, field: string, values: readonly string[]): FilterBuilder => filter.add(listClause('In', field, values, filter));
    if (lists.length === 0) {
      const rows = await this.collect(
        collectionUrl({ entitySet: config.entitySet, select, filter: base() }),
        request.limit,
        `finding ${request.table} candidates`,
      );
      return rows.map((row) => this.toRecord(config, row));
    }
    const [primary, ...others] = lists;
    const baseLength = this.http.resolve(collectionUrl({ entitySet: config.entitySet, select, filter: inList(base(), primary.field, []) })).length;
    const half = (this.settings.maxUrlLength - baseLength) / 2;
    const kept: typeof others = [];
    let used = 0;
    for (const other of [...others].sort((a, b) => a.cost - b.cost)) {
      if (used + other.cost <= half) {
        kept.push(other);
        used += other.cost;
      }
    }
    const rows = await this.listQueries(
      config,
      select,
      (part) => {
        const filter = inList(base(), primary.field, part);
        for (const other of kept) inList(filter, other.field, other.values);
        return filter;
      },
      primary.values,
      request.limit,
      `finding ${request.table} candidates`,
    );
    const seen = new Map<string, SourceRecord>();
    for (const row of rows) {
      const record = this.toRecord(config, row);
      seen.set(record.id, record);
    }
    return [...seen.values()].slice(0, request.limit);
  }

  // ---- writes ----

  private recordUrl(config: DataverseTableOptions, id: string, withSelect: boolean): string {
    const path = `${config.entitySet}(${id.toLowerCase()})`;
    return this.http.resolve(withSelect ? `${path}?$select=${encodeQueryValue(`${config.idAttribute},${MODIFIED_ON}`)}` : path);
  }

  /** One $batch request; throws ThrottledError when the service throttled any of its operations. */
  private async sendBatch(parts: readonly BatchRequestPart[]): Promise<BatchResponsePart[]> {
    const boundary = `batch_${randomUUID()}`;
    const response = await this.send({
      method: 'POST',
      url: '$batch',
      headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}`, Prefer: 'odata.continue-on-error' },
      body: buildBatchBody(boundary, parts),
    });
    const contentType = response.headers.get('content-type');
    if (!boundaryOf(contentType)) {
      if (response.status >= 400) throw this.refused(`$batch of ${parts.length} operations`, response);
      throw new DataverseRequestError(`${this.name}: $batch answered ${response.status} without a multipart body`, response.status);
    }
    const results = parseBatchResponse(contentType, response.text);
    // Without continue-on-error the service stops at the first failure: the operations after it were not carried out.
    while (results.length < parts.length) results.push({ status: 0, headers: {}, body: '' });
    const throttled = results.slice(0, parts.length).filter((r) => r.status === 429);
    if (throttled.length > 0) {
      // Retrying those records one by one would only throttle harder: the whole batch waits and is retried.
      const delay = Math.max(...throttled.map((r) => retryAfterMs(r.headers['retry-after'] ?? null) ?? DEFAULT_PART_RETRY_MS));
      throw new ThrottledError(`${this.name} throttled ${throttled.length} of ${parts.length} operations of a batch; retry after ${delay} ms`, delay);
    }
    return results.slice(0, parts.length);
  }

  /** Sends the operations in batches of at most batchSize; results in operation order. */
  private async executeBatches(parts: readonly BatchRequestPart[]): Promise<BatchResponsePart[]> {
    if (parts.length === 0) return [];
    // Settle every batch before failing: no write of this call may still be in flight when the activity retries.
    const settled = await Promise.allSettled(chunk(parts, this.settings.batchSize).map((c) => this.sendBatch(c)));
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
    if (rejected.length > 0) throw rejected.find((e) => e instanceof ThrottledError) ?? rejected[0];
    return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  }

  private partError(part: BatchResponsePart, conflictOn412: boolean): RecordWriteError {
    if (part.status === 0) return { kind: 'transient', message: 'not carried out: the batch stopped at an earlier failure' };
    const { code, message } = parseODataError(part.status, part.body);
    const kind: RecordWriteError['kind'] =
      part.status === 412 && conflictOn412
        ? 'conflict'
        : part.status === 404
          ? 'notFound'
          : part.status === 429 || part.status === 408 || part.status >= 500
            ? 'transient'
            : 'permanent';
    return { kind, code, message: redact(message), detail: redact(`HTTP ${part.status}${code ? ` ${code}` : ''}: ${part.body.slice(0, 2000)}`) };
  }

  /** modifiedon and ETag from a write's representation; null when the service sent none (204). */
  private written(part: BatchResponsePart, id: string): Extract<WriteResult, { ok: true }> | null {
    const body = parseJson(part.body);
    if (!isObject(body) || typeof body[MODIFIED_ON] !== 'string') return null;
    const etag = body['@odata.etag'] ?? part.headers.etag;
    return { ok: true, id, modifiedOn: body[MODIFIED_ON], version: typeof etag === 'string' ? etag : undefined };
  }

  /**
   * Takes a successful part's answer as record `i`'s result, or queues the
   * record for a read-back when the answer carried no representation.
   * False when the part did not succeed.
   */
  private accept(part: BatchResponsePart, i: number, id: string, results: (WriteResult | undefined)[], pending: Map<number, string>): boolean {
    if (!SUCCESS.has(part.status)) return false;
    const ok = this.written(part, id);
    if (ok) results[i] = ok;
    else pending.set(i, id);
    return true;
  }

  /** Fills results a write answered without a representation by reading the records back. */
  private async readBack(table: string, results: (WriteResult | undefined)[], pending: Map<number, string>): Promise<void> {
    if (pending.size === 0) return;
    const found = new Map((await this.getMany({ table, ids: [...pending.values()], fields: [] })).map((r) => [r.id, r]));
    for (const [i, id] of pending) {
      const record = found.get(id.toLowerCase());
      results[i] = record
        ? { ok: true, id: record.id, modifiedOn: record.modifiedOn, version: record.version }
        : { ok: false, id, error: { kind: 'transient', message: `${table} ${id} was written but could not be read back` } };
    }
  }

  /** A write's JSON body, lookups bound through their navigation properties; or why the values cannot be sent. */
  private payload(config: DataverseTableOptions, values: Record<string, unknown>): { body: string } | { problem: string } {
    const bad = Object.keys(values).find((k) => !isIdentifier(k));
    if (bad !== undefined) return { problem: `${JSON.stringify(bad)} is not an attribute name` };
    const written = writeValues(config, values);
    return 'problem' in written ? written : { body: JSON.stringify(written.body) };
  }

  async createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]> {
    const config = this.table(table);
    const results: (WriteResult | undefined)[] = new Array(records.length);
    const sent: number[] = [];
    const parts: BatchRequestPart[] = [];
    const bodies = new Map<number, string>();
    records.forEach((record, i) => {
      const payload = !isGuid(record.key) ? { problem: `creation key ${JSON.stringify(record.key)} is not a GUID` } : this.payload(config, record.values);
      if ('problem' in payload) {
        results[i] = { ok: false, id: null, error: { kind: 'permanent', message: payload.problem } };
        return;
      }
      sent.push(i);
      bodies.set(i, payload.body);
      parts.push({
        method: 'PATCH',
        url: this.recordUrl(config, record.key, true),
        // An upsert by key that may only create: a replay finds the record instead of writing a second one.
        headers: { 'If-None-Match': '*', Prefer: 'return=representation' },
        body: payload.body,
      });
    });
    const pending = new Map<number, string>();
    const existing: number[] = [];
    (await this.executeBatches(parts)).forEach((part, j) => {
      const i = sent[j];
      if (this.accept(part, i, records[i].key.toLowerCase(), results, pending)) return;
      if (part.status === 412) existing.push(i);
      else results[i] = { ok: false, id: null, error: this.partError(part, false) };
    });
    if (existing.length > 0) {
      // Created by an earlier attempt whose answer was lost: write the current values over it, as a replayed insert merges.
      const again = await this.executeBatches(
        existing.map((i) => ({
          method: 'PATCH' as const,
          url: this.recordUrl(config, records[i].key, true),
          headers: { 'If-Match': '*', Prefer: 'return=representation' },
          body: bodies.get(i) ?? '{}',
        })),
      );
      again.forEach((part, j) => {
        const i = existing[j];
        if (this.accept(part, i, records[i].key.toLowerCase(), results, pending)) return;
        const error = this.partError(part, false);
        // Deleted between the two requests: the next attempt creates it.
        results[i] = { ok: false, id: null, error: part.status === 404 ? { ...error, kind: 'transient' } : error };
      });
    }
    await this.readBack(table, results, pending);
    for (const i of existing) {
      const result = results[i];
      if (result?.ok) results[i] = { ...result, existed: true };
    }
    return results.map((r) => r ?? { ok: false, id: null, error: { kind: 'transient', message: 'no answer for this record' } });
  }

  async updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]> {
    const config = this.table(table);
    const results: (WriteResult | undefined)[] = new Array(records.length);
    const sent: number[] = [];
    const parts: BatchRequestPart[] = [];
    records.forEach((record, i) => {
      if (!isGuid(record.id)) {
        results[i] = { ok: false, id: record.id, error: { kind: 'notFound', message: `${table} ${record.id} does not exist (not a GUID)` } };
        return;
      }
      const expected = record.expectedVersion;
      const payload =
        expected !== undefined && !/^(W\/)?"[^"\r\n]*"$/.test(expected)
          ? { problem: `expected version ${JSON.stringify(expected)} is not an ETag` }
          : this.payload(config, record.values);
      if ('problem' in payload) {
        results[i] = { ok: false, id: record.id, error: { kind: 'permanent', message: payload.problem } };
        return;
      }
      sent.push(i);
      parts.push({
        method: 'PATCH',
        url: this.recordUrl(config, record.id, true),
        // If-Match also keeps a PATCH from creating a record that was deleted meanwhile.
        headers: { 'If-Match': expected ?? '*', Prefer: 'return=representation' },
        body: payload.body,
      });
    });
    const pending = new Map<number, string>();
    (await this.executeBatches(parts)).forEach((part, j) => {
      const i = sent[j];
      if (!this.accept(part, i, records[i].id.toLowerCase(), results, pending))
        results[i] = { ok: false, id: records[i].id, error: this.partError(part, true) };
    });
    await this.readBack(table, results, pending);
    return results.map((r, i) => r ?? { ok: false, id: records[i].id, error: { kind: 'transient', message: 'no answer for this record' } });
  }

  /** Nothing to release: connections belong to fetch's shared pool, the token lives in memory. */
  async close(): Promise<void> {}

  async deleteMany(table: string, ids: string[]): Promise<WriteResult[]> {
    const config = this.table(table);
    const at = new Date().toISOString();
    const results: (WriteResult | undefined)[] = new Array(ids.length);
    const sent: number[] = [];
    const parts: BatchRequestPart[] = [];
    ids.forEach((id, i) => {
      // Not a GUID: it cannot exist, and deleting a missing record succeeds.
      if (!isGuid(id)) {
        results[i] = { ok: true, id, modifiedOn: at };
        return;
      }
      sent.push(i);
      parts.push({ method: 'DELETE', url: this.recordUrl(config, id, false) });
    });
    (await this.executeBatches(parts)).forEach((part, j) => {
      const i = sent[j];
      results[i] =
        SUCCESS.has(part.status) || part.status === 404
          ? { ok: true, id: ids[i], modifiedOn: at }
          : { ok: false, id: ids[i], error: this.partError(part, true) };
    });
    return results.map((r, i) => r ?? { ok: false, id: ids[i], error: { kind: 'transient', message: 'no answer for this record' } });
  }
}
