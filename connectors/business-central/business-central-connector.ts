/**
 * A connector for Business Central's API v2.0 (customers, contacts, vendors,
 * items, ... of one company): reads page through `@odata.nextLink`, writes go
 * in JSON `$batch` requests of at most 100 operations, creates are idempotent
 * through the record number (record-number.ts), updates and deletes carry
 * `If-Match`. The HTTP layer (connectors/http) brings the token, the bound on
 * concurrent requests and the service limits: a 429 with Retry-After becomes a
 * ThrottledError the activities wait out.
 *
 * A mapping's "table" is the entity set name (`customers`); the record id is
 * the entity's `id` (its SystemId), the modified-on its `lastModifiedDateTime`
 * as BC returns it (milliseconds, UTC), the version its `@odata.etag`.
 *
 * Longer than our other modules on purpose: it is the contract's eight batch
 * methods, each mapped onto BC's API v2.0 ($batch, ETags, numbers for keys);
 * the request plumbing (batch.ts, keyset.ts, odata-query.ts, record-number.ts,
 * options.ts) is already beside it.
 */
import type {
  Connector,
  CreateRecord,
  KeyColumns,
  FindCandidatesRequest,
  GetManyRequest,
  ReadChangedRequest,
  RecordKey,
  ScanKeysRequest,
  SourceRecord,
  UpdateRecord,
  WriteResult,
} from '../connector';
import { BcSubscriptionClient } from './subscriptions';
import { ThrottledError } from '../connector';
import { ConnectorError, refusalKind } from '../connector-error';
import { HttpClient, TransientHttpError, type HttpResponse } from '../http/http-client';
import { ClientCredentialsTokenProvider } from '../http/token-client';
import { parseODataError } from '../http/odata-error';
import { redact } from '../../support/redact';
import { chunk, isObject } from '../../common/collections';
import { diffValues, fieldValue } from '../../domain/field-plan';
import { normalizeMatchValue } from '../../domain/matching';
import { allOf, anyOf, chunkLiterals, fieldName, guidLiteral, ID_FIELD, keysetFilter, MODIFIED_FIELD, queryString, selectList } from './odata-query';
import { isGuid, stringLiteral } from '../odata/literals';
import { canonicalModifiedOn, firstInOrder, hasEnough, withinBounds } from './keyset';
import { batchBody, classifyOperation, ENTITY_EXISTS_CODE, parseBatchResponse, type BatchOperation, type BatchOperationResult } from './batch';
import { NUMBER_LENGTH, recordNumberFor } from './record-number';
import {
  BUSINESS_CENTRAL_SCOPE,
  resolveBusinessCentralOptions,
  resolveBusinessCentralTable,
  type BusinessCentralConnectorOptions,
  type ResolvedBusinessCentralOptions,
  type ResolvedBusinessCentralTable,
} from './options';
import { parseMetadata, type PropertyInfo } from './metadata';

type Row = Record<string, unknown>;

