/**
 * EMULATOR of Business Central's API v2.0 (`/v2.0/{tenant}/{environment}/api/v2.0/…`)
 * for tests: Microsoft's service cannot be reached from here, so this serves
 * the requests the Business Central connector sends, with the rules the
 * connector relies on, in memory, on the common emulator server (token
 * endpoint, bearer check, request limits, faults, request log).
 *
 * What it enforces, as BC does:
 * - server-driven paging: at most `pageSize` records a page (fewer when
 *   `Prefer: odata.maxpagesize` asks), then an `@odata.nextLink` whose opaque,
 *   signed `$skiptoken` must come back unchanged with the same query;
 * - `$filter` as AL field filters take it: no `or` across two fields, no `in`
 *   (that needs $schemaversion=2.1), text compared case-sensitively;
 * - ids (SystemId GUIDs) assigned on create, `lastModifiedDateTime` set by the
 *   server on every write (milliseconds, UTC), ETags (`W/"JzQ0O…"`) that change
 *   on every write;
 * - `If-Match` on PATCH and DELETE: missing -> 400 (BC's answer is a 400 whose
 *   message asks for a concurrency token), stale -> 412 `Request_EntityChanged`,
 *   `*` matches any version;
 * - the number ("No.", Code[20], upper-cased) is unique: a second record with
 *   it -> 400 `Internal_EntityWithSameKeyExists`; a create without one takes
 *   the next number of the series;
 * - JSON `$batch` of at most 100 operations (more -> 400), each answered on
 *   its own; every operation is counted in the request log.
 * GUIDs sort as SQL Server sorts uniqueidentifier values (not as text), so a
 * client that assumed text order would be caught.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  odataError,
  startEmulatorServer,
  type EmulatorLimits,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultRule,
  type LogEntry,
} from '../common/emulator-server';
import { isObject } from '../../common/collections';
import { ENTITIES, emptyValue, entityBySet, metadataXml, type EntityDefinition } from './entities';
import { BcSubscriptions, DEFAULT_SUBSCRIPTION_RULES, type SubscriptionRules } from './subscriptions';
import { checkFilter, compareValues, crossFieldOr, evaluate, FilterError, parseFilter, type EdmType, type FilterNode } from './odata-filter';

export interface BusinessCentralEmulatorOptions {
  /** @default 'emulator-tenant' */
  tenantId?: string;
  /** @default 'production' */
  environment?: string;
  /** @default a random GUID */
  companyId?: string;
  /** @default 'CRONUS USA, Inc.' */
  companyName?: string;
  /** @default 'bc-client' */
  clientId?: string;
  /** @default a random secret */
  clientSecret?: string;
  /** Records per page the server sends at most (BC: 20,000; scaled down so tests page). @default 50 */
  pageSize?: number;
  /**
   * Service protection, scaled down from BC's 6,000 requests per 5 minutes and
   * 5 concurrent requests (more are queued by BC, refused here).
   * @default { requestsPerWindow: 600, windowMs: 30000, maxConcurrent: 5 }
   */
  limits?: Partial<EmulatorLimits>;
  /** Clock for lastModifiedDateTime. @default () => new Date() */
  now?: () => Date;
  /** Webhook subscription rules, scaled down for tests (subscriptions.ts). */
  subscriptionRules?: Partial<SubscriptionRules>;
}

/** One operation as the emulator serves it: a plain request, or one request of a $batch. */
export interface EmulatedOperation {
  method: string;
  /** Absolute path and query, e.g. /v2.0/t/production/api/v2.0/companies(…)/customers */
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** True for an operation inside a $batch. */
  inBatch: boolean;
}

/** A fault for single operations (inside a $batch too): answer `status` instead of serving. */
export interface OperationFaultRule {
  status: number;
  /** Sent as Retry-After (seconds) when given. */
  retryAfterSeconds?: number;
  times: number;
  when?: (operation: EmulatedOperation) => boolean;
}

export type EmulatedRecord = Record<string, unknown>;

