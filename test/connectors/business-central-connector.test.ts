/**
 * The Business Central connector without Temporal: its pure parts (OData
 * query text, keyset order, $batch, record numbers, $metadata) and the
 * connector against the BC emulator (paging, batching, If-Match, idempotent
 * creates, throttling).
 */
import { ThrottledError, type RecordKey } from '../../connectors/connector';
import { TransientHttpError } from '../../connectors/http/http-client';
import { BusinessCentralConnector, type BusinessCentralConnectorOptions } from '../../connectors/business-central';
import {
  allOf,
  anyOf,
  chunkLiterals,
  conditionFilter,
  dateTimeLiteral,
  fieldName,
  guidLiteral,
  keysetFilter,
  literal,
  ODataQueryError,
  queryString,
} from '../../connectors/business-central/odata-query';
import { canonicalModifiedOn, compareKeys, firstInOrder, hasEnough, withinBounds } from '../../connectors/business-central/keyset';
import { batchBody, classifyOperation, parseBatchResponse, type BatchOperation } from '../../connectors/business-central/batch';
import { base32, NumberPrefixError, recordNumberFor } from '../../connectors/business-central/record-number';
import {
  BUSINESS_CENTRAL_DEFAULTS,
  defaultApiUrl,
  resolveBusinessCentralOptions,
  resolveBusinessCentralTable,
} from '../../connectors/business-central/options';
import { UntrustedUrlError } from '../../connectors/http/url-policy';
import { parseMetadata } from '../../connectors/business-central/metadata';
import { startBusinessCentralEmulator, type BusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { metadataXml } from '../../emulators/business-central/entities';
import { crossFieldOr, parseFilter, sqlGuidKey } from '../../emulators/business-central/odata-filter';

describe('OData query text', () => {
  test('values are literals, whatever they contain', () => {
    expect(literal("O'Brien")).toBe("'O''Brien'");
    const hostile = "x' or number ne '";
    expect(conditionFilter({ field: 'city', op: 'eq', value: hostile })).toEqual({ kind: 'where', text: "city eq 'x'' or number ne '''" });
    // Parsed back, it is one comparison of city with the whole text.
    expect(parseFilter("city eq 'x'' or number ne '''")).toEqual({ kind: 'compare', field: 'city', op: 'eq', value: { type: 'string', value: hostile } });
    expect(literal(12.5)).toBe('12.5');
    expect(literal(true)).toBe('true');
    expect(literal(null)).toBe('null');
    expect(() => literal(Number.NaN)).toThrow(ODataQueryError);
  });

  test('field names, GUIDs and timestamps are checked, not trusted', () => {
    expect(fieldName('displayName')).toBe('displayName');
    for (const bad of ['city eq 1 or x', 'a/b', '', "name'"]) expect(() => fieldName(bad)).toThrow(ODataQueryError);
    expect(guidLiteral('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(() => guidLiteral('1 or 1 eq 1')).toThrow(ODataQueryError);
    expect(dateTimeLiteral('2026-11-25T15:04:05.123Z')).toBe('2026-11-25T15:04:05.123Z');
    expect(() => dateTimeLiteral('2026-11-25 or 1 eq 1')).toThrow(ODataQueryError);
  });

  test('every table-filter operator', () => {
    const where = (c: Parameters<typeof conditionFilter>[0]) => conditionFilter(c);
    expect(where({ field: 'creditLimit', op: 'gte', value: 10 })).toEqual({ kind: 'where', text: 'creditLimit ge 10' });
    expect(where({ field: 'creditLimit', op: 'lte', value: 10 })).toEqual({ kind: 'where', text: 'creditLimit le 10' });
    expect(where({ field: 'country', op: 'in', value: ['US', 'GB'] })).toEqual({ kind: 'where', text: "(country eq 'US' or country eq 'GB')" });
    // Outside the filter grammar (common/filter-grammar.ts): refused, never given a guessed meaning.
    expect(() => where({ field: 'country', op: 'in', value: [] })).toThrow(ODataQueryError);
    expect(where({ field: 'country', op: 'notIn', value: ['US', 'GB'] })).toEqual({ kind: 'where', text: "(country ne 'US' and country ne 'GB')" });
    expect(() => where({ field: 'country', op: 'notIn', value: [] })).toThrow(ODataQueryError);
    expect(() => where({ field: 'displayName', op: 'contains', value: '' })).toThrow(ODataQueryError);
    expect(where({ field: 'displayName', op: 'contains', value: 'Ltd' })).toEqual({ kind: 'where', text: "contains(displayName,'Ltd')" });
    expect(where({ field: 'displayName', op: 'startsWith', value: 'A' })).toEqual({ kind: 'where', text: "startswith(displayName,'A')" });
    expect(where({ field: 'email', op: 'isNull' })).toEqual({ kind: 'where', text: 'email eq null' });
    expect(where({ field: 'email', op: 'isNotNull' })).toEqual({ kind: 'where', text: 'email ne null' });
    expect(() => where({ field: 'country', op: 'eq', value: ['US'] })).toThrow(ODataQueryError);
    expect(
      allOf([
        { field: 'a', op: 'eq', value: 1 },
        { field: 'b', op: 'in', value: ['x'] },
      ]),
    ).toEqual({ kind: 'where', text: "a eq 1 and b eq 'x'" });
    expect(allOf([])).toEqual({ kind: 'all' });
  });

  test('keyset bounds use lastModifiedDateTime alone: BC cannot OR two fields', () => {
    const after = { modifiedOn: '2026-01-01T00:00:00.001Z', id: 'b' };
    const through = { modifiedOn: '2026-01-01T00:00:00.009Z', id: 'c' };
    const parts = keysetFilter({ since: '2025-12-31T00:00:00.000Z', after, through });
    expect(parts).toEqual([
      'lastModifiedDateTime gt 2025-12-31T00:00:00.000Z',
      'lastModifiedDateTime ge 2026-01-01T00:00:00.001Z',
      'lastModifiedDateTime le 2026-01-01T00:00:00.009Z',
    ]);
    const filter = allOf([{ field: 'city', op: 'in', value: ['Oslo', 'Bergen'] }], parts);
    expect(filter.kind).toBe('where');
    if (filter.kind === 'where') expect(crossFieldOr(parseFilter(filter.text))).toBeNull();
    expect(
      crossFieldOr(
        parseFilter(
          'lastModifiedDateTime gt 2026-01-01T00:00:00Z or (lastModifiedDateTime eq 2026-01-01T00:00:00Z and id gt 0f8fad5b-d9cb-469f-a165-70867728950e)',
        ),
      ),
    ).toEqual(['lastModifiedDateTime', 'id']);
  });

  test('lists become one-field ORs in chunks that keep URLs short', () => {
    expect(anyOf('number', ["'A'"])).toBe("number eq 'A'");
    const literals = Array.from({ length: 230 }, (_, i) => `'CS${String(i).padStart(18, '0')}'`);
    const chunks = chunkLiterals(literals);
    expect(chunks.flat()).toEqual(literals);
    for (const c of chunks) expect(encodeURIComponent(anyOf('number', c)).length).toBeLessThan(2048);
    expect(queryString({ $filter: "city eq 'A&B'", $select: 'id', $top: undefined })).toBe("?$filter=city%20eq%20'A%26B'&$select=id");
  });
});

describe('keyset order kept by the connector', () => {
  test('modified-on values compare as text once their fraction has three digits', () => {
    expect(canonicalModifiedOn('2026-11-25T15:04:05Z')).toBe('2026-11-25T15:04:05.000Z');
    expect(canonicalModifiedOn('2026-11-25T15:04:05.1Z')).toBe('2026-11-25T15:04:05.100Z');
    expect(canonicalModifiedOn('2026-11-25T15:04:05.1230000Z')).toBe('2026-11-25T15:04:05.123Z');
    expect(canonicalModifiedOn('2026-11-25T15:04:05.123Z')).toBe('2026-11-25T15:04:05.123Z');
    expect(canonicalModifiedOn('2026-11-25T15:04:05.1234567Z')).toBe('2026-11-25T15:04:05.1234567Z');
    expect(canonicalModifiedOn('2026-11-25T15:04:05Z') < canonicalModifiedOn('2026-11-25T15:04:05.001Z')).toBe(true);
  });

  test('bounds: strictly after, through inclusive, ties cut by id as text', () => {
    const k = (m: string, id: string): RecordKey => ({ modifiedOn: `2026-01-01T00:00:00.00${m}Z`, id });
    expect(withinBounds(k('1', 'b'), k('1', 'a'), null)).toBe(true);
    expect(withinBounds(k('1', 'a'), k('1', 'a'), null)).toBe(false);
    expect(withinBounds(k('2', 'a'), k('1', 'z'), k('2', 'a'))).toBe(true);
    expect(withinBounds(k('2', 'b'), k('1', 'z'), k('2', 'a'))).toBe(false);
    expect(firstInOrder([k('2', 'a'), k('1', 'c'), k('1', 'b')], 2)).toEqual([k('1', 'b'), k('1', 'c')]);
    expect(compareKeys(k('1', 'b'), k('1', 'a'))).toBe(1);
  });

  test('reading stops only when no record still to come can sort among the first `limit`', () => {
    const k = (m: string, id: string): RecordKey => ({ modifiedOn: `2026-01-01T00:00:00.00${m}Z`, id });
    const kept = [k('1', 'a'), k('2', 'z')];
    expect(hasEnough(kept, 3, k('3', 'a').modifiedOn)).toBe(false);
    // The 2nd record's millisecond may still hold a smaller id on the next page.
    expect(hasEnough(kept, 2, k('2', 'z').modifiedOn)).toBe(false);
    expect(hasEnough(kept, 2, k('3', 'a').modifiedOn)).toBe(true);
  });
});

describe('JSON $batch', () => {
  const ops: BatchOperation[] = [
    { id: '1', method: 'POST', url: 'companies(x)/customers', body: { displayName: 'A' } },
    { id: '2', method: 'PATCH', url: 'companies(x)/customers(y)', headers: { 'If-Match': 'W/"x"' }, body: { displayName: 'B' } },
  ];

  test('body shape and the 100-operation limit', () => {
    const body = JSON.parse(batchBody(ops)) as { requests: { id: string; method: string; headers: Record<string, string>; body: unknown }[] };
    expect(body.requests.map((r) => r.id)).toEqual(['1', '2']);
    expect(body.requests[1].headers).toEqual({ 'Content-Type': 'application/json', 'If-Match': 'W/"x"' });
    const many = Array.from({ length: 101 }, (_, i) => ({ id: String(i), method: 'DELETE' as const, url: 'x' }));
    expect(() => batchBody(many)).toThrow(RangeError);
  });

  test('responses are matched to requests by id, whatever their order', () => {
    const text = JSON.stringify({
      responses: [
        {
          id: '2',
          status: 412,
          headers: { 'Content-Type': 'application/json' },
          body: { error: { code: 'Request_EntityChanged', message: 'Another user has already changed the record.' } },
        },
        { id: '1', status: 201, headers: {}, body: { id: 'n' } },
      ],
    });
    const results = parseBatchResponse(text, ops);
    expect(results.map((r) => r.status)).toEqual([201, 412]);
    expect(results[1].headers['content-type']).toBe('application/json');
    expect(() => parseBatchResponse(JSON.stringify({ responses: [{ id: '1', status: 201 }] }), ops)).toThrow(/no answer for operation 2/);
    expect(() => parseBatchResponse('<html>', ops)).toThrow(/not JSON/);
  });

  test('each operation outcome maps to what the engine does with it', () => {
    const r = (status: number, code?: string, headers: Record<string, string> = {}) =>
      classifyOperation({ id: '1', status, headers, body: code ? { error: { code, message: 'm' } } : null });
    expect(r(201)).toEqual({ kind: 'ok' });
    expect(r(204)).toEqual({ kind: 'ok' });
    expect(r(412, 'Request_EntityChanged')).toMatchObject({ kind: 'failed', error: { kind: 'conflict', code: 'Request_EntityChanged', message: 'm' } });
    expect(r(400, 'Request_EntityChanged')).toMatchObject({ kind: 'failed', error: { kind: 'conflict' } });
    expect(r(404, 'BadRequest_NotFound')).toMatchObject({ kind: 'failed', error: { kind: 'notFound' } });
    expect(r(400, 'Internal_EntityWithSameKeyExists')).toEqual({ kind: 'exists' });
    expect(r(429, undefined, { 'retry-after': '3' })).toEqual({ kind: 'throttled', retryAfterMs: 3000 });
    expect(r(429)).toEqual({ kind: 'throttled', retryAfterMs: null });
    expect(r(503, 'Internal_ServerError')).toMatchObject({ kind: 'failed', error: { kind: 'transient' } });
    expect(r(400, 'Application_StringExceededLength')).toMatchObject({
      kind: 'failed',
      error: { kind: 'permanent', code: 'Application_StringExceededLength' },
    });
  });
});

describe('record numbers for idempotent creates', () => {
  test('base32 as RFC 4648 spells it (no padding)', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32(Buffer.from('f'))).toBe('MY');
  });

  test('one key, one number of at most 20 upper-case characters', () => {
    const key = '6f1c2a9e-3b7d-5c4e-8f00-112233445566';
    const number = recordNumberFor(key);
    expect(number).toBe(recordNumberFor(key));
    expect(number).toMatch(/^CS[A-Z2-7]{18}$/);
    expect(recordNumberFor('6f1c2a9e-3b7d-5c4e-8f00-112233445567')).not.toBe(number);
    expect(recordNumberFor(key, 'SYNC-')).toMatch(/^SYNC-[A-Z2-7]{15}$/);
    expect(() => recordNumberFor(key, 'lower')).toThrow(/prefix/);
    expect(() => recordNumberFor(key, 'ELEVENCHARS')).toThrow(/prefix/);
  });
});

describe('options', () => {
  const base: BusinessCentralConnectorOptions = {
    name: 'bc',
    tenantId: 'contoso',
    environment: 'production',
    companyId: '6f8c2a39-3f1e-4b1a-9a57-0c3e1f6b8d21',
    credentials: { tokenUrl: 'https://login.example/token', clientId: 'app', clientSecret: 'secret' },
  };

  test('defaults merged once; page and batch sizes held within bounds', () => {
    const resolved = resolveBusinessCentralOptions(base);
    expect(resolved).toMatchObject({ ...BUSINESS_CENTRAL_DEFAULTS, apiUrl: defaultApiUrl('contoso', 'production'), tables: {} });
    expect(resolveBusinessCentralOptions({ ...base, pageSize: 0, batchSize: 500, maxConcurrency: undefined })).toMatchObject({
      pageSize: 1,
      batchSize: 100,
      maxConcurrency: 5,
    });
    expect(resolveBusinessCentralTable({ contacts: { entitySet: 'contacts', numberField: 'no' } }, 'contacts')).toEqual({
      entitySet: 'contacts',
      numberField: 'no',
      fields: undefined,
    });
    expect(resolveBusinessCentralTable({}, 'customers')).toEqual({ entitySet: 'customers', numberField: 'number', fields: undefined });
  });

  test('a company id that is not a GUID, a bad number prefix and an http API URL elsewhere are refused', () => {
    expect(() => resolveBusinessCentralOptions({ ...base, companyId: 'CRONUS' })).toThrow(ODataQueryError);
    expect(() => resolveBusinessCentralOptions({ ...base, numberPrefix: 'lower' })).toThrow(NumberPrefixError);
    expect(() => resolveBusinessCentralOptions({ ...base, apiUrl: 'http://bc.example/api/v2.0' })).toThrow(UntrustedUrlError);
    expect(() => resolveBusinessCentralTable({ customers: { entitySet: 'customers or 1' } }, 'customers')).toThrow(ODataQueryError);
  });
});

test('$metadata: properties and types per entity set', () => {
  const sets = parseMetadata(metadataXml());
  expect([...sets.keys()].sort()).toEqual(['companies', 'contacts', 'currencies', 'customers', 'items', 'paymentTerms', 'salespeople', 'vendors']);
  const customers = sets.get('customers') ?? [];
  expect(customers.find((p) => p.name === 'displayName')).toEqual({ name: 'displayName', type: 'Edm.String', nullable: false });
  expect(customers.find((p) => p.name === 'lastModifiedDateTime')?.type).toBe('Edm.DateTimeOffset');
});

test('the emulator orders GUIDs as SQL Server does, not as text', () => {
  const a = '00000000-0000-0000-0000-000000000002';
  const b = 'ffffffff-0000-0000-0000-000000000001';
  expect(a < b).toBe(true);
  expect(sqlGuidKey(a) > sqlGuidKey(b)).toBe(true);
});

describe('BusinessCentralConnector against the emulator', () => {
  let emu: BusinessCentralEmulator;
  const open = (overrides: Partial<BusinessCentralConnectorOptions> = {}): BusinessCentralConnector =>
    new BusinessCentralConnector({ ...emu.connectorOptions(), ...overrides });
  const rawToken = async (): Promise<string> => {
    const response = await fetch(emu.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: emu.clientId,
        client_secret: emu.clientSecret,
        scope: 'https://api.businesscentral.dynamics.com/.default',
      }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const raw = async (method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) => {
    const url = path.startsWith('http') ? path : `${emu.apiUrl}/${path}`;
    const response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${await rawToken()}`, 'Content-Type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  const customersPath = (): string => `companies(${emu.companyId})/customers`;
  const customer = (i: number, extra: Record<string, unknown> = {}) => ({
    displayName: `Customer ${i}`,
    city: 'Seattle',
    email: `c${i}@example.com`,
    ...extra,
  });
  const batchEntries = () => emu.log.filter((e) => e.method === 'POST' && e.url.endsWith('/$batch'));

  beforeEach(async () => {
    emu = await startBusinessCentralEmulator({ pageSize: 50 });
  });
  afterEach(async () => {
    await emu.close();
  });

  test('reads page by page through @odata.nextLink, in (modifiedOn, id) order, with a tampered $skiptoken refused', async () => {
    emu.seed(
      'customers',
      Array.from({ length: 120 }, (_, i) => customer(i)),
    );
    const bc = open();
    const keys = await bc.scanKeys({ table: 'customers', filter: [], since: null, after: null, limit: 10_000 });
    expect(keys).toHaveLength(120);
    expect([...keys].sort(compareKeys)).toEqual(keys);
    const pages = emu.log.filter((e) => e.method === 'GET' && e.url.includes('/customers'));
    expect(pages).toHaveLength(3);
    expect(pages.slice(1).every((e) => e.url.includes('$skiptoken='))).toBe(true);

    const first = await raw('GET', `${customersPath()}?$select=id`);
    const next = String(first.body['@odata.nextLink']);
    expect((await raw('GET', next)).status).toBe(200);
    expect((await raw('GET', next.replace(/\$skiptoken=([A-Za-z0-9_-])/, '$skiptoken=x$1'))).status).toBe(400);
    expect((await raw('GET', next.replace('$select=id', '$select=number'))).status).toBe(400);
  });

  test('many records in one millisecond: key ranges cover each exactly once, whatever order the server gives ties', async () => {
    const at = '2026-03-01T10:00:00.123Z';
    emu.seed(
      'customers',
      Array.from({ length: 37 }, (_, i) => customer(i, { lastModifiedDateTime: at })),
    );
    emu.seed(
      'customers',
      Array.from({ length: 5 }, (_, i) => customer(100 + i, { lastModifiedDateTime: '2026-03-01T10:00:00.124Z' })),
    );
    const bc = open({ pageSize: 7 });
    const seen: RecordKey[] = [];
    let after: RecordKey | null = null;
    for (;;) {
      const keys = await bc.scanKeys({ table: 'customers', filter: [], since: null, after, limit: 10 });
      if (keys.length === 0) break;
      const records = await bc.readChanged({
        table: 'customers',
        fields: ['displayName'],
        filter: [],
        since: null,
        after,
        through: keys[keys.length - 1],
        limit: 1_000_000,
      });
      expect(records.map((r) => r.id)).toEqual(keys.map((k) => k.id));
      seen.push(...keys);
      after = keys[keys.length - 1];
    }
    expect(seen).toHaveLength(42);
    expect(new Set(seen.map((k) => k.id)).size).toBe(42);
    expect([...seen].sort(compareKeys)).toEqual(seen);
    expect(seen[0].modifiedOn).toBe(at);
  });

  test('since, table filters (escaped) and the fields asked for', async () => {
    const [old] = emu.seed('customers', [customer(1, { lastModifiedDateTime: '2026-01-01T00:00:00.000Z' })]);
    emu.seed('customers', [customer(2, { city: 'Oslo' }), customer(3, { city: "O'Hare" }), customer(4)]);
    const bc = open();
    const changed = await bc.readChanged({
      table: 'customers',
      fields: ['displayName', 'city'],
      filter: [],
      since: '2026-01-01T00:00:00.000Z',
      after: null,
      through: null,
      limit: 100,
    });
    expect(changed.map((r) => r.values.displayName).sort()).toEqual(['Customer 2', 'Customer 3', 'Customer 4']);
    expect(changed.every((r) => r.id !== old.id && /^W\/"JzQ0O/.test(r.version ?? ''))).toBe(true);
    expect(Object.keys(changed[0].values).sort()).toEqual(['city', 'displayName']);
    const quoted = await bc.readChanged({
      table: 'customers',
      fields: ['city'],
      filter: [{ field: 'city', op: 'in', value: ["O'Hare", 'Oslo'] }],
      since: null,
      after: null,
      through: null,
      limit: 100,
    });
    expect(quoted.map((r) => r.values.city).sort()).toEqual(["O'Hare", 'Oslo']);
    const hostile = await bc.readChanged({
      table: 'customers',
      fields: [],
      filter: [{ field: 'city', op: 'eq', value: "x' or city ne 'x" }],
      since: null,
      after: null,
      through: null,
      limit: 100,
    });
    expect(hostile).toEqual([]);
    await expect(
      bc.readChanged({ table: 'customers', fields: [], filter: [{ field: 'city', op: 'in', value: [] }], since: null, after: null, through: null, limit: 100 }),
    ).rejects.toThrow(/in takes a list of 1 to 100/);
  });

  test('getMany: ids in chunks and pages; unknown and non-GUID ids are absent', async () => {
    const seeded = emu.seed(
      'customers',
      Array.from({ length: 130 }, (_, i) => customer(i)),
    );
    const bc = open();
    const ids = seeded.map((r) => String(r.id));
    const got = await bc.getMany({ table: 'customers', ids: [...ids, '00000000-0000-0000-0000-000000000000', 'C10001'], fields: ['displayName'] });
    expect(got.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(got.find((r) => r.id === ids[5])?.values).toEqual({ displayName: 'Customer 5' });
  });

  test('describeTable from $metadata, or from configuration', async () => {
    const columns = await open().describeTable('customers');
    expect(columns).toEqual(expect.arrayContaining(['id', 'number', 'displayName', 'email', 'lastModifiedDateTime']));
    await expect(open().describeTable('accounts')).rejects.toThrow(/no entity set "accounts"/);
    expect(await open({ tables: { customer: { entitySet: 'customers', fields: ['displayName'] } } }).describeTable('customer')).toEqual([
      'id',
      'lastModifiedDateTime',
      'displayName',
    ]);
  });

  test('creates go in $batch requests of at most 100 and are idempotent by number: a replay creates nothing', async () => {
    const bc = open();
    const records = Array.from({ length: 250 }, (_, i) => ({ key: `key-${i}`, values: customer(i) }));
    const results = await bc.createMany('customers', records);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(batchEntries().map((e) => e.operations)).toEqual([100, 100, 50]);
    const stored = emu.records('customers');
    expect(stored).toHaveLength(250);
    const first = results[0];
    if (!first.ok) throw new Error('expected success');
    expect(emu.record('customers', first.id)).toMatchObject({ displayName: 'Customer 0', number: recordNumberFor('key-0') });
    expect(first.modifiedOn).toBe(emu.record('customers', first.id)?.lastModifiedDateTime);

    expect(results.some((r) => r.ok && r.existed)).toBe(false);
    const replay = await bc.createMany('customers', records);
    expect(replay.map((r) => r.id)).toEqual(results.map((r) => r.id));
    // The connector says the keys named records already there.
    expect(replay.every((r) => r.ok && r.existed === true)).toBe(true);
    expect(emu.records('customers')).toHaveLength(250);
    expect(batchEntries()).toHaveLength(3);

    // A replay with other values updates the record it finds, under its ETag.
    const changed = await bc.createMany('customers', [{ key: 'key-7', values: customer(7, { city: 'Oslo' }) }]);
    expect(changed[0]).toMatchObject({ ok: true, id: results[7].id });
    expect(emu.record('customers', String(results[7].id))).toMatchObject({ city: 'Oslo' });
    expect(emu.records('customers')).toHaveLength(250);
  });

  test('a dropped connection after the create batch was applied: the retry adopts the records, no duplicate', async () => {
    const bc = open();
    const records = Array.from({ length: 30 }, (_, i) => ({ key: `drop-${i}`, values: customer(i) }));
    emu.injectFault({ fault: { kind: 'dropAfterWrite' }, times: 1, when: (r) => r.url.endsWith('/$batch') });
    await expect(bc.createMany('customers', records)).rejects.toBeInstanceOf(TransientHttpError);
    expect(emu.records('customers')).toHaveLength(30);
    const retried = await bc.createMany('customers', records);
    expect(retried.every((r) => r.ok)).toBe(true);
    expect(new Set(retried.map((r) => r.id)).size).toBe(30);
    expect(emu.records('customers')).toHaveLength(30);
  });

  test('concurrent creates of the same key make one record', async () => {
    const a = open();
    const b = open();
    const record = { key: 'same-key', values: customer(1) };
    const [ra, rb] = await Promise.all([a.createMany('customers', [record]), b.createMany('customers', [record])]);
    expect(ra[0]).toMatchObject({ ok: true });
    expect(rb[0]).toMatchObject({ ok: true, id: ra[0].id });
    expect(emu.records('customers')).toHaveLength(1);
  });

  test('a create that loses the race between look-up and insert (Internal_EntityWithSameKeyExists) resolves to the winner', async () => {
    const bc = open();
    let winner: string | null = null;
    emu.beforeOperation((op) => {
      if (op.method === 'POST' && op.inBatch && winner === null)
        winner = String(emu.seed('customers', [customer(9, { number: recordNumberFor('race') })])[0].id);
    });
    const [result] = await bc.createMany('customers', [{ key: 'race', values: customer(9) }]);
    expect(winner).not.toBeNull();
    expect(result).toMatchObject({ ok: true, id: winner });
    expect(emu.records('customers')).toHaveLength(1);
    expect(batchEntries()).toHaveLength(1);
  });

  test('If-Match: updates carry the version read; a stale one is a conflict; no version sends *', async () => {
    const [seeded] = emu.seed('customers', [customer(1)]);
    const id = String(seeded.id);
    const bc = open();
    const [read] = await bc.getMany({ table: 'customers', ids: [id], fields: ['displayName'] });
    const [ok] = await bc.updateMany('customers', [{ id, values: { displayName: 'Renamed' }, expectedVersion: read.version }]);
    expect(ok).toMatchObject({ ok: true, id });
    if (!ok.ok) throw new Error('expected success');
    expect(ok.version).not.toBe(read.version);
    expect(ok.modifiedOn).toBe(emu.record('customers', id)?.lastModifiedDateTime);

    const [stale] = await bc.updateMany('customers', [{ id, values: { displayName: 'Again' }, expectedVersion: read.version }]);
    expect(stale).toMatchObject({ ok: false, id, error: { kind: 'conflict', code: 'Request_EntityChanged' } });
    expect(emu.record('customers', id)).toMatchObject({ displayName: 'Renamed' });

    const [anyVersion] = await bc.updateMany('customers', [{ id, values: { displayName: 'Forced' } }]);
    expect(anyVersion).toMatchObject({ ok: true });
    const [gone] = await bc.updateMany('customers', [{ id: '00000000-0000-0000-0000-000000000001', values: { displayName: 'x' } }]);
    expect(gone).toMatchObject({ ok: false, error: { kind: 'notFound' } });
    const [notAnId] = await bc.updateMany('customers', [{ id: 'C1', values: { displayName: 'x' } }]);
    expect(notAnId).toMatchObject({ ok: false, error: { kind: 'notFound' } });

    // The emulator, as BC, refuses a PATCH or DELETE without If-Match.
    expect((await raw('PATCH', `${customersPath()}(${id})`, { body: { displayName: 'x' } })).status).toBe(400);
    expect((await raw('DELETE', `${customersPath()}(${id})`)).status).toBe(400);
  });

  test("write errors become RecordWriteErrors with BC's code and message; null text becomes empty text", async () => {
    const [seeded] = emu.seed('customers', [customer(1)]);
    const bc = open();
    const results = await bc.createMany('customers', [
      { key: 'long', values: { displayName: 'x'.repeat(101) } },
      { key: 'fine', values: { displayName: 'Fine', email: null } },
    ]);
    expect(results[0]).toMatchObject({ ok: false, id: null, error: { kind: 'permanent', code: 'Application_StringExceededLength' } });
    expect(results[1]).toMatchObject({ ok: true });
    expect(emu.record('customers', String(results[1].id))).toMatchObject({ displayName: 'Fine', email: '' });
    const [nulled] = await bc.updateMany('customers', [{ id: String(seeded.id), values: { city: null } }]);
    expect(nulled).toMatchObject({ ok: true });
    expect(emu.record('customers', String(seeded.id))).toMatchObject({ city: '' });
  });

  test('deletes carry If-Match; deleting a missing record succeeds', async () => {
    const seeded = emu.seed('customers', [customer(1), customer(2)]);
    const bc = open();
    const results = await bc.deleteMany('customers', [String(seeded[0].id), '00000000-0000-0000-0000-000000000009', 'not-a-guid']);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(emu.records('customers').map((r) => r.id)).toEqual([seeded[1].id]);
  });

  test('throttling: 429 with Retry-After is a ThrottledError (request or operation); without it, a transient error', async () => {
    const bc = open();
    emu.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 2 }, times: 1, when: (r) => r.url.endsWith('/$batch') });
    const thrown = await bc.createMany('customers', [{ key: 'k', values: customer(1) }]).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ThrottledError);
    expect((thrown as ThrottledError).retryAfterMs).toBe(2000);

    emu.injectOperationFault({ status: 429, retryAfterSeconds: 3, times: 1, when: (op) => op.inBatch });
    const inner = await bc.createMany('customers', [{ key: 'k2', values: customer(2) }]).catch((e: unknown) => e);
    expect(inner).toBeInstanceOf(ThrottledError);
    expect((inner as ThrottledError).retryAfterMs).toBe(3000);

    emu.injectOperationFault({ status: 429, times: 1, when: (op) => op.inBatch });
    await expect(bc.createMany('customers', [{ key: 'k3', values: customer(3) }])).rejects.toBeInstanceOf(TransientHttpError);

    emu.injectFault({ fault: { kind: 'serverError', status: 429 }, times: 1 });
    await expect(bc.scanKeys({ table: 'customers', filter: [], since: null, after: null, limit: 10 })).rejects.toBeInstanceOf(TransientHttpError);

    // Nothing was lost: the writes that were throttled are created by the retries, once.
    await bc.createMany('customers', [
      { key: 'k', values: customer(1) },
      { key: 'k2', values: customer(2) },
      { key: 'k3', values: customer(3) },
    ]);
    expect(emu.records('customers').length).toBeLessThanOrEqual(3);
  });

  test('the emulator refuses a $batch of more than 100 operations, and the connector never sends one', async () => {
    const requests = Array.from({ length: 101 }, (_, i) => ({ id: String(i), method: 'GET', url: customersPath() }));
    const answer = await raw('POST', '$batch', { body: { requests } });
    expect(answer.status).toBe(400);
    const bc = open({ batchSize: 500 });
    await bc.createMany(
      'customers',
      Array.from({ length: 101 }, (_, i) => ({ key: `b-${i}`, values: customer(i) })),
    );
    expect(
      batchEntries()
        .filter((e) => e.status === 200)
        .map((e) => e.operations),
    ).toEqual([100, 1]);
  });

  test("bounded concurrency: many reads at once stay within the service's concurrent-request limit", async () => {
    const seeded = emu.seed(
      'customers',
      Array.from({ length: 600 }, (_, i) => customer(i)),
    );
    const bc = open({ maxConcurrency: 5 });
    const got = await bc.getMany({ table: 'customers', ids: seeded.map((r) => String(r.id)), fields: [] });
    expect(got).toHaveLength(600);
    expect(emu.log.filter((e) => e.status === 429)).toHaveLength(0);
  });

  test('findCandidates: case-sensitive criteria narrow on the server, case-insensitive ones are checked here (a superset)', async () => {
    emu.seed('customers', [
      customer(1, { displayName: 'Contoso Ltd', email: 'info@contoso.example' }),
      customer(2, { displayName: 'CONTOSO LTD', email: 'other@contoso.example' }),
      customer(3, { displayName: 'Fabrikam', email: 'info@fabrikam.example' }),
      ...Array.from({ length: 80 }, (_, i) => customer(10 + i)),
    ]);
    const bc = open();
    const insensitive = await bc.findCandidates({
      table: 'customers',
      fields: ['displayName'],
      filter: [],
      conditions: [{ field: 'displayName', values: ['contoso ltd'], caseSensitive: false }],
      limit: 100,
    });
    expect(insensitive.map((r) => r.values.displayName).sort()).toEqual(['CONTOSO LTD', 'Contoso Ltd']);
    const before = emu.log.length;
    const sensitive = await bc.findCandidates({
      table: 'customers',
      fields: ['displayName', 'email'],
      filter: [],
      conditions: [
        { field: 'email', values: ['info@contoso.example', 'info@fabrikam.example'], caseSensitive: true },
        { field: 'displayName', values: ['contoso ltd'], caseSensitive: false },
      ],
      limit: 100,
    });
    expect(sensitive.map((r) => r.values.displayName)).toEqual(['Contoso Ltd']);
    const queries = emu.log.slice(before);
    expect(queries).toHaveLength(1);
    expect(decodeURIComponent(queries[0].url)).toContain("(email eq 'info@contoso.example' or email eq 'info@fabrikam.example')");
    const limited = await bc.findCandidates({
      table: 'customers',
      fields: [],
      filter: [],
      conditions: [{ field: 'city', values: ['seattle'], caseSensitive: false }],
      limit: 5,
    });
    expect(limited).toHaveLength(5);
  });
});