/** A request Business Central refused as a whole (not one operation of a batch), or an answer the connector cannot use. */
export class BusinessCentralRequestError extends ConnectorError {
  override readonly name = 'BusinessCentralRequestError';
  constructor(message: string, status?: number, serviceCode?: string) {
    super(message, { kind: refusalKind(status), status, serviceCode });
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export class BusinessCentralConnector implements Connector {
  readonly name: string;
  private readonly settings: ResolvedBusinessCentralOptions;
  private readonly http: HttpClient;
  private readonly company: string;
  private metadata: Promise<Map<string, PropertyInfo[]>> | null = null;

  constructor(options: BusinessCentralConnectorOptions) {
    this.name = options.name;
    this.settings = resolveBusinessCentralOptions(options);
    this.company = `companies(${guidLiteral(this.settings.companyId)})`;
    const tokens =
      options.tokens ??
      new ClientCredentialsTokenProvider(
        { ...options.credentials, scope: options.credentials.scope ?? BUSINESS_CENTRAL_SCOPE },
        { fetch: options.fetch, name: options.name },
      );
    this.http = new HttpClient({
      name: options.name,
      baseUrl: this.settings.apiUrl,
      tokens,
      maxConcurrency: this.settings.maxConcurrency,
      timeoutMs: this.settings.timeoutMs,
      fetch: options.fetch,
      headers: { Accept: 'application/json' },
    });
  }

  /** Webhook subscriptions of this company (a live-sync receiver keeps one per watched table). */
  subscriptions(now: () => Date = () => new Date()): BcSubscriptionClient {
    return new BcSubscriptionClient(this.http, this.settings.companyId, this.name, now);
  }

  /** The entity set a table name stands for (the table's `entitySet`, or its own name). */
  entitySetOf(table: string): string {
    return this.table(table).entitySet;
  }

  private table(table: string): ResolvedBusinessCentralTable {
    return resolveBusinessCentralTable(this.settings.tables, table);
  }

  private collection(table: string): string {
    return `${this.company}/${this.table(table).entitySet}`;
  }

  private entity(table: string, id: string): string {
    return `${this.collection(table)}(${guidLiteral(id)})`;
  }

  // ---- reading ---------------------------------------------------------------------------------

  private failure(method: string, url: string, response: HttpResponse): BusinessCentralRequestError {
    const { code, message } = parseODataError(response.status, response.text);
    const path = url.split('?')[0];
    return new BusinessCentralRequestError(
      redact(`${this.name}: ${method} ${path} answered HTTP ${response.status}${code ? ` ${code}` : ''}: ${message}`),
      response.status,
      code,
    );
  }

  private async getJson(url: string): Promise<Row> {
    const response = await this.http.send({ method: 'GET', url, headers: { Prefer: `odata.maxpagesize=${this.settings.pageSize}` } });
    if (response.status !== 200) throw this.failure('GET', url, response);
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      throw new TransientHttpError(`${this.name}: the answer to GET ${url.split('?')[0]} is not JSON`);
    }
    if (!isObject(body)) throw new BusinessCentralRequestError(`${this.name}: the answer to GET ${url.split('?')[0]} is not an object`, response.status);
    return body;
  }

  /**
   * Pages of a collection query, following `@odata.nextLink` exactly as sent (its
   * $skiptoken is the server's), until `onPage` says it has enough.
   */
  private async eachPage(url: string, onPage: (rows: Row[]) => boolean | void): Promise<void> {
    let next: string | null = url;
    while (next) {
      const body = await this.getJson(next);
      const rows = Array.isArray(body.value) ? body.value.filter(isObject) : [];
      if (onPage(rows) === true) return;
      next = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : null;
    }
  }

  private toRecord(row: Row): SourceRecord {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (k !== ID_FIELD && k !== MODIFIED_FIELD && !k.startsWith('@odata.')) values[k] = v;
    const etag = row['@odata.etag'];
    return {
      id: String(row[ID_FIELD]),
      modifiedOn: canonicalModifiedOn(String(row[MODIFIED_FIELD] ?? '')),
      ...(typeof etag === 'string' ? { version: etag } : {}),
      values,
    };
  }

  private async readRange(request: ReadChangedRequest): Promise<SourceRecord[]> {
    if (request.limit <= 0) return [];
    const filter = allOf(request.filter, keysetFilter(request));
    if (filter.kind === 'none') return [];
    const url =
      this.collection(request.table) +
      queryString({
        $filter: filter.kind === 'where' ? filter.text : undefined,
        $select: selectList(request.fields),
        $orderby: `${MODIFIED_FIELD},${ID_FIELD}`,
      });
    const kept: SourceRecord[] = [];
    let lastSeen: string | null = null;
    await this.eachPage(url, (rows) => {
      for (const row of rows) {
        const record = this.toRecord(row);
        lastSeen = record.modifiedOn;
        if (withinBounds(record, request.after, request.through)) kept.push(record);
      }
      return hasEnough(kept, request.limit, lastSeen);
    });
    return firstInOrder(kept, request.limit);
  }

  async scanKeys(request: ScanKeysRequest): Promise<RecordKey[]> {
    const records = await this.readRange({ ...request, fields: [], through: null });
    return records.map((r) => ({ modifiedOn: r.modifiedOn, id: r.id }));
  }

  readChanged(request: ReadChangedRequest): Promise<SourceRecord[]> {
    return this.readRange(request);
  }

  async getMany(request: GetManyRequest): Promise<SourceRecord[]> {
    // An id that is not a GUID names no BC record; leaving it out keeps it out of the URL too.
    const ids = unique(request.ids.filter(isGuid).map((id) => id.toLowerCase()));
    if (ids.length === 0) return [];
    const select = selectList(request.fields);
    const pages = await Promise.all(
      chunkLiterals(ids.map(guidLiteral)).map(async (literals) => {
        const filter = allOf(request.filter ?? [], [anyOf(ID_FIELD, literals)]);
        const rows: Row[] = [];
        if (filter.kind === 'none') return rows;
        await this.eachPage(
          this.collection(request.table) + queryString({ $filter: filter.kind === 'where' ? filter.text : undefined, $select: select }),
          (page) => {
            rows.push(...page);
          },
        );
        return rows;
      }),
    );
    return pages.flat().map((row) => this.toRecord(row));
  }

  // ---- describing ------------------------------------------------------------------------------

  private loadMetadata(): Promise<Map<string, PropertyInfo[]>> {
    if (!this.metadata) {
      this.metadata = this.http.send({ method: 'GET', url: '$metadata', headers: { Accept: 'application/xml' } }).then((response) => {
        if (response.status !== 200) throw this.failure('GET', '$metadata', response);
        return parseMetadata(response.text);
      });
      this.metadata.catch(() => {
        this.metadata = null;
      });
    }
    return this.metadata;
  }

  private async properties(table: string): Promise<PropertyInfo[]> {
    const { entitySet } = this.table(table);
    const properties = (await this.loadMetadata()).get(entitySet);
    if (!properties) throw new BusinessCentralRequestError(`${this.name}: the API has no entity set "${entitySet}" (table "${table}").`);
    return properties;
  }

  keyColumns(): KeyColumns {
    return { id: ID_FIELD, modifiedOn: MODIFIED_FIELD };
  }

  async describeTable(table: string): Promise<string[]> {
    const configured = this.table(table).fields;
    if (configured) return unique([ID_FIELD, MODIFIED_FIELD, ...configured]);
    return (await this.properties(table)).map((p) => p.name);
  }

  // ---- writing ---------------------------------------------------------------------------------

  /**
   * Values as BC takes them: field names checked, dates as ISO text, and null
   * as '' for text fields (BC text is never null; the type comes from
   * $metadata, read only when a null is to be sent).
   */
  private async writeValues(table: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let textFields: Set<string> | null = null;
    for (const [field, value] of Object.entries(values)) {
      fieldName(field);
      if (value === undefined) continue;
      if (value === null) {
        textFields ??= await this.properties(table)
          .then((ps) => new Set(ps.filter((p) => p.type === 'Edm.String').map((p) => p.name)))
          .catch(() => new Set<string>());
        out[field] = textFields.has(field) ? '' : null;
      } else out[field] = value instanceof Date ? value.toISOString() : value;
    }
    return out;
  }

  /** Runs operations in $batch requests of at most `batchSize`; results in operation order. */
  private async runBatches(operations: readonly Omit<BatchOperation, 'id'>[]): Promise<BatchOperationResult[]> {
    const results: BatchOperationResult[] = [];
    // One batch after the other: a batch already holds up to 100 writes, and the
    // engine runs several batches of records at once.
    for (const part of chunk(operations, this.settings.batchSize)) {
      const ops: BatchOperation[] = part.map((op, i) => ({ ...op, id: String(i + 1) }));
      const response = await this.http.send({ method: 'POST', url: '$batch', headers: { 'Content-Type': 'application/json' }, body: batchBody(ops) });
      if (response.status !== 200) throw this.failure('POST', '$batch', response);
      const answers = parseBatchResponse(response.text, ops);
      // A throttled operation throttles the batch: the activity waits and retries
      // it whole (creates are adopted by number, updates re-read), never error rows.
      for (const answer of answers) {
        const outcome = classifyOperation(answer);
        if (outcome.kind !== 'throttled') continue;
        if (outcome.retryAfterMs !== null) {
          throw new ThrottledError(`${this.name} throttled an operation of a $batch; retry after ${outcome.retryAfterMs} ms`, outcome.retryAfterMs);
        }
        throw new TransientHttpError(`${this.name} throttled an operation of a $batch (no Retry-After)`, 429);
      }
      results.push(...answers);
    }
    return results;
  }

  /** The result of a write from the record BC answered with; null when the answer carried none. */
  private writeResult(body: unknown): WriteResult | null {
    if (!isObject(body) || typeof body[ID_FIELD] !== 'string' || typeof body[MODIFIED_FIELD] !== 'string') return null;
    const record = this.toRecord(body);
    return { ok: true, id: record.id, modifiedOn: record.modifiedOn, ...(record.version ? { version: record.version } : {}) };
  }

  /** Successful writes whose answer carried no record (a service that answers 204): read back in one call. */
  private async fillFromServer(table: string, results: (WriteResult | null)[], ids: (string | null)[]): Promise<void> {
    const missing = results.flatMap((r, i) => (r === null && ids[i] ? [i] : []));
    if (missing.length === 0) return;
    const found = new Map((await this.getMany({ table, ids: missing.map((i) => ids[i] as string), fields: [] })).map((r) => [r.id, r]));
    for (const i of missing) {
      const record = found.get((ids[i] as string).toLowerCase());
      results[i] = record
        ? { ok: true, id: record.id, modifiedOn: record.modifiedOn, ...(record.version ? { version: record.version } : {}) }
        : { ok: false, id: ids[i], error: { kind: 'notFound', message: `${table} ${ids[i]} was written but could not be read back` } };
    }
  }

  /** Records by number, in one query per chunk of numbers: the look-up behind idempotent creates. */
  private async findByNumbers(table: string, numbers: readonly string[], fields: readonly string[]): Promise<Map<string, SourceRecord>> {
    const { numberField } = this.table(table);
    const found = new Map<string, SourceRecord>();
    if (numbers.length === 0) return found;
    const select = selectList([numberField, ...fields]);
    await Promise.all(
      chunkLiterals(unique(numbers).map(stringLiteral)).map((literals) =>
        this.eachPage(this.collection(table) + queryString({ $filter: anyOf(numberField, literals), $select: select }), (rows) => {
          for (const row of rows) found.set(String(row[numberField]), this.toRecord(row));
        }),
      ),
    );
    return found;
  }

  private numberOf(table: string, record: CreateRecord): string {
    const given = record.values[this.table(table).numberField];
    // A mapping that writes the number itself keys the create on it (it is BC's primary key).
    if (typeof given === 'string' && given.trim() !== '') return given.trim().toUpperCase().slice(0, NUMBER_LENGTH);
    return recordNumberFor(record.key, this.settings.numberPrefix);
  }

  /**
   * Creates records, one per idempotency key: the number derived from the key
   * is looked up first (an earlier attempt's record is returned, updated if its
   * values differ), the rest are created, and a create that collides with a
   * racing one is resolved by a second look-up.
   */
  async createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]> {
    if (records.length === 0) return [];
    const { numberField } = this.table(table);
    const numbers = records.map((r) => this.numberOf(table, r));
    const values = await Promise.all(records.map((r) => this.writeValues(table, r.values)));
    const fields = unique(values.flatMap((v) => Object.keys(v))).filter((f) => f !== numberField);
    const existing = await this.findByNumbers(table, numbers, fields);

    const results: (WriteResult | null)[] = records.map(() => null);
    const writtenIds: (string | null)[] = records.map(() => null);
    const leaderOf = new Map<string, number>();
    const followers: [number, number][] = [];
    const ops: { index: number; op: Omit<BatchOperation, 'id'> }[] = [];
    records.forEach((_, i) => {
      const number = numbers[i];
      const leader = leaderOf.get(number);
      if (leader !== undefined) return void followers.push([i, leader]);
      leaderOf.set(number, i);
      const found = existing.get(number);
      const body = { ...values[i] };
      delete body[numberField];
      if (!found) {
        ops.push({ index: i, op: { method: 'POST', url: this.collection(table), body: { ...body, [numberField]: number } } });
        return;
      }
      writtenIds[i] = found.id;
      const changes = diffValues(body, found.values);
      if (Object.keys(changes).length === 0) {
        results[i] = { ok: true, id: found.id, modifiedOn: found.modifiedOn, ...(found.version ? { version: found.version } : {}) };
      } else {
        ops.push({ index: i, op: { method: 'PATCH', url: this.entity(table, found.id), headers: { 'If-Match': found.version ?? '*' }, body: changes } });
      }
    });

    const answers = await this.runBatches(ops.map((o) => o.op));
    const collided: number[] = [];
    answers.forEach((answer, k) => {
      const i = ops[k].index;
      const outcome = classifyOperation(answer);
      if (outcome.kind === 'ok') results[i] = this.writeResult(answer.body);
      else if (outcome.kind === 'exists') collided.push(i);
      else if (outcome.kind === 'failed') results[i] = { ok: false, id: writtenIds[i], error: outcome.error };
    });
    await this.fillFromServer(table, results, writtenIds);

    if (collided.length > 0) {
      const raced = await this.findByNumbers(
        table,
        collided.map((i) => numbers[i]),
        [],
      );
      for (const i of collided) {
        const found = raced.get(numbers[i]);
        results[i] = found
          ? { ok: true, id: found.id, modifiedOn: found.modifiedOn, ...(found.version ? { version: found.version } : {}) }
          : {
              ok: false,
              id: null,
              error: { kind: 'transient', code: ENTITY_EXISTS_CODE, message: `${table} number ${numbers[i]} exists but could not be read back` },
            };
      }
    }
    // A number already there (found before the write, or by a concurrent create) was written over, not created.
    for (const i of [...records.keys()].filter((i) => existing.has(numbers[i]) || collided.includes(i))) {
      const result = results[i];
      if (result?.ok) results[i] = { ...result, existed: true };
    }
    for (const [i, leader] of followers) results[i] = results[leader];
    return results.map((r) => r ?? { ok: false, id: null, error: { kind: 'transient', message: 'no result for this record' } });
  }