export interface BusinessCentralEmulator {
  origin: string;
  tokenUrl: string;
  /** `{origin}/v2.0/{tenant}/{environment}/api/v2.0`: the connector's apiUrl. */
  apiUrl: string;
  tenantId: string;
  environment: string;
  companyId: string;
  clientId: string;
  clientSecret: string;
  /** Every request served (the token endpoint's too), with its status and operation count. */
  log: LogEntry[];
  /** Faults on whole HTTP requests (common server): throttle, serverError, slow, dropAfterWrite. */
  injectFault(rule: FaultRule): void;
  /** Faults on single operations, inside a $batch too. */
  injectOperationFault(rule: OperationFaultRule): void;
  clearFaults(): void;
  /** Runs before each operation is served (a user's edit racing ours, for instance); null removes it. */
  beforeOperation(hook: ((operation: EmulatedOperation) => void) | null): void;
  /** Adds records as if users had entered them; missing id, number and lastModifiedDateTime are assigned. */
  seed(entitySet: string, records: readonly EmulatedRecord[]): EmulatedRecord[];
  /** All records of an entity set, as the API shows them (with `@odata.etag`), ordered by number. */
  records(entitySet: string): EmulatedRecord[];
  record(entitySet: string, id: string): EmulatedRecord | undefined;
  /** A user's edit in BC: new values, a new lastModifiedDateTime and a new ETag. */
  edit(entitySet: string, id: string, changes: EmulatedRecord): EmulatedRecord;
  remove(entitySet: string, id: string): void;
  /** Webhook subscriptions (`subscriptions` of API v2.0): the handshake, expiry, renewal, batched deliveries. */
  subscriptions: BcSubscriptions;
  /** The connector options that reach this emulator (name, tenant, environment, company, apiUrl, credentials). */
  connectorOptions(): {
    name: string;
    tenantId: string;
    environment: string;
    companyId: string;
    apiUrl: string;
    credentials: { tokenUrl: string; clientId: string; clientSecret: string };
  };
  close(): Promise<void>;
}

interface Stored {
  values: EmulatedRecord;
  version: number;
}

