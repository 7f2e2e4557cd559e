/** DataverseConnector against the Dataverse emulator: paging, filters, batching, ETags, throttling, faults, tokens. No Temporal. */
import { randomUUID } from 'node:crypto';
import { DataverseConnector, type DataverseConnectorOptions } from '../../connectors/dataverse';
import { ThrottledError, type SourceRecord } from '../../connectors/connector';
import { TransientHttpError } from '../../connectors/http/http-client';
import { AuthenticationError } from '../../connectors/http/token-client';
import { startDataverseEmulator, type DataverseEmulator, type DataverseEmulatorOptions, type Row } from '../../emulators/dataverse/dataverse-emulator';
import { compareGuids } from '../../emulators/dataverse/odata-filter';
import { parseBatchResponse } from '../../connectors/dataverse/batch';

const COLUMNS = ['name', 'emailaddress1', 'telephone1', 'address1_city'];
const open: DataverseEmulator[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function emulatorWith(options: DataverseEmulatorOptions = {}): Promise<DataverseEmulator> {
  const emulator = await startDataverseEmulator(options);
  open.push(emulator);
  return emulator;
}

function connectorFor(emulator: DataverseEmulator, overrides: Partial<DataverseConnectorOptions> = {}): DataverseConnector {
  return new DataverseConnector({
    name: 'dataverse',
    environmentUrl: emulator.environmentUrl,
    credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
    tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: COLUMNS } },
    ...overrides,
  });
}

async function setup(
  options: DataverseEmulatorOptions = {},
  overrides: Partial<DataverseConnectorOptions> = {},
): Promise<{ emulator: DataverseEmulator; connector: DataverseConnector }> {
  const emulator = await emulatorWith(options);
  return { emulator, connector: connectorFor(emulator, overrides) };
}

const apiRequests = (e: DataverseEmulator) => e.log.filter((l) => l.url.startsWith(e.apiPath));
const tokenRequests = (e: DataverseEmulator) => e.log.filter((l) => l.url.includes('/oauth2/v2.0/token'));
const batches = (e: DataverseEmulator) => e.log.filter((l) => l.method === 'POST' && l.url.endsWith('$batch'));
const gets = (e: DataverseEmulator) => e.log.filter((l) => l.method === 'GET' && l.url.startsWith(`${e.apiPath}accounts`));

function seconds(n: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString().replace('.000Z', 'Z');
}

function accounts(count: number, extra: (i: number) => Row = () => ({})): Row[] {
  return Array.from({ length: count }, (_, i) => ({ accountid: randomUUID(), name: `Account ${i}`, emailaddress1: `a${i}@example.com`, ...extra(i) }));
}