  async updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]> {
    if (records.length === 0) return [];
    const results: (WriteResult | null)[] = records.map(() => null);
    const ops: { index: number; op: Omit<BatchOperation, 'id'> }[] = [];
    for (const [i, record] of records.entries()) {
      if (!isGuid(record.id)) {
        results[i] = { ok: false, id: record.id, error: { kind: 'notFound', message: `${table} ${record.id} is not a Business Central id` } };
        continue;
      }
      // BC requires If-Match on every update; without a version read, '*' says "whatever is there".
      const body = await this.writeValues(table, record.values);
      ops.push({ index: i, op: { method: 'PATCH', url: this.entity(table, record.id), headers: { 'If-Match': record.expectedVersion ?? '*' }, body } });
    }
    const answers = await this.runBatches(ops.map((o) => o.op));
    answers.forEach((answer, k) => {
      const i = ops[k].index;
      const outcome = classifyOperation(answer);
      if (outcome.kind === 'ok') results[i] = this.writeResult(answer.body);
      else if (outcome.kind === 'failed') results[i] = { ok: false, id: records[i].id, error: outcome.error };
      else results[i] = { ok: false, id: records[i].id, error: { kind: 'permanent', message: 'the update was answered as a create' } };
    });
    await this.fillFromServer(
      table,
      results,
      records.map((r) => r.id),
    );
    return results.map((r, i) => r ?? { ok: false, id: records[i].id, error: { kind: 'transient', message: 'no result for this record' } });
  }

  async deleteMany(table: string, ids: string[]): Promise<WriteResult[]> {
    const at = new Date().toISOString();
    const results: WriteResult[] = ids.map((id) => ({ ok: true, id, modifiedOn: at }));
    const targets = ids.flatMap((id, i) => (isGuid(id) ? [i] : []));
    const answers = await this.runBatches(targets.map((i) => ({ method: 'DELETE', url: this.entity(table, ids[i]), headers: { 'If-Match': '*' } })));
    answers.forEach((answer, k) => {
      const i = targets[k];
      const outcome = classifyOperation(answer);
      // Deleting a record that is already gone is what was asked for.
      if (outcome.kind === 'failed' && outcome.error.kind !== 'notFound') results[i] = { ok: false, id: ids[i], error: outcome.error };
    });
    return results;
  }

  // ---- matching --------------------------------------------------------------------------------

  /**
   * Candidates for one match level. Text `eq` in BC compares as the database
   * collation does, which the connector assumes case-sensitive unless told
   * otherwise: a case-sensitive criterion (or any, with
   * caseInsensitiveTextFilters) narrows on the server in chunks of `eq` ORs;
   * the others are checked here with the same normalization the caller uses,
   * so the result is a superset of the exact matches.
   */
  async findCandidates(request: FindCandidatesRequest): Promise<SourceRecord[]> {
    if (request.limit <= 0 || request.conditions.some((c) => c.values.length === 0)) return [];
    const base = allOf(request.filter);
    if (base.kind === 'none') return [];
    const wanted = request.conditions.map((c) => ({ field: fieldName(c.field), caseSensitive: c.caseSensitive, values: new Set(c.values) }));
    const matches = (record: SourceRecord): boolean =>
      wanted.every((c) => {
        const value = normalizeMatchValue({ value: fieldValue(record.values, c.field) ?? null, caseSensitive: c.caseSensitive });
        return value !== null && c.values.has(value);
      });
    const select = selectList([...request.fields, ...wanted.map((c) => c.field)]);
    const found = new Map<string, SourceRecord>();
    const collect = (rows: Row[]): boolean => {
      for (const row of rows) {
        const record = this.toRecord(row);
        if (matches(record)) found.set(record.id, record);
        if (found.size >= request.limit) return true;
      }
      return false;
    };
    const narrowing = request.conditions
      .filter((c) => c.caseSensitive || this.settings.caseInsensitiveTextFilters)
      .sort((a, b) => a.values.length - b.values.length)[0];
    const where = (extra?: string): string | undefined => {
      const parts = [...(base.kind === 'where' ? [base.text] : []), ...(extra ? [extra] : [])];
      return parts.length ? parts.join(' and ') : undefined;
    };
    if (!narrowing) {
      await this.eachPage(this.collection(request.table) + queryString({ $filter: where(), $select: select }), collect);
    } else {
      for (const literals of chunkLiterals(narrowing.values.map(stringLiteral))) {
        let done = false;
        await this.eachPage(
          this.collection(request.table) + queryString({ $filter: where(anyOf(narrowing.field, literals)), $select: select }),
          (rows) => (done = collect(rows)),
        );
        if (done) break;
      }
    }
    return [...found.values()].slice(0, request.limit);
  }
}
