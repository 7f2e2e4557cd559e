/**
 * EMULATOR of the Dataverse Web API (OData v4, /api/data/v9.2/), for tests.
 * Microsoft's service cannot be reached from here; this stands in for it and
 * implements only what the Dataverse connector sends, with the service's rules
 * enforced so a connector that breaks them fails:
 *
 * - OData-Version / OData-MaxVersion 4.0 and Accept: application/json on every request;
 * - collection queries with $select, $filter (see odata-filter.ts), $orderby and
 *   parameter aliases; paging by `Prefer: odata.maxpagesize` (at most 5,000, the
 *   default) with an `@odata.nextLink` whose $skiptoken is opaque and accepted
 *   only in the exact link it was issued in;
 * - `@odata.etag` W/"<versionnumber>", bumped on every write; modifiedon set by
 *   the server in whole seconds (2026-11-25T15:04:05Z);
 * - PATCH by key: If-Match (ETag or *) mismatch or missing -> 412 / 404;
 *   If-None-Match: * on an existing record -> 412; otherwise an upsert that
 *   creates a missing record with the given GUID; `Prefer: return=representation`;
 * - DELETE by key (404 when missing, If-Match honoured);
 * - EntityDefinitions(LogicalName='...')/Attributes metadata;
 * - lookups as Dataverse has them: read (and filtered) only as `_<lookup>_value`,
 *   written only through the single-valued navigation property with
 *   `<navigation>@odata.bind: "/<entityset>(<guid>)"` (null disassociates); the
 *   target must exist; the lookup's own name and `_<lookup>_value` cannot be written;
 * - $batch multipart/mixed with optional changesets (atomic), at most 1,000
 *   operations (more -> 400), per-operation responses, and without
 *   `Prefer: odata.continue-on-error` a stop at the first failure;
 * - service protection limits and faults from the common emulator server, plus
 *   throttling of single batch operations (`throttleParts`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  startEmulatorServer,
  odataError,
  type EmulatorLimits,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultRule,
  type LogEntry,
} from '../common/emulator-server';
import {
  ODataQueryError,
  GUID_PATTERN,
  checkFilter,
  compareByAttribute,
  compareGuids,
  compareRows,
  evaluate,
  parseFilter,
  typeFamily,
  type AttributeType,
  type FilterContext,
  type FilterNode,
} from './odata-filter';
import { BatchSyntaxError, buildBatchResponse, countOperations, parseBatchRequest, type BatchItem, type BatchOperation, type PartResponse } from './multipart';

export type { AttributeType } from './odata-filter';
export { ACCOUNT_ENTITY, CONTACT_ENTITY, type AttributeDefinition, type EntityDefinition } from './entities';
import { ACCOUNT_ENTITY, type EntityDefinition } from './entities';
import { DataverseWebhooks } from './webhooks';

export interface DataverseEmulatorOptions {
  /** @default 'dataverse-emulator-client' */
  clientId?: string;
  /** @default 'dataverse-emulator-secret-0000' */
  clientSecret?: string;
  /** Service protection limits, scaled down from 6,000 requests per 5 minutes. @default 600 per 30 s, 52 concurrent */
  limits?: Partial<EmulatorLimits>;
  /** @default [ACCOUNT_ENTITY] */
  entities?: EntityDefinition[];
  /** @default '/api/data/v9.2/' */
  apiPath?: string;
  /** Server clock (ms). */
  now?: () => number;
  /** Webhook posts: the delay before an asynchronous step posts, and its attempts. @default { delayMs: 100, attempts: 3 } */
  webhookRules?: { delayMs?: number; attempts?: number; concurrency?: number };
  tokenLifetimeSeconds?: number;
}

export type Row = Record<string, unknown>;

/** Runs `run` before a request it matches, `times` times: to change data between a client's read and its write. */
export interface Interception {
  when: (request: EmulatorRequest) => boolean;
  times: number;
  run: () => void;
}

export interface EmulatorStats {
  created: number;
  updated: number;
  deleted: number;
  /** 412 answers: ETag mismatches and If-None-Match on existing records. */
  preconditionFailed: number;
  /** Batch operations answered 429 by throttleParts. */
  throttledParts: number;
}