async function rawToken(emulator: DataverseEmulator): Promise<string> {
  const response = await fetch(emulator.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
      scope: `${emulator.environmentUrl}/.default`,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const ODATA = { 'OData-Version': '4.0', 'OData-MaxVersion': '4.0', Accept: 'application/json' };

test('describeTable: the configured columns without a request, or EntityDefinitions read once', async () => {
  const { emulator, connector } = await setup();
  expect(await connector.describeTable('account')).toEqual(['accountid', 'modifiedon', ...COLUMNS]);
  expect(apiRequests(emulator)).toHaveLength(0);
  const fromMetadata = connectorFor(emulator, { tables: { account: { entitySet: 'accounts', idAttribute: 'accountid' } } });
  const columns = await fromMetadata.describeTable('account');
  expect(columns).toEqual(expect.arrayContaining(['accountid', 'modifiedon', 'name', 'emailaddress1', 'numberofemployees']));
  await fromMetadata.describeTable('account');
  expect(apiRequests(emulator).filter((l) => l.url.includes('EntityDefinitions'))).toHaveLength(1);
  await expect(connector.describeTable('contact')).rejects.toThrow(/table "contact" is not configured/);
});

test("scanKeys pages with odata.maxpagesize, follows nextLink unchanged, and keyset ranges partition the table in the service's order", async () => {
  const { emulator, connector } = await setup({}, { pageSize: 500 });
  // Three seconds for 2,345 records: most keys tie on modifiedon and are told apart by the GUID alone.
  emulator.put(
    'accounts',
    accounts(2345, (i) => ({ modifiedon: seconds(1 + (i % 3)) })),
  );
  const all = await connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10_000 });
  const expected = emulator.all('accounts').map((r) => ({ modifiedOn: String(r.modifiedon), id: String(r.accountid) }));
  expect(all).toEqual(expected);
  const pages = gets(emulator);
  expect(pages).toHaveLength(5);
  // The emulator accepts a $skiptoken only in the exact link it issued: every follow-up page was served.
  expect(pages.slice(1).every((p) => p.url.includes('$skiptoken=') && p.status === 200)).toBe(true);
  expect(pages[0].url).toContain('$select=accountid,modifiedon&');
  expect(pages[0].url).toContain('$orderby=modifiedon%20asc%2Caccountid%20asc');
  // The service orders GUIDs as SQL Server does; string order would differ.
  const firstSecond = all.filter((k) => k.modifiedOn === seconds(1)).map((k) => k.id);
  expect(firstSecond).not.toEqual([...firstSecond].sort());
  expect([...firstSecond].sort(compareGuids)).toEqual(firstSecond);

  const ranges: { after: (typeof all)[0] | null; through: (typeof all)[0] }[] = [];
  let after: (typeof all)[0] | null = null;
  for (;;) {
    const keys = await connector.scanKeys({ table: 'account', filter: [], since: null, after, limit: 700 });
    if (keys.length === 0) break;
    ranges.push({ after, through: keys[keys.length - 1] });
    after = keys[keys.length - 1];
  }
  expect(ranges).toHaveLength(4);
  const read: SourceRecord[] = [];
  for (const range of ranges) {
    read.push(
      ...(await connector.readChanged({
        table: 'account',
        fields: ['name'],
        filter: [],
        since: null,
        after: range.after,
        through: range.through,
        limit: 1_000_000,
      })),
    );
  }
  expect(read.map((r) => r.id)).toEqual(all.map((k) => k.id));
});

test('readChanged: since, filters and values; modifiedOn exactly as returned, version the ETag; $select only what was asked', async () => {
  const { emulator, connector } = await setup();
  const [a, b, c] = emulator.put('accounts', [
    { name: 'Alpha', address1_city: 'Oslo', telephone1: '1', modifiedon: seconds(1) },
    { name: "O'Brien & Sons", address1_city: 'OSLO', telephone1: null, modifiedon: seconds(2) },
    { name: '100% Gamma', address1_city: 'Bergen', telephone1: '3', modifiedon: seconds(3) },
  ]);
  const read = (request: Partial<Parameters<DataverseConnector['readChanged']>[0]>) =>
    connector.readChanged({ table: 'account', fields: ['name'], filter: [], since: null, after: null, through: null, limit: 100, ...request });

  const since = await read({ since: seconds(1) });
  expect(since.map((r) => r.values.name)).toEqual(["O'Brien & Sons", '100% Gamma']);
  expect(since[0]).toEqual({
    id: b.accountid,
    modifiedOn: '2026-01-01T00:00:02Z',
    version: `W/"${String(b.versionnumber)}"`,
    values: { name: "O'Brien & Sons" },
  });
  expect(gets(emulator).at(-1)?.url).toMatch(/\$select=accountid,modifiedon,name&/);
  // A watermark from our clock inside second 2 re-reads that second.
  expect((await read({ since: '2026-01-01T00:00:02.400Z' })).map((r) => r.id)).toEqual([b.accountid, c.accountid]);

  expect((await read({ filter: [{ field: 'address1_city', op: 'eq', value: 'oslo' }] })).map((r) => r.id)).toEqual([a.accountid, b.accountid]);
  expect((await read({ filter: [{ field: 'name', op: 'eq', value: "O'Brien & Sons" }] })).map((r) => r.id)).toEqual([b.accountid]);
  expect((await read({ filter: [{ field: 'name', op: 'contains', value: '0%' }] })).map((r) => r.id)).toEqual([c.accountid]);
  expect((await read({ filter: [{ field: 'name', op: 'startsWith', value: 'o' }] })).map((r) => r.id)).toEqual([b.accountid]);
  expect((await read({ filter: [{ field: 'telephone1', op: 'ne', value: '1' }] })).map((r) => r.id)).toEqual([b.accountid, c.accountid]);
  expect((await read({ filter: [{ field: 'telephone1', op: 'isNull' }] })).map((r) => r.id)).toEqual([b.accountid]);
  expect((await read({ filter: [{ field: 'address1_city', op: 'in', value: ['bergen', "o'hare"] }] })).map((r) => r.id)).toEqual([c.accountid]);
  expect((await read({ filter: [{ field: 'address1_city', op: 'notIn', value: ['bergen'] }] })).map((r) => r.id)).toEqual([a.accountid, b.accountid]);
  // A value is a value: quotes in it cannot widen the query.
  expect(await read({ filter: [{ field: 'name', op: 'eq', value: "x' or name ne 'y" }] })).toEqual([]);
  // A filter on a string attribute needed its type once.
  expect(apiRequests(emulator).filter((l) => l.url.includes('EntityDefinitions'))).toHaveLength(1);
});