interface OpResult {
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal; charset=utf-8';
const MAX_BATCH = 100;
/** BC's empty GUID: what a Guid field holds when nothing is set. */
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUERY_OPTIONS = new Set(['$filter', '$select', '$orderby', '$top', '$skiptoken', '$schemaversion']);

class OpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function lowerHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

export async function startBusinessCentralEmulator(options: BusinessCentralEmulatorOptions = {}): Promise<BusinessCentralEmulator> {
  const tenantId = options.tenantId ?? 'emulator-tenant';
  const environment = options.environment ?? 'production';
  const companyId = (options.companyId ?? randomUUID()).toLowerCase();
  const companyName = options.companyName ?? 'CRONUS USA, Inc.';
  const clientId = options.clientId ?? 'bc-client';
  const clientSecret = options.clientSecret ?? `secret-${randomBytes(12).toString('hex')}`;
  const pageSize = options.pageSize ?? 50;
  const now = options.now ?? (() => new Date());
  const tokenKey = randomBytes(16);
  const tables = new Map<string, Map<string, Stored>>(ENTITIES.map((e) => [e.entitySet, new Map()]));
  const seriesCounters = new Map<string, number>();
  const operationFaults: OperationFaultRule[] = [];
  let hook: ((operation: EmulatedOperation) => void) | null = null;
  let versionCounter = 0;
  let origin = '';
  const apiPath = `/v2.0/${encodeURIComponent(tenantId)}/${encodeURIComponent(environment)}/api/v2.0`;
  const subscriptions = new BcSubscriptions(`/api/v2.0/companies(${companyId})`, new Set(ENTITIES.map((e) => e.entitySet)), now, {
    ...DEFAULT_SUBSCRIPTION_RULES,
    ...options.subscriptionRules,
  });

  const table = (entitySet: string): Map<string, Stored> => {
    const t = tables.get(entitySet);
    if (!t) throw new Error(`The emulator has no entity set "${entitySet}".`);
    return t;
  };
  const definition = (entitySet: string): EntityDefinition => {
    const d = entityBySet(entitySet);
    if (!d) throw new OpError(404, 'BadRequest_NotFound', `Resource not found for the segment '${entitySet}'.`);
    return d;
  };
  const etag = (stored: Stored): string => {
    const inner = Buffer.from(`${stored.values.id as string};${stored.version}`).toString('base64');
    return `W/"${Buffer.from(`'44;${inner}1;'`).toString('base64')}"`;
  };
  const view = (stored: Stored, select?: readonly string[]): EmulatedRecord => {
    const out: EmulatedRecord = { '@odata.etag': etag(stored) };
    for (const [k, v] of Object.entries(stored.values)) if (!select || select.includes(k)) out[k] = v;
    return out;
  };
  const stamp = (stored: Stored): void => {
    stored.version = ++versionCounter;
    stored.values.lastModifiedDateTime = now().toISOString();
  };
  const nextNumber = (def: EntityDefinition): string => {
    const taken = new Set([...table(def.entitySet).values()].map((s) => s.values.number));
    let n = seriesCounters.get(def.entitySet) ?? 10000;
    let number: string;
    do {
      n += 10;
      number = `${def.seriesPrefix}${n}`;
    } while (taken.has(number));
    seriesCounters.set(def.entitySet, n);
    return number;
  };
  const keyTaken = (def: EntityDefinition, key: unknown, exceptId?: string): boolean =>
    [...table(def.entitySet).values()].some((s) => s.values[def.keyField ?? 'number'] === key && s.values.id !== exceptId);

  /** A value of a related field must name a record of the related table, as BC's TableRelation does. */
  const related = (def: EntityDefinition, field: string, value: unknown): unknown => {
    const relation = def.relations?.[field];
    if (!relation || value === '' || value === null || value === EMPTY_GUID) return value;
    const target = definition(relation.entitySet);
    if (![...table(relation.entitySet).values()].some((s) => s.values[relation.field] === value)) {
      throw new OpError(
        400,
        'Application_DialogException',
        `The field ${relation.caption} of table ${def.tableCaption} contains a value (${String(value)}) that cannot be found in the related table (${target.tableCaption}).`,
      );
    }
    return value;
  };

  /** A property value as BC would store it, or a 400. */
  const validated = (def: EntityDefinition, field: string, value: unknown): unknown => related(def, field, typed(def, field, value));

  const typed = (def: EntityDefinition, field: string, value: unknown): unknown => {
    const type = def.properties[field] as EdmType | undefined;
    if (!type) throw new OpError(400, 'BadRequest_NotFound', `The property '${field}' does not exist on type 'Microsoft.NAV.${def.entityType}'.`);
    if (field === 'id' || field === 'lastModifiedDateTime') throw new OpError(400, 'BadRequest_InvalidRequestBody', `The property '${field}' is read-only.`);
    if (value === null) {
      if (type === 'Edm.String') {
        throw new OpError(
          400,
          'BadRequest_InvalidRequestBody',
          `A null value was found for the property named '${field}', which has the expected type 'Edm.String[Nullable=False]'. The expected type 'Edm.String[Nullable=False]' does not allow null values.`,
        );
      }
      return null;
    }
    const wrongType = (): never => {
      throw new OpError(400, 'BadRequest_InvalidRequestBody', `Cannot convert the literal '${String(value)}' to the expected type '${type}' of '${field}'.`);
    };
    switch (type) {
      case 'Edm.String': {
        if (typeof value !== 'string') return wrongType();
        const codeLength = def.codeFields[field];
        const max = codeLength ?? def.textLengths[field];
        if (max !== undefined && value.length > max) {
          throw new OpError(
            400,
            'Application_StringExceededLength',
            `The length of the string is ${value.length}, but it must be less than or equal to ${max} characters. Value: ${value}`,
          );
        }
        return codeLength !== undefined ? value.toUpperCase() : value;
      }
      case 'Edm.Decimal':
      case 'Edm.Int32':
        return typeof value === 'number' && Number.isFinite(value) ? value : wrongType();
      case 'Edm.Boolean':
        return typeof value === 'boolean' ? value : wrongType();
      case 'Edm.Guid':
        return typeof value === 'string' && GUID.test(value) ? value.toLowerCase() : wrongType();
      default:
        return wrongType();
    }
  };

  const insert = (def: EntityDefinition, given: EmulatedRecord, system: { id?: string; lastModifiedDateTime?: string } = {}): Stored => {
    const values: EmulatedRecord = {};
    for (const [field, type] of Object.entries(def.properties)) values[field] = emptyValue(type as EdmType);
    Object.assign(values, def.defaults);
    for (const [field, value] of Object.entries(given)) values[field] = validated(def, field, value);
    const key = def.keyField ?? 'number';
    if (key === 'code' && (typeof values.code !== 'string' || values.code === ''))
      throw new OpError(400, 'Application_DialogException', `Code must have a value in ${def.tableCaption}: Code=''. It cannot be zero or empty.`);
    if (key === 'number' && (typeof values.number !== 'string' || values.number === '')) values.number = nextNumber(def);
    if (keyTaken(def, values[key])) {
      throw new OpError(
        400,
        'Internal_EntityWithSameKeyExists',
        `The record in table ${def.tableCaption} already exists. Identification fields and values: ${key === 'code' ? 'Code' : 'No.'}='${String(values[key])}'`,
      );
    }
    values.id = (system.id ?? randomUUID()).toLowerCase();
    const stored: Stored = { values, version: 0 };
    stamp(stored);
    if (system.lastModifiedDateTime) stored.values.lastModifiedDateTime = system.lastModifiedDateTime;
    table(def.entitySet).set(values.id as string, stored);
    return stored;
  };

  const requireIfMatch = (headers: Record<string, string>, stored: Stored): void => {
    const ifMatch = headers['if-match'];
    if (ifMatch === undefined || ifMatch === '') {
      throw new OpError(
        400,
        'BadRequest',
        'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
      );
    }
    if (ifMatch !== '*' && ifMatch !== etag(stored)) throw new OpError(412, 'Request_EntityChanged', 'Another user has already changed the record.');
  };

  const signature = (text: string): string => createHmac('sha256', tokenKey).update(text).digest('base64url').slice(0, 22);

  interface Query {
    filter: FilterNode | null;
    select: string[] | undefined;
    orderBy: { field: string; desc: boolean }[];
    top: number | null;
    token: string | null;
    shape: string;
  }

  const parseQuery = (def: EntityDefinition, params: URLSearchParams): Query => {
    for (const key of params.keys()) {
      if (key.startsWith('$') && !QUERY_OPTIONS.has(key)) throw new OpError(400, 'BadRequest_NotSupported', `The query option '${key}' is not supported.`);
    }
    const types = def.properties as Record<string, EdmType>;
    let filter: FilterNode | null = null;
    const filterText = params.get('$filter');
    if (filterText) {
      try {
        filter = parseFilter(filterText);
        checkFilter(filter, types, def.entityType);
        const crossing = crossFieldOr(filter);
        if (crossing)
          throw new FilterError(`An 'or' cannot combine filters on different fields (${crossing.join(', ')}): Business Central filters each field on its own.`);
      } catch (error) {
        if (error instanceof FilterError) throw new OpError(400, 'BadRequest_InvalidFilter', error.message);
        throw error;
      }
    }
    const selectText = params.get('$select');
    const select = selectText ? selectText.split(',').map((s) => s.trim()) : undefined;
    for (const field of select ?? []) {
      if (!types[field]) throw new OpError(400, 'BadRequest_NotFound', `Could not find a property named '${field}' on type 'Microsoft.NAV.${def.entityType}'.`);
    }
    const orderBy = (params.get('$orderby') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((part) => {
        const [field, direction] = part.split(/\s+/);
        if (!types[field])
          throw new OpError(400, 'BadRequest_NotFound', `Could not find a property named '${field}' on type 'Microsoft.NAV.${def.entityType}'.`);
        return { field, desc: direction === 'desc' };
      });
    const topText = params.get('$top');
    const top = topText === null ? null : Number(topText);
    if (top !== null && (!Number.isInteger(top) || top < 0)) throw new OpError(400, 'BadRequest_InvalidRequestUrl', `Invalid $top '${topText}'.`);
    const shape = JSON.stringify([def.entitySet, filterText ?? '', selectText ?? '', params.get('$orderby') ?? '', topText ?? '']);
    return { filter, select, orderBy, top, token: params.get('$skiptoken'), shape };
  };

  const listCollection = (def: EntityDefinition, url: URL, headers: Record<string, string>): OpResult => {
    const query = parseQuery(def, url.searchParams);
    const types = def.properties as Record<string, EdmType>;
    // The primary key (id) ends every order, so a page boundary is a position in one total order.
    const order = [...query.orderBy, { field: 'id', desc: false }];
    const compare = (a: EmulatedRecord, b: EmulatedRecord): number => {
      for (const { field, desc } of order) {
        const c = compareValues(types[field], a[field], b[field]);
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    };
    let rows = [...table(def.entitySet).values()].filter((s) => !query.filter || evaluate(query.filter, s.values, types));
    rows.sort((a, b) => compare(a.values, b.values));
    if (query.top !== null) rows = rows.slice(0, query.top);
    let start = 0;
    if (query.token !== null) {
      const [payload, mac] = query.token.split('.');
      if (!payload || !mac || signature(`${payload}|${query.shape}`) !== mac) {
        throw new OpError(400, 'BadRequest_InvalidToken', 'The $skiptoken is not valid for this query: pass the @odata.nextLink back unchanged.');
      }
      const last = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as EmulatedRecord;
      start = rows.findIndex((s) => compare(s.values, last) > 0);
      if (start < 0) start = rows.length;
    }
    const preferred = /odata\.maxpagesize=(\d+)/.exec(headers.prefer ?? '');
    const size = Math.max(1, Math.min(pageSize, preferred ? Number(preferred[1]) : pageSize));
    const page = rows.slice(start, start + size);
    const body: Record<string, unknown> = {
      '@odata.context': `${origin}${apiPath}/$metadata#companies(${companyId})/${def.entitySet}`,
      value: page.map((s) => view(s, query.select)),
    };
    if (start + size < rows.length) {
      const lastRow = page[page.length - 1].values;
      const key: EmulatedRecord = {};
      for (const { field } of order) key[field] = lastRow[field];
      const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
      const next = new URL(url.toString());
      next.searchParams.delete('$skiptoken');
      const kept = [...next.searchParams.entries()].map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
      kept.push(`$skiptoken=${payload}.${signature(`${payload}|${query.shape}`)}`);
      body['@odata.nextLink'] = `${origin}${next.pathname}?${kept.join('&')}`;
    }
    return { status: 200, headers: { 'Content-Type': JSON_TYPE, ...(preferred ? { 'Preference-Applied': `odata.maxpagesize=${size}` } : {}) }, body };
  };

  /** Serves one operation; `url` is absolute (the $batch resolves its relative urls first). */
  const operate = (method: string, url: URL, headers: Record<string, string>, body: unknown): OpResult => {
    if (!url.pathname.startsWith(`${apiPath}/`)) throw new OpError(404, 'BadRequest_NotFound', `No API at ${url.pathname}.`);
    const rest = decodeURIComponent(url.pathname.slice(apiPath.length + 1));
    if (rest === '$metadata' && method === 'GET') return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: { xml: metadataXml() } };
    if (rest === 'companies' && method === 'GET')
      return { status: 200, headers: { 'Content-Type': JSON_TYPE }, body: { value: [{ id: companyId, name: companyName }] } };
    const m = /^companies\(([0-9a-fA-F-]{36})\)\/([A-Za-z]+)(?:\(([0-9a-fA-F-]{36})\))?$/.exec(rest);
    if (!m) throw new OpError(404, 'BadRequest_NotFound', `Resource not found for the segment '${rest}'.`);
    if (m[1].toLowerCase() !== companyId) throw new OpError(404, 'BadRequest_NotFound', `The company '${m[1]}' does not exist.`);
    const def = definition(m[2]);
    const id = m[3]?.toLowerCase();
    if (id === undefined) {
      if (method === 'GET') return listCollection(def, url, headers);
      if (method === 'POST') {
        if (!isObject(body)) throw new OpError(400, 'BadRequest_InvalidRequestBody', 'The request body must be a JSON object.');
        const stored = insert(def, body);
        subscriptions.noteChange(def.entitySet, stored.values.id as string, 'created');
        return {
          status: 201,
          headers: {
            'Content-Type': JSON_TYPE,
            ETag: etag(stored),
            Location: `${origin}${apiPath}/companies(${companyId})/${def.entitySet}(${stored.values.id as string})`,
          },
          body: view(stored),
        };
      }
      throw new OpError(405, 'BadRequest_MethodNotAllowed', `${method} is not allowed on ${def.entitySet}.`);
    }
    const stored = table(def.entitySet).get(id);
    if (!stored) throw new OpError(404, 'BadRequest_NotFound', `The ${def.tableCaption} does not exist. Identification fields and values: Id='${id}'`);
    if (method === 'GET') return { status: 200, headers: { 'Content-Type': JSON_TYPE, ETag: etag(stored) }, body: view(stored) };
    if (method === 'PATCH') {
      requireIfMatch(headers, stored);
      if (!isObject(body)) throw new OpError(400, 'BadRequest_InvalidRequestBody', 'The request body must be a JSON object.');
      const changes: EmulatedRecord = {};
      for (const [field, value] of Object.entries(body)) changes[field] = validated(def, field, value);
      const key = def.keyField ?? 'number';
      if (key in changes && keyTaken(def, changes[key], id)) {
        throw new OpError(
          400,
          'Internal_EntityWithSameKeyExists',
          `The record in table ${def.tableCaption} already exists. Identification fields and values: ${key === 'code' ? 'Code' : 'No.'}='${String(changes[key])}'`,
        );
      }
      Object.assign(stored.values, changes);
      stamp(stored);
      subscriptions.noteChange(def.entitySet, id, 'updated');
      return { status: 200, headers: { 'Content-Type': JSON_TYPE, ETag: etag(stored) }, body: view(stored) };
    }
    if (method === 'DELETE') {
      requireIfMatch(headers, stored);
      table(def.entitySet).delete(id);
      subscriptions.noteChange(def.entitySet, id, 'deleted');
      return { status: 204, headers: {} };
    }
    throw new OpError(405, 'BadRequest_MethodNotAllowed', `${method} is not allowed on a ${def.entityType}.`);
  };

  /** One operation with the test's hook and operation faults applied; errors become OData error answers. */
  const serveOperation = (operation: EmulatedOperation): OpResult => {
    hook?.(operation);
    const rule = operationFaults.find((f) => f.times > 0 && (!f.when || f.when(operation)));
    if (rule) {
      rule.times--;
      const retry: Record<string, string> = rule.retryAfterSeconds !== undefined ? { 'Retry-After': String(rule.retryAfterSeconds) } : {};
      const code = rule.status === 429 ? 'Application_TooManyRequests' : 'Internal_ServerError';
      return { status: rule.status, headers: { 'Content-Type': JSON_TYPE, ...retry }, body: { error: { code, message: `Injected HTTP ${rule.status}.` } } };
    }
    try {
      return operate(operation.method, new URL(operation.path, origin), operation.headers, operation.body);
    } catch (error) {
      if (error instanceof OpError)
        return { status: error.status, headers: { 'Content-Type': JSON_TYPE }, body: { error: { code: error.code, message: error.message } } };
      throw error;
    }
  };

  const batch = (request: EmulatorRequest): EmulatorResponse => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body);
    } catch {
      return odataError(400, 'BadRequest_InvalidRequestBody', 'The $batch body is not JSON.');
    }
    if (!isObject(parsed) || !Array.isArray(parsed.requests))
      return odataError(400, 'BadRequest_InvalidRequestBody', 'The $batch body has no "requests" list.');
    if (parsed.requests.length > MAX_BATCH) {
      return odataError(400, 'BadRequest', `The batch request contains ${parsed.requests.length} operations; the maximum is ${MAX_BATCH}.`);
    }
    const base = `${origin}${apiPath}/`;
    const responses = parsed.requests.map((item: unknown) => {
      if (!isObject(item) || typeof item.id !== 'string' || typeof item.method !== 'string' || typeof item.url !== 'string') {
        return {
          id: isObject(item) && typeof item.id === 'string' ? item.id : '',
          status: 400,
          headers: {},
          body: { error: { code: 'BadRequest', message: 'A batch request needs id, method and url.' } },
        };
      }
      const url = new URL(item.url, base);
      const result = serveOperation({
        method: item.method.toUpperCase(),
        path: `${url.pathname}${url.search}`,
        headers: lowerHeaders(isObject(item.headers) ? item.headers : {}),
        body: item.body,
        inBatch: true,
      });
      return { id: item.id, status: result.status, headers: result.headers, ...(result.body ? { body: result.body } : {}) };
    });
    return { status: 200, headers: { 'Content-Type': JSON_TYPE }, body: JSON.stringify({ responses }) };
  };

  const handler = async (request: EmulatorRequest): Promise<EmulatorResponse> => {
    const path = request.url.split('?')[0];
    if (request.method === 'POST' && path === `${apiPath}/$batch`) return batch(request);
    if (path.startsWith(`${apiPath}/subscriptions`)) {
      let parsed: unknown;
      try {
        parsed = request.body ? JSON.parse(request.body) : undefined;
      } catch {
        return odataError(400, 'BadRequest_InvalidRequestBody', 'The request body is not JSON.');
      }
      const answer = await subscriptions.handle(
        request.method,
        decodeURIComponent(path.slice(apiPath.length + 1)),
        lowerHeaders(request.headers as Record<string, unknown>),
        parsed,
      );
      if (answer) return { status: answer.status, headers: answer.headers, body: answer.body ? JSON.stringify(answer.body) : '' };
    }
    let body: unknown;
    if (request.body) {
      try {
        body = JSON.parse(request.body);
      } catch {
        return odataError(400, 'BadRequest_InvalidRequestBody', 'The request body is not JSON.');
      }
    }
    const result = serveOperation({
      method: request.method,
      path: request.url,
      headers: lowerHeaders(request.headers as Record<string, unknown>),
      body,
      inBatch: false,
    });
    if (result.body && typeof result.body.xml === 'string') return { status: result.status, headers: result.headers, body: result.body.xml };
    return { status: result.status, headers: result.headers, body: result.body ? JSON.stringify(result.body) : '' };
  };

  const countOperations = (request: EmulatorRequest): number => {
    if (request.method !== 'POST' || !request.url.split('?')[0].endsWith('/$batch')) return 1;
    try {
      const parsed = JSON.parse(request.body) as { requests?: unknown };
      return Array.isArray(parsed.requests) ? parsed.requests.length : 1;
    } catch {
      return 1;
    }
  };

  const server = await startEmulatorServer(
    {
      clientId,
      clientSecret,
      limits: { requestsPerWindow: 600, windowMs: 30_000, maxConcurrent: 5, ...options.limits },
    },
    handler,
    countOperations,
  );
  origin = server.origin;

  const seedDefinition = (entitySet: string): EntityDefinition => {
    const def = entityBySet(entitySet);
    if (!def) throw new Error(`The emulator has no entity set "${entitySet}".`);
    return def;
  };

  return {
    origin,
    tokenUrl: server.tokenUrl,
    apiUrl: `${origin}${apiPath}`,
    tenantId,
    environment,
    companyId,
    clientId,
    clientSecret,
    log: server.log,
    injectFault: (rule) => server.injectFault(rule),
    injectOperationFault: (rule) => {
      operationFaults.push({ ...rule });
    },
    clearFaults: () => {
      server.clearFaults();
      operationFaults.length = 0;
    },
    beforeOperation: (fn) => {
      hook = fn;
    },
    seed: (entitySet, records) => {
      const def = seedDefinition(entitySet);
      return records.map((record) => {
        const { id, lastModifiedDateTime, ...given } = record;
        const stored = insert(def, given, {
          id: typeof id === 'string' ? id : undefined,
          lastModifiedDateTime: typeof lastModifiedDateTime === 'string' ? lastModifiedDateTime : undefined,
        });
        subscriptions.noteChange(def.entitySet, stored.values.id as string, 'created');
        return view(stored);
      });
    },
    records: (entitySet) => [...table(entitySet).values()].map((s) => view(s)).sort((a, b) => String(a.number).localeCompare(String(b.number))),
    record: (entitySet, id) => {
      const stored = table(entitySet).get(id.toLowerCase());
      return stored ? view(stored) : undefined;
    },
    edit: (entitySet, id, changes) => {
      const def = seedDefinition(entitySet);
      const stored = table(entitySet).get(id.toLowerCase());
      if (!stored) throw new Error(`No ${entitySet} record ${id}.`);
      const { lastModifiedDateTime, ...rest } = changes;
      for (const [field, value] of Object.entries(rest)) stored.values[field] = validated(def, field, value);
      stamp(stored);
      if (typeof lastModifiedDateTime === 'string') stored.values.lastModifiedDateTime = lastModifiedDateTime;
      subscriptions.noteChange(entitySet, id.toLowerCase(), 'updated');
      return view(stored);
    },
    remove: (entitySet, id) => {
      table(entitySet).delete(id.toLowerCase());
      subscriptions.noteChange(entitySet, id.toLowerCase(), 'deleted');
    },
    subscriptions,
    connectorOptions: () => ({
      name: 'business-central',
      tenantId,
      environment,
      companyId,
      apiUrl: `${origin}${apiPath}`,
      credentials: { tokenUrl: server.tokenUrl, clientId, clientSecret },
    }),
    close: async () => {
      subscriptions.close();
      await server.close();
    },
  };
}