export interface DataverseEmulator {
  /** http://127.0.0.1:port, the environment URL to give the connector. */
  environmentUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  apiPath: string;
  log: LogEntry[];
  stats: EmulatorStats;
  /** Seeds rows (id generated when absent; modifiedon now unless given). */
  put(entitySet: string, rows: Row[]): Row[];
  /** Every row of an entity set, copies, in (modifiedon, id) order. */
  all(entitySet: string): Row[];
  get(entitySet: string, id: string): Row | undefined;
  /** A user's edit in Dataverse: a later modifiedon (at least a second past the last one) and a new version. */
  edit(entitySet: string, id: string, values: Row): Row;
  remove(entitySet: string, id: string): void;
  /** The next `times` batch operations answer 429 with this Retry-After instead of being carried out. */
  throttleParts(rule: { times: number; retryAfterSeconds: number }): void;
  intercept(rule: Interception): void;
  /** Webhooks: service endpoints, steps on Create/Update/Delete, posts of the execution context. */
  webhooks: DataverseWebhooks;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const SYSTEM_ATTRIBUTES: Record<string, AttributeType> = { modifiedon: 'DateTime', createdon: 'DateTime', versionnumber: 'BigInt' };
const READ_ONLY = new Set(['modifiedon', 'createdon', 'versionnumber']);
const MAX_PAGE_SIZE = 5000;
const MAX_BATCH_OPERATIONS = 1000;
const JSON_HEADERS = { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' };

interface Entity {
  definition: EntityDefinition;
  /** Navigation property -> the lookup's value attribute and the entity set it binds to. */
  navigation: Map<string, { valueAttribute: string; target: string }>;
  types: Map<string, AttributeType>;
  maxLengths: Map<string, number>;
  rows: Map<string, Row>;
  ctx: FilterContext;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whole seconds, as Dataverse reports modifiedon. */
export function toDataverseTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function etagOf(row: Row): string {
  return `W/"${String(row.versionnumber)}"`;
}

function sameEtag(a: string, b: string): boolean {
  const strip = (s: string): string => s.trim().replace(/^W\//, '');
  return strip(a) === strip(b);
}

export async function startDataverseEmulator(options: DataverseEmulatorOptions = {}): Promise<DataverseEmulator> {
  const clientId = options.clientId ?? 'dataverse-emulator-client';
  const clientSecret = options.clientSecret ?? 'dataverse-emulator-secret-0000';
  const apiPath = `/${(options.apiPath ?? '/api/data/v9.2/').replace(/^\/+|\/+$/g, '')}/`;
  const now = options.now ?? Date.now;
  const entities = new Map<string, Entity>();
  const webhooks = new DataverseWebhooks(new Set((options.entities ?? [ACCOUNT_ENTITY]).map((d) => d.logicalName)), () => origin, options.webhookRules);
  const byLogicalName = new Map<string, Entity>();
  for (const definition of options.entities ?? [ACCOUNT_ENTITY]) {
    const types = new Map<string, AttributeType>([[definition.idAttribute, 'Uniqueidentifier'], ...Object.entries(SYSTEM_ATTRIBUTES)]);
    const maxLengths = new Map<string, number>();
    for (const [name, attr] of Object.entries(definition.attributes)) {
      const def = typeof attr === 'string' ? { type: attr } : attr;
      types.set(name, def.type);
      if (def.maxLength !== undefined) maxLengths.set(name, def.maxLength);
    }
    const navigation = new Map<string, { valueAttribute: string; target: string }>();
    for (const [name, lookup] of Object.entries(definition.lookups ?? {})) {
      const valueAttribute = `_${name}_value`;
      types.set(valueAttribute, 'Uniqueidentifier');
      navigation.set(lookup.navigationProperty, { valueAttribute, target: lookup.target });
    }
    const entity: Entity = { definition, navigation, types, maxLengths, rows: new Map(), ctx: { entityName: definition.logicalName, types } };
    entities.set(definition.entitySet, entity);
    byLogicalName.set(definition.logicalName, entity);
  }
  let version = 1_000_000;
  const stats: EmulatorStats = { created: 0, updated: 0, deleted: 0, preconditionFailed: 0, throttledParts: 0 };
  const partThrottle = { times: 0, retryAfterSeconds: 1 };
  const interceptions: Interception[] = [];
  /** nextLinks issued (path and query, exactly) -> the sort key of the last row of the page they follow. */
  const issuedLinks = new Map<string, Row>();
  /** While a changeset runs: how to undo its writes. */
  let undo: (() => void)[] | null = null;
  let origin = '';

  const entityOf = (entitySet: string): Entity => {
    const entity = entities.get(entitySet);
    if (!entity) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${entitySet}'.`);
    return entity;
  };

  const setRow = (entity: Entity, id: string, row: Row | undefined): void => {
    const previous = entity.rows.get(id);
    if (undo) undo.push(() => (previous ? entity.rows.set(id, previous) : entity.rows.delete(id)));
    if (row) entity.rows.set(id, row);
    else entity.rows.delete(id);
    // Webhook steps see committed changes only: a change set that rolls back cancels its posts.
    const posts = webhooks.noteChange(entity.definition.logicalName, id, !row ? 'Delete' : previous ? 'Update' : 'Create');
    if (undo && posts.length) undo.push(() => webhooks.cancel(posts));
  };

  /** The body with its @odata.bind annotations resolved to lookup values, as the platform stores them. */
  const bindings = (entity: Entity, values: Row): Row => {
    const out: Row = {};
    for (const [name, value] of Object.entries(values)) {
      const at = name.indexOf('@');
      if (at < 0) {
        if (entity.definition.lookups && Object.hasOwn(entity.definition.lookups, name))
          throw new HttpError(
            400,
            '0x80060888',
            `An undeclared property '${name}' which only has property annotations in the payload but no property value was found in the payload. Bind the lookup through its navigation property.`,
          );
        if (/^_.+_value$/.test(name) && entity.types.has(name))
          throw new HttpError(400, '0x80048d19', `The attribute '${name}' is read-only and cannot be set.`);
        out[name] = value;
        continue;
      }
      const property = name.slice(0, at);
      const nav = entity.navigation.get(property);
      if (name.slice(at) !== '@odata.bind' || !nav)
        throw new HttpError(400, '0x80060888', `An undeclared property '${property}' which only has property annotations in the payload was found.`);
      if (value === null) {
        out[nav.valueAttribute] = null;
        continue;
      }
      const ref = typeof value === 'string' ? /^(?:https?:\/\/[^/]+)?\/?(?:.*\/)?([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)$/.exec(value) : null;
      if (!ref || ref[1] !== nav.target || !GUID_PATTERN.test(ref[2]))
        throw new HttpError(400, '0x80060888', `The value of '${name}' must be a reference to a ${nav.target} record, such as "/${nav.target}(<guid>)".`);
      const target = entities.get(nav.target);
      const id = ref[2].toLowerCase();
      if (!target?.rows.has(id)) throw new HttpError(400, '0x80040217', `${target?.definition.logicalName ?? nav.target} With Id = ${id} Does Not Exist`);
      out[nav.valueAttribute] = id;
    }
    return out;
  };

  const checkValues = (entity: Entity, values: Row): void => {
    for (const [name, value] of Object.entries(values)) {
      const type = entity.types.get(name);
      if (!type)
        throw new HttpError(400, '0x80060888', `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity.definition.logicalName}'.`);
      if (READ_ONLY.has(name) || name === entity.definition.idAttribute)
        throw new HttpError(400, '0x80048d19', `The attribute '${name}' is read-only and cannot be set.`);
      if (value === null) continue;
      const family = typeFamily(type);
      const ok =
        family === 'string'
          ? typeof value === 'string'
          : family === 'number'
            ? typeof value === 'number' && Number.isFinite(value)
            : family === 'boolean'
              ? typeof value === 'boolean'
              : family === 'guid'
                ? typeof value === 'string' && GUID_PATTERN.test(value)
                : typeof value === 'string' && !Number.isNaN(Date.parse(value));
      if (!ok) {
        throw new HttpError(
          400,
          '0x80048d19',
          `Error identified in Payload provided by the user for Entity :'${entity.definition.entitySet}', Cannot convert the literal '${String(value)}' to the expected type of '${name}' (${type}).`,
        );
      }
      const max = entity.maxLengths.get(name);
      if (max !== undefined && typeof value === 'string' && value.length > max) {
        throw new HttpError(
          400,
          '0x80044331',
          `A validation error occurred. The length of the '${name}' attribute of the '${entity.definition.logicalName}' entity exceeded the maximum allowed length of '${max}'.`,
        );
      }
    }
  };

  /** Writes values as the platform does: a new version and a server-side modifiedon. */
  const write = (entity: Entity, id: string, values: Row, existing: Row | undefined, modifiedOn?: string): Row => {
    version += 1;
    const stamp = modifiedOn ?? toDataverseTime(now());
    const row: Row = existing
      ? { ...existing, ...values, modifiedon: stamp, versionnumber: version }
      : {
          ...Object.fromEntries([...entity.types.keys()].map((k) => [k, null])),
          ...values,
          [entity.definition.idAttribute]: id,
          createdon: stamp,
          modifiedon: stamp,
          versionnumber: version,
        };
    setRow(entity, id, row);
    return row;
  };

  const project = (entity: Entity, row: Row, select: string[] | null): Row => {
    const out: Row = { '@odata.etag': etagOf(row) };
    const names = select ?? [...entity.types.keys()];
    for (const name of names) out[name] = row[name] ?? null;
    // The primary key comes back whether selected or not.
    out[entity.definition.idAttribute] = row[entity.definition.idAttribute];
    return out;
  };

  const parseSelect = (entity: Entity, raw: string | null): string[] | null => {
    if (raw === null) return null;
    const names = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const name of names) {
      if (!entity.types.has(name))
        throw new HttpError(400, '0x80060888', `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity.definition.logicalName}'.`);
    }
    return names;
  };

  const pageSizeOf = (headers: Record<string, string | string[] | undefined>): number => {
    const prefer = String(headers.prefer ?? '');
    const m = /odata\.maxpagesize=(\d+)/.exec(prefer);
    return m ? Math.max(1, Math.min(MAX_PAGE_SIZE, Number(m[1]))) : MAX_PAGE_SIZE;
  };

  /** A collection GET: filter, order (primary key last, so keys are unique), page. */
  const queryCollection = (
    entity: Entity,
    pathAndQuery: string,
    query: URLSearchParams,
    headers: Record<string, string | string[] | undefined>,
  ): EmulatorResponse => {
    for (const key of query.keys()) {
      if (key.startsWith('@')) continue;
      if (!['$select', '$filter', '$orderby', '$skiptoken', '$top'].includes(key))
        throw new HttpError(400, '0x80060888', `The query parameter '${key}' is not supported.`);
    }
    const select = parseSelect(entity, query.get('$select'));
    const aliases = new Map([...query.entries()].filter(([k]) => k.startsWith('@')));
    let filter: FilterNode | null = null;
    const filterText = query.get('$filter');
    if (filterText !== null) {
      filter = parseFilter(filterText, aliases);
      checkFilter(filter, entity.ctx);
    }
    const order: { name: string; desc: boolean }[] = [];
    for (const item of (query.get('$orderby') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [name, direction = 'asc', ...extra] = item.split(/\s+/);
      if (!entity.types.has(name) || !['asc', 'desc'].includes(direction) || extra.length > 0)
        throw new HttpError(400, '0x80060888', `Invalid $orderby item '${item}'.`);
      order.push({ name, desc: direction === 'desc' });
    }
    const id = entity.definition.idAttribute;
    if (!order.some((o) => o.name === id)) order.push({ name: id, desc: false });
    const compare = (a: Row, b: Row): number => {
      for (const o of order) {
        const c = compareRows(entity.types.get(o.name) as AttributeType, o.name, a, b);
        if (c !== 0) return o.desc ? -c : c;
      }
      return 0;
    };
    let rows = [...entity.rows.values()].filter((r) => !filter || evaluate(filter, r, entity.ctx));
    rows.sort(compare);
    const skiptoken = query.get('$skiptoken');
    if (skiptoken !== null) {
      const last = issuedLinks.get(pathAndQuery);
      if (!last) throw new HttpError(400, '0x80060888', 'The $skiptoken is not valid for this request: follow @odata.nextLink exactly as it was returned.');
      // Like Dataverse's paging cookie: the next page starts after the last row served, whatever changed since.
      rows = rows.filter((r) => compare(r, last) > 0);
    }
    const top = query.get('$top');
    if (top !== null) {
      if (!/^\d+$/.test(top)) throw new HttpError(400, '0x80060888', `Invalid $top '${top}'.`);
      rows = rows.slice(0, Number(top));
    }
    const size = pageSizeOf(headers);
    const page = rows.slice(0, size);
    const body: Row = {
      '@odata.context': `${origin}${apiPath}$metadata#${entity.definition.entitySet}${select ? `(${select.join(',')})` : ''}`,
      value: page.map((r) => project(entity, r, select)),
    };
    if (rows.length > size && top === null) {
      const base = pathAndQuery.replace(/[?&]\$skiptoken=[^&]*/g, '');
      const token = encodeURIComponent(`<cookie pagenumber="${randomBytes(6).toString('hex')}"/>`).replace(/%/g, '%25');
      const link = `${base}${base.includes('?') ? '&' : '?'}$skiptoken=${token}`;
      issuedLinks.set(link, page[page.length - 1]);
      body['@odata.nextLink'] = `${origin}${link}`;
    }
    return { status: 200, headers: { ...JSON_HEADERS, 'Preference-Applied': `odata.maxpagesize=${size}` }, body: JSON.stringify(body) };
  };

  const metadata = (logicalName: string): EmulatorResponse => {
    const entity = byLogicalName.get(logicalName);
    if (!entity) throw new HttpError(404, '0x80040217', `Could not find an entity with name ${logicalName}.`);
    const lookups = Object.keys(entity.definition.lookups ?? {});
    const valueAttributes = new Set(lookups.map((name) => `_${name}_value`));
    const value = [
      ...[...entity.types.entries()].filter(([name]) => !valueAttributes.has(name)).map(([LogicalName, AttributeType]) => ({ LogicalName, AttributeType })),
      ...lookups.map((LogicalName) => ({ LogicalName, AttributeType: 'Lookup' })),
    ].map((a) => ({ ...a, MetadataId: randomUUID() }));
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: JSON.stringify({
        '@odata.context': `${origin}${apiPath}$metadata#EntityDefinitions('${logicalName}')/Attributes(LogicalName,AttributeType)`,
        value,
      }),
    };
  };

  /** One operation, standalone or inside a batch; `url` relative to the service root. */
  const operation = (method: string, url: string, headers: Record<string, string | string[] | undefined>, body: string): EmulatorResponse => {
    const question = url.indexOf('?');
    const path = question < 0 ? url : url.slice(0, question);
    const query = new URLSearchParams(question < 0 ? '' : url.slice(question + 1));
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      parsed = undefined;
    }
    const hook = webhooks.handle(method, path, query, parsed);
    if (hook) return { status: hook.status, headers: JSON_HEADERS, body: hook.body === undefined ? '' : JSON.stringify(hook.body) };
    const meta = /^EntityDefinitions\(LogicalName='([A-Za-z0-9_]+)'\)\/Attributes$/.exec(path);
    if (meta && method === 'GET') return metadata(meta[1]);
    const single = /^([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)$/.exec(path);
    if (!single) {
      const entity = entityOf(path);
      if (method !== 'GET') throw new HttpError(405, '0x80060888', `${method} is not supported on the collection ${path}.`);
      return queryCollection(entity, `${apiPath}${url}`, query, headers);
    }
    const entity = entityOf(single[1]);
    const key = single[2].toLowerCase();
    if (!GUID_PATTERN.test(key)) throw new HttpError(400, '0x80060888', `Bad Request - Error in query syntax: '${single[2]}' is not a valid key.`);
    const existing = entity.rows.get(key);
    const select = parseSelect(entity, query.get('$select'));
    const ifMatch = typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined;
    const ifNoneMatch = typeof headers['if-none-match'] === 'string' ? headers['if-none-match'] : undefined;
    const missing = (): HttpError => new HttpError(404, '0x80040217', `${entity.definition.logicalName} With Id = ${key} Does Not Exist`);
    const checkIfMatch = (): void => {
      if (ifMatch === undefined || !existing) return;
      if (ifMatch.trim() !== '*' && !sameEtag(ifMatch, etagOf(existing))) {
        stats.preconditionFailed++;
        throw new HttpError(412, '0x80060882', "The version of the existing record doesn't match the RowVersion property provided.");
      }
    };
    if (method === 'GET') {
      if (!existing) throw missing();
      return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(project(entity, existing, select)) };
    }
    if (method === 'DELETE') {
      if (!existing) throw missing();
      checkIfMatch();
      setRow(entity, key, undefined);
      stats.deleted++;
      return { status: 204, headers: { 'OData-Version': '4.0' } };
    }
    if (method !== 'PATCH') throw new HttpError(405, '0x80060888', `${method} is not supported on a single record.`);
    let values: unknown;
    try {
      values = JSON.parse(body);
    } catch {
      throw new HttpError(400, '0x80048d19', 'The request body is not valid JSON.');
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      throw new HttpError(400, '0x80048d19', 'The request body must be a JSON object.');
    if (existing && ifNoneMatch?.trim() === '*') {
      stats.preconditionFailed++;
      throw new HttpError(412, '0x80040237', 'A record with matching key values already exists.');
    }
    if (!existing && ifMatch !== undefined) throw missing();
    checkIfMatch();
    const bound = bindings(entity, values as Row);
    checkValues(entity, bound);
    const row = write(entity, key, bound, existing);
    if (existing) stats.updated++;
    else stats.created++;
    const location = `${origin}${apiPath}${entity.definition.entitySet}(${key})`;
    const written = { 'OData-Version': '4.0', ETag: etagOf(row), 'OData-EntityId': location };
    if (/return=representation/.test(String(headers.prefer ?? ''))) {
      return {
        status: existing ? 200 : 201,
        headers: { ...JSON_HEADERS, ...written, 'Preference-Applied': 'return=representation' },
        body: JSON.stringify(project(entity, row, select)),
      };
    }
    return { status: 204, headers: written };
  };

  const safely = (run: () => EmulatorResponse): EmulatorResponse => {
    try {
      return run();
    } catch (error) {
      if (error instanceof HttpError) return odataError(error.status, error.code, error.message);
      if (error instanceof ODataQueryError) return odataError(400, error.code, error.message);
      throw error;
    }
  };

  /** A batch operation's URL relative to the service root. */
  const relative = (url: string): string => {
    let path = url;
    if (/^https?:\/\//i.test(path)) {
      const parsed = new URL(path);
      if (parsed.origin !== origin) throw new HttpError(400, '0x80060888', `The batch operation URL ${url} is not on this service.`);
      path = `${parsed.pathname}${parsed.search}`;
    }
    if (path.startsWith(apiPath)) return path.slice(apiPath.length);
    if (path.startsWith('/')) throw new HttpError(404, '0x8006088a', `Resource not found: ${path}`);
    return path;
  };

  const batchOperation = (op: BatchOperation): PartResponse => {
    if (partThrottle.times > 0) {
      partThrottle.times--;
      stats.throttledParts++;
      const r = odataError(429, '0x80072321', 'Combined execution time of incoming requests exceeded limit.', {
        'Retry-After': String(partThrottle.retryAfterSeconds),
      });
      return { status: r.status, headers: r.headers ?? {}, body: r.body ?? '' };
    }
    const r = safely(() => operation(op.method, relative(op.url), op.headers, op.body));
    return { status: r.status, headers: r.headers ?? {}, body: r.body ?? '' };
  };

  const batch = (request: EmulatorRequest): EmulatorResponse => {
    let items: BatchItem[];
    try {
      items = parseBatchRequest(typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : undefined, request.body);
    } catch (error) {
      if (error instanceof BatchSyntaxError) return odataError(400, '0x80060888', error.message);
      throw error;
    }
    const count = countOperations(items);
    if (count > MAX_BATCH_OPERATIONS) {
      return odataError(400, '0x80060891', `The batch has ${count} requests; the maximum number of requests in a batch is ${MAX_BATCH_OPERATIONS}.`);
    }
    const continueOnError = /odata\.continue-on-error/.test(String(request.headers.prefer ?? ''));
    const out: (PartResponse | { changeset: PartResponse[]; boundary: string })[] = [];
    let stoppedWith: number | null = null;
    for (const item of items) {
      let failed: PartResponse | null = null;
      if (item.kind === 'operation') {
        const response = batchOperation(item.operation);
        out.push(response);
        if (response.status >= 400) failed = response;
      } else {
        // A changeset is all or nothing: any failure undoes its writes and answers for the whole set.
        undo = [];
        const responses: PartResponse[] = [];
        for (const op of item.operations) {
          const response = batchOperation(op);
          if (response.status >= 400) {
            failed = response;
            break;
          }
          responses.push(response);
        }
        const log = undo;
        undo = null;
        if (failed) {
          for (const step of log.reverse()) step();
          out.push(failed);
        } else out.push({ changeset: responses, boundary: `changesetresponse_${randomUUID()}` });
      }
      if (failed && !continueOnError) {
        stoppedWith = failed.status;
        break;
      }
    }
    const boundary = `batchresponse_${randomUUID()}`;
    return {
      status: stoppedWith ?? 200,
      headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}`, 'OData-Version': '4.0' },
      body: buildBatchResponse(boundary, out),
    };
  };

  const handler = (request: EmulatorRequest): EmulatorResponse => {
    for (const rule of interceptions) {
      if (rule.times > 0 && rule.when(request)) {
        rule.times--;
        rule.run();
      }
    }
    return safely(() => {
      if (!request.url.startsWith(apiPath)) throw new HttpError(404, '0x8006088a', `Resource not found: ${request.url}`);
      const h = request.headers;
      if (h['odata-version'] !== '4.0' || h['odata-maxversion'] !== '4.0') {
        throw new HttpError(400, '0x80060888', 'EMULATOR rule: send OData-Version: 4.0 and OData-MaxVersion: 4.0 with every request.');
      }
      if (!/application\/json/.test(String(h.accept ?? ''))) throw new HttpError(400, '0x80060888', 'EMULATOR rule: send Accept: application/json.');
      const url = request.url.slice(apiPath.length);
      if (url === '$batch' || url.startsWith('$batch?')) {
        if (request.method !== 'POST') throw new HttpError(405, '0x80060888', '$batch takes POST.');
        return batch(request);
      }
      return operation(request.method, url, request.headers, request.body);
    });
  };

  const operationsOf = (request: EmulatorRequest): number => {
    if (request.method !== 'POST' || !request.url.startsWith(`${apiPath}$batch`)) return 1;
    try {
      return countOperations(
        parseBatchRequest(typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : undefined, request.body),
      );
    } catch {
      return 1;
    }
  };

  const server = await startEmulatorServer(
    {
      clientId,
      clientSecret,
      limits: { requestsPerWindow: 600, windowMs: 30_000, maxConcurrent: 52, ...options.limits },
      tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    },
    handler,
    operationsOf,
  );
  origin = server.origin;

  const seedEntity = (entitySet: string): Entity => {
    const entity = entities.get(entitySet);
    if (!entity) throw new Error(`The emulator has no entity set ${entitySet}; it has ${[...entities.keys()].join(', ')}`);
    return entity;
  };

  return {
    environmentUrl: server.origin,
    tokenUrl: server.tokenUrl,
    clientId,
    clientSecret,
    apiPath,
    log: server.log,
    stats,
    put(entitySet, rows) {
      const entity = seedEntity(entitySet);
      return rows.map((input) => {
        const idAttr = entity.definition.idAttribute;
        const id = String(input[idAttr] ?? randomUUID()).toLowerCase();
        const { [idAttr]: _id, modifiedon, createdon: _createdon, versionnumber: _version, ...values } = input;
        checkValues(entity, values);
        return { ...write(entity, id, values, entity.rows.get(id), typeof modifiedon === 'string' ? modifiedon : undefined) };
      });
    },
    all(entitySet) {
      const entity = seedEntity(entitySet);
      const id = entity.definition.idAttribute;
      return [...entity.rows.values()]
        .map((r) => ({ ...r }))
        .sort((a, b) => compareByAttribute('DateTime', a.modifiedon, b.modifiedon) || compareGuids(String(a[id]), String(b[id])));
    },
    get(entitySet, id) {
      const row = seedEntity(entitySet).rows.get(id.toLowerCase());
      return row ? { ...row } : undefined;
    },
    edit(entitySet, id, values) {
      const entity = seedEntity(entitySet);
      const existing = entity.rows.get(id.toLowerCase());
      if (!existing) throw new Error(`${entitySet}(${id}) does not exist`);
      checkValues(entity, values);
      const later = Math.max(now(), Date.parse(String(existing.modifiedon)) + 1000);
      return { ...write(entity, id.toLowerCase(), values, existing, toDataverseTime(later)) };
    },
    remove(entitySet, id) {
      const entity = seedEntity(entitySet);
      entity.rows.delete(id.toLowerCase());
      webhooks.noteChange(entity.definition.logicalName, id.toLowerCase(), 'Delete');
    },
    throttleParts(rule) {
      partThrottle.times = rule.times;
      partThrottle.retryAfterSeconds = rule.retryAfterSeconds;
    },
    intercept(rule) {
      interceptions.push({ ...rule });
    },
    injectFault: (rule) => server.injectFault(rule),
    clearFaults: () => server.clearFaults(),
    webhooks,
    close: async () => {
      webhooks.close();
      await server.close();
    },
  };
}