test('getMany: ids split over requests by URL length; missing and malformed ids are simply absent', async () => {
  const { emulator, connector } = await setup({}, { maxUrlLength: 8000 });
  const rows = emulator.put('accounts', accounts(1000));
  const ids = [...rows.map((r) => String(r.accountid).toUpperCase()), randomUUID(), randomUUID(), 'C1', "x') or (1 eq 1"];
  const found = await connector.getMany({ table: 'account', ids, fields: ['name', 'emailaddress1'] });
  expect(found).toHaveLength(1000);
  expect(new Set(found.map((r) => r.id))).toEqual(new Set(rows.map((r) => r.accountid)));
  expect(found[0].values).toEqual({ name: expect.any(String), emailaddress1: expect.any(String) });
  const requests = gets(emulator);
  expect(requests.length).toBeGreaterThanOrEqual(6);
  expect(requests.length).toBeLessThanOrEqual(10);
  for (const r of requests) expect(emulator.environmentUrl.length + r.url.length).toBeLessThanOrEqual(8000);
  expect(await connector.getMany({ table: 'account', ids: ['C1'], fields: [] })).toEqual([]);
});

test('findCandidates: one In per field, case-insensitive on the service (a superset), long lists split', async () => {
  const { emulator, connector } = await setup();
  emulator.put(
    'accounts',
    accounts(3000, (i) => ({ emailaddress1: `User${i}@Example.com`, address1_city: i % 2 ? 'Oslo' : 'Bergen' })),
  );
  const wanted = Array.from({ length: 2500 }, (_, i) => `user${i}@example.com`);
  const found = await connector.findCandidates({
    table: 'account',
    fields: ['emailaddress1'],
    filter: [],
    conditions: [
      { field: 'emailaddress1', values: wanted, caseSensitive: false },
      { field: 'address1_city', values: ['oslo'], caseSensitive: true },
    ],
    limit: 10_000,
  });
  expect(found).toHaveLength(1250);
  expect(found.every((r) => r.values.emailaddress1 !== undefined)).toBe(true);
  const requests = gets(emulator);
  expect(requests.length).toBeGreaterThan(1);
  for (const r of requests) expect(r.url).toContain('Microsoft.Dynamics.CRM.In');
  expect(
    await connector.findCandidates({ table: 'account', fields: [], filter: [], conditions: [{ field: 'name', values: [], caseSensitive: false }], limit: 10 }),
  ).toEqual([]);
  const limited = await connector.findCandidates({
    table: 'account',
    fields: [],
    filter: [{ field: 'address1_city', op: 'eq', value: 'Bergen' }],
    conditions: [{ field: 'emailaddress1', values: wanted, caseSensitive: false }],
    limit: 20,
  });
  expect(limited).toHaveLength(20);
});

test('createMany: 5,000 records in five $batch requests, under 0.1 requests per record; a replay finds them and adds nothing', async () => {
  const { emulator, connector } = await setup();
  const records = Array.from({ length: 5000 }, (_, i) => ({ key: randomUUID(), values: { name: `New ${i}`, address1_city: 'Oslo' } }));
  const results = await connector.createMany('account', records);
  expect(results.every((r) => r.ok)).toBe(true);
  expect(results.map((r) => r.id)).toEqual(records.map((r) => r.key));
  const first = results[0];
  if (!first.ok) throw new Error('unreachable');
  expect(first.modifiedOn).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  expect(first.version).toMatch(/^W\/"\d+"$/);
  expect(emulator.all('accounts')).toHaveLength(5000);
  expect(batches(emulator).map((b) => b.operations)).toEqual([1000, 1000, 1000, 1000, 1000]);
  expect(apiRequests(emulator).length / 5000).toBeLessThan(0.1);

  const replay = records.slice(0, 10).map((r) => ({ key: r.key, values: { ...r.values, name: `${String(r.values.name)} (again)` } }));
  expect(results.some((r) => r.ok && r.existed)).toBe(false);
  const again = await connector.createMany('account', replay);
  expect(again.every((r) => r.ok && r.existed === true)).toBe(true);
  expect(again.map((r) => r.id)).toEqual(replay.map((r) => r.key));
  expect(emulator.all('accounts')).toHaveLength(5000);
  expect(emulator.get('accounts', records[3].key)).toMatchObject({ name: 'New 3 (again)' });
  expect(emulator.stats.preconditionFailed).toBe(10);
  // A bad key or attribute fails its own record only.
  const mixed = await connector.createMany('account', [
    { key: 'C1', values: { name: 'x' } },
    { key: randomUUID(), values: { 'name@odata.bind': 'x' } },
    { key: randomUUID(), values: { name: 'ok' } },
  ]);
  expect(mixed.map((r) => r.ok)).toEqual([false, false, true]);
});

test('updateMany: a stale ETag is a conflict, a missing record notFound, a refused value permanent with its code; results in request order', async () => {
  const { emulator, connector } = await setup();
  const rows = emulator.put('accounts', accounts(3));
  const [r1, r2, r3] = await connector
    .getMany({ table: 'account', ids: rows.map((r) => String(r.accountid)), fields: ['name'] })
    .then((found) => rows.map((row) => found.find((f) => f.id === row.accountid) as SourceRecord));
  emulator.edit('accounts', r2.id, { name: 'Changed in Dataverse' });
  const missing = randomUUID();
  const results = await connector.updateMany('account', [
    { id: r1.id, values: { name: 'One' }, expectedVersion: r1.version },
    { id: r2.id, values: { name: 'Two' }, expectedVersion: r2.version },
    { id: missing, values: { name: 'Gone' }, expectedVersion: 'W/"1"' },
    { id: r3.id, values: { name: 'x'.repeat(200) }, expectedVersion: r3.version },
    { id: r3.id, values: { telephone1: '555' } },
  ]);
  expect(results[0]).toMatchObject({ ok: true, id: r1.id });
  if (!results[0].ok) throw new Error('unreachable');
  expect(results[0].version).not.toBe(r1.version);
  expect(results[0].version).toBe(`W/"${String(emulator.get('accounts', r1.id)?.versionnumber)}"`);
  expect(results[1]).toMatchObject({ ok: false, id: r2.id, error: { kind: 'conflict', code: '0x80060882' } });
  expect(results[2]).toMatchObject({ ok: false, id: missing, error: { kind: 'notFound', code: '0x80040217' } });
  expect(results[3]).toMatchObject({
    ok: false,
    id: r3.id,
    error: { kind: 'permanent', code: '0x80044331', message: expect.stringMatching(/exceeded the maximum allowed length/) },
  });
  expect(results[4]).toMatchObject({ ok: true, id: r3.id });
  expect(emulator.get('accounts', r2.id)).toMatchObject({ name: 'Changed in Dataverse' });
  // An update never creates: the missing record stays missing.
  expect(emulator.get('accounts', missing)).toBeUndefined();
  expect(batches(emulator)).toHaveLength(1);
});

test('deleteMany: existing and missing records both succeed, in one batch', async () => {
  const { emulator, connector } = await setup();
  const rows = emulator.put('accounts', accounts(3));
  const results = await connector.deleteMany('account', [String(rows[0].accountid), randomUUID(), 'C1', String(rows[2].accountid)]);
  expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
  expect(emulator.all('accounts').map((r) => r.accountid)).toEqual([rows[1].accountid]);
  expect(batches(emulator)).toHaveLength(1);
});

test('batches are split at batchSize; the emulator refuses a batch of more than 1,000 operations', async () => {
  const { emulator, connector } = await setup({}, { batchSize: 1000 });
  const rows = emulator.put('accounts', accounts(2500));
  const results = await connector.updateMany(
    'account',
    rows.map((r) => ({ id: String(r.accountid), values: { telephone1: '1' } })),
  );
  expect(results.every((r) => r.ok)).toBe(true);
  expect(
    batches(emulator)
      .map((b) => b.operations)
      .sort(),
  ).toEqual([1000, 1000, 500]);

  const token = await rawToken(emulator);
  const parts = Array.from(
    { length: 1001 },
    () => `--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts?$select=name HTTP/1.1\r\n\r\n`,
  ).join('');
  const response = await fetch(`${emulator.environmentUrl}${emulator.apiPath}$batch`, {
    method: 'POST',
    headers: { ...ODATA, Authorization: `Bearer ${token}`, 'Content-Type': 'multipart/mixed; boundary=b' },
    body: `${parts}--b--\r\n`,
  });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/maximum number of requests in a batch is 1000/);
});

test('throttling: a 429 on the batch, on one of its operations, or from the service protection limits is a ThrottledError with the Retry-After', async () => {
  const { emulator, connector } = await setup();
  emulator.injectFault({ fault: { kind: 'throttle', retryAfterSeconds: 3 }, times: 1, when: (r) => r.url.endsWith('$batch') });
  const records = Array.from({ length: 10 }, (_, i) => ({ key: randomUUID(), values: { name: `T${i}` } }));
  const whole = await connector.createMany('account', records).catch((e: unknown) => e);
  expect(whole).toBeInstanceOf(ThrottledError);
  expect((whole as ThrottledError).retryAfterMs).toBe(3000);
  expect(emulator.all('accounts')).toHaveLength(0);

  emulator.throttleParts({ times: 1, retryAfterSeconds: 2 });
  const part = await connector.createMany('account', records).catch((e: unknown) => e);
  expect(part).toBeInstanceOf(ThrottledError);
  expect((part as ThrottledError).retryAfterMs).toBe(2000);
  // The other nine were carried out; the retry of the whole batch finds them and creates the tenth.
  expect(emulator.all('accounts')).toHaveLength(9);
  expect((await connector.createMany('account', records)).every((r) => r.ok)).toBe(true);
  expect(emulator.all('accounts')).toHaveLength(10);

  const limited = await setup({ limits: { requestsPerWindow: 3, windowMs: 60_000 } });
  for (let i = 0; i < 3; i++) await limited.connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10 });
  const protection = await limited.connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10 }).catch((e: unknown) => e);
  expect(protection).toBeInstanceOf(ThrottledError);
  expect((protection as ThrottledError).retryAfterMs).toBeGreaterThan(50_000);
});

test('a server error is transient; a dropped connection after the write leaves it applied and the replay finds it', async () => {
  const { emulator, connector } = await setup();
  emulator.injectFault({ fault: { kind: 'serverError', status: 500 }, times: 1 });
  await expect(connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10 })).rejects.toBeInstanceOf(TransientHttpError);

  const records = Array.from({ length: 50 }, (_, i) => ({ key: randomUUID(), values: { name: `D${i}` } }));
  emulator.injectFault({ fault: { kind: 'dropAfterWrite' }, times: 1, when: (r) => r.url.endsWith('$batch') });
  await expect(connector.createMany('account', records)).rejects.toBeInstanceOf(TransientHttpError);
  expect(emulator.all('accounts')).toHaveLength(50);
  const replay = await connector.createMany('account', records);
  expect(replay.every((r) => r.ok)).toBe(true);
  expect(emulator.all('accounts')).toHaveLength(50);
});

test('the token is fetched once and reused across requests', async () => {
  const { emulator, connector } = await setup();
  emulator.put('accounts', accounts(20));
  await Promise.all(Array.from({ length: 12 }, () => connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 100 })));
  await connector.createMany('account', [{ key: randomUUID(), values: { name: 'x' } }]);
  expect(apiRequests(emulator).length).toBe(13);
  expect(tokenRequests(emulator)).toHaveLength(1);
});

test('a wrong client secret fails with a clear message that does not contain the secret', async () => {
  const emulator = await emulatorWith();
  const secret = 'wrong-secret-7f3a9c';
  const connector = connectorFor(emulator, { credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: secret } });
  const error = await connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AuthenticationError);
  const message = (error as Error).message;
  expect(message).toMatch(
    /^dataverse: token request for client dataverse-emulator-client failed \(invalid_client: AADSTS7000215: Invalid client secret provided\.\)$/,
  );
  expect(message).not.toContain(secret);
  expect((error as Error).stack ?? '').not.toContain(secret);
  expect(apiRequests(emulator)).toHaveLength(0);
});

test('the emulator refuses requests without the OData headers and nextLinks that were changed', async () => {
  const emulator = await emulatorWith();
  emulator.put('accounts', accounts(3));
  const token = await rawToken(emulator);
  const url = `${emulator.environmentUrl}${emulator.apiPath}accounts?$select=name`;
  const bare = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  expect(bare.status).toBe(400);
  const headers = { ...ODATA, Authorization: `Bearer ${token}`, Prefer: 'odata.maxpagesize=1' };
  const first = (await (await fetch(url, { headers })).json()) as { value: Row[]; '@odata.nextLink': string };
  expect(first.value).toHaveLength(1);
  const link = first['@odata.nextLink'];
  expect((await fetch(link.replace('$select=name', '$select=name,telephone1'), { headers })).status).toBe(400);
  expect((await fetch(link, { headers })).status).toBe(200);
});

test('the emulator runs a changeset all or nothing, and without continue-on-error stops at the first failure', async () => {
  const emulator = await emulatorWith();
  const [existing] = emulator.put('accounts', [{ name: 'Existing' }]);
  const token = await rawToken(emulator);
  const a = randomUUID();
  const b = randomUUID();
  const op = (boundary: string, method: string, path: string, body: string | null, headers: string[] = []): string =>
    [
      `--${boundary}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      `${method} ${emulator.apiPath}${path} HTTP/1.1`,
      ...headers,
      ...(body ? ['Content-Type: application/json'] : []),
      '',
      body ?? '',
      '',
    ].join('\r\n');
  const send = async (body: string, prefer?: string) => {
    const response = await fetch(`${emulator.environmentUrl}${emulator.apiPath}$batch`, {
      method: 'POST',
      headers: { ...ODATA, Authorization: `Bearer ${token}`, 'Content-Type': 'multipart/mixed; boundary=batch_t', ...(prefer ? { Prefer: prefer } : {}) },
      body,
    });
    return { status: response.status, parts: parseBatchResponse(response.headers.get('content-type'), await response.text()) };
  };
  // A changeset whose second operation fails (If-None-Match on an existing record) undoes its first.
  const changeset = [
    '--batch_t',
    'Content-Type: multipart/mixed; boundary=changeset_t',
    '',
    op('changeset_t', 'PATCH', `accounts(${a})`, '{"name":"A"}'),
    op('changeset_t', 'PATCH', `accounts(${String(existing.accountid)})`, '{"name":"B"}', ['If-None-Match: *']),
    '--changeset_t--',
    '',
  ].join('\r\n');
  const failed = await send(`${changeset}${op('batch_t', 'PATCH', `accounts(${b})`, '{"name":"C"}')}--batch_t--\r\n`, 'odata.continue-on-error');
  expect(failed.status).toBe(200);
  expect(failed.parts.map((p) => p.status)).toEqual([412, 204]);
  expect(emulator.get('accounts', a)).toBeUndefined();
  expect(emulator.get('accounts', b)).toMatchObject({ name: 'C' });
  // Without continue-on-error the batch stops at the failing operation and answers with its status.
  const c = randomUUID();
  const stopped = await send(
    `${op('batch_t', 'PATCH', `accounts(${String(existing.accountid)})`, '{"name":"x"}', ['If-Match: W/"1"'])}${op('batch_t', 'PATCH', `accounts(${c})`, '{"name":"D"}')}--batch_t--\r\n`,
  );
  expect(stopped.status).toBe(412);
  expect(stopped.parts.map((p) => p.status)).toEqual([412]);
  expect(emulator.get('accounts', c)).toBeUndefined();
  expect(emulator.log.at(-1)?.operations).toBe(2);
});

test("maxConcurrency keeps the connector under the service's concurrent-request limit", async () => {
  const emulator = await emulatorWith({ limits: { maxConcurrent: 2 } });
  emulator.put('accounts', accounts(5));
  emulator.injectFault({ fault: { kind: 'slow', delayMs: 100 }, times: 1000 });
  const scan = (connector: DataverseConnector) =>
    Promise.all(Array.from({ length: 8 }, () => connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 10 })));
  await expect(scan(connectorFor(emulator, { maxConcurrency: 2 }))).resolves.toHaveLength(8);
  expect(emulator.log.filter((l) => l.status === 429)).toHaveLength(0);
  await expect(scan(connectorFor(emulator, { maxConcurrency: 8 }))).rejects.toBeInstanceOf(ThrottledError);
});

test('writes answered 204 without a representation are read back for their modifiedon and ETag', async () => {
  const emulator = await emulatorWith();
  // A proxy that drops the preference, as a service that ignores it would.
  const stripPreference: typeof fetch = (input, init) =>
    fetch(input, typeof init?.body === 'string' ? { ...init, body: init.body.replace(/Prefer: return=representation\r\n/g, '') } : init);
  const connector = connectorFor(emulator, { fetch: stripPreference });
  const key = randomUUID();
  const [created] = await connector.createMany('account', [{ key, values: { name: 'Plain' } }]);
  const row = emulator.get('accounts', key);
  expect(created).toEqual({ ok: true, id: key, modifiedOn: row?.modifiedon, version: `W/"${String(row?.versionnumber)}"` });
  const [updated] = await connector.updateMany('account', [{ id: key, values: { name: 'Plainer' } }]);
  expect(updated).toMatchObject({ ok: true, id: key, version: `W/"${String(emulator.get('accounts', key)?.versionnumber)}"` });
  expect(gets(emulator)).toHaveLength(2);
});
