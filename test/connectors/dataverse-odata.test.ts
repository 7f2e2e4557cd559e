/** Pure parts of the Dataverse connector: OData literals, filters, keyset bounds, URL chunking, $batch bodies. */
import {
  FilterBuilder,
  InvalidQueryError,
  afterClause,
  chunkByBudget,
  collectionUrl,
  conditionClause,
  encodeQueryValue,
  encodedMemberLength,
  likeText,
  literal,
  sinceClause,
  throughClause,
} from '../../connectors/dataverse/odata-query';
import { stringLiteral } from '../../connectors/odata/literals';
import { BatchFormatError, boundaryOf, buildBatchBody, parseBatchResponse } from '../../connectors/dataverse/batch';
import { resolveDataverseOptions, DataverseConfigurationError, type DataverseConnectorOptions } from '../../connectors/dataverse/options';
import { parseFilter, evaluate, compareGuids, type AttributeType } from '../../emulators/dataverse/odata-filter';
import type { FilterCondition } from '../../common/types';

const G1 = '0a1b2c3d-0000-4000-8000-00000000000a';

describe('literals', () => {
  test('strings double their single quotes and stay one literal', () => {
    expect(stringLiteral("O'Brian")).toBe("'O''Brian'");
    const hostile = "x' or name ne 'y";
    expect(literal(hostile, 'string', 'name')).toBe("'x'' or name ne ''y'");
    // The emulator's own parser reads it back as one comparison with the whole text as its value.
    const tree = parseFilter(`name eq ${literal(hostile, 'string', 'name')}`);
    expect(tree).toEqual({ kind: 'compare', op: 'eq', property: 'name', value: { type: 'string', value: hostile } });
  });

  test('GUIDs, timestamps, numbers and booleans are checked against their attribute kind', () => {
    expect(literal(G1.toUpperCase(), 'guid', 'accountid')).toBe(G1);
    expect(() => literal('not-a-guid) or (1 eq 1', 'guid', 'accountid')).toThrow(InvalidQueryError);
    expect(literal('2026-11-25T15:04:05Z', 'datetime', 'modifiedon')).toBe('2026-11-25T15:04:05Z');
    expect(() => literal('yesterday', 'datetime', 'modifiedon')).toThrow(InvalidQueryError);
    expect(literal(42, 'number', 'numberofemployees')).toBe('42');
    expect(literal('42.5', 'number', 'revenue')).toBe('42.5');
    expect(() => literal('42 or 1 eq 1', 'number', 'revenue')).toThrow(InvalidQueryError);
    expect(() => literal(Number.NaN, 'other', 'x')).toThrow(InvalidQueryError);
    expect(literal(true, 'boolean', 'creditonhold')).toBe('true');
    expect(literal(null, 'string', 'name')).toBe('null');
  });

  test('LIKE wildcards in contains/startswith values are bracketed', () => {
    expect(likeText('100%_[x]')).toBe('100[%][_][[]x]');
  });
});

describe('filter conditions', () => {
  const clause = (condition: FilterCondition, kind: Parameters<typeof conditionClause>[1] = 'string'): { text: string; aliases: [string, string][] } => {
    const builder = new FilterBuilder();
    builder.add(conditionClause(condition, kind, 'accountid', builder));
    return { text: builder.text(), aliases: builder.aliases };
  };

  test('each operator', () => {
    expect(clause({ field: 'name', op: 'eq', value: 'A' }).text).toBe("name eq 'A'");
    // Outside the filter grammar (common/filter-grammar.ts): refused, never given a guessed meaning.
    expect(() => clause({ field: 'name', op: 'eq', value: null })).toThrow(/use isNull/);
    // ne keeps nulls, as the Knex connector's does.
    expect(clause({ field: 'name', op: 'ne', value: 'A' }).text).toBe("name ne 'A' or name eq null");
    expect(clause({ field: 'numberofemployees', op: 'gte', value: 5 }, 'number').text).toBe('numberofemployees ge 5');
    expect(clause({ field: 'numberofemployees', op: 'lt', value: 5 }, 'number').text).toBe('numberofemployees lt 5');
    expect(clause({ field: 'name', op: 'contains', value: '50%' }).text).toBe("contains(name,'50[%]')");
    expect(clause({ field: 'name', op: 'startsWith', value: "O'" }).text).toBe("startswith(name,'O''')");
    expect(clause({ field: 'name', op: 'isNull' }).text).toBe('name eq null');
    expect(clause({ field: 'name', op: 'isNotNull' }).text).toBe('name ne null');
    expect(() => clause({ field: 'address1_city', op: 'in', value: ['Oslo', null] })).toThrow(InvalidQueryError);
    const inList = clause({ field: 'address1_city', op: 'in', value: ['Oslo', "O'Hare"] });
    expect(inList.text).toBe("Microsoft.Dynamics.CRM.In(PropertyName='address1_city',PropertyValues=@p1)");
    expect(inList.aliases).toEqual([['@p1', '["Oslo","O\'Hare"]']]);
    expect(() => clause({ field: 'address1_city', op: 'in', value: [] })).toThrow(InvalidQueryError);
    // notIn keeps nulls, as ne does and as the other connectors do.
    expect(clause({ field: 'address1_city', op: 'notIn', value: ['Oslo'] }).text).toBe(
      "Microsoft.Dynamics.CRM.NotIn(PropertyName='address1_city',PropertyValues=@p1) or address1_city eq null",
    );
  });

  test('field names must be logical names', () => {
    expect(() => clause({ field: 'name eq 1 or name', op: 'eq', value: 'x' })).toThrow(InvalidQueryError);
  });

  test('clauses are ANDed in parentheses, and aliases are numbered across the filter', () => {
    const builder = new FilterBuilder();
    builder.add(conditionClause({ field: 'name', op: 'ne', value: 'A' }, 'string', 'accountid', builder));
    builder.add(conditionClause({ field: 'address1_city', op: 'in', value: ['X'] }, 'string', 'accountid', builder));
    builder.add(conditionClause({ field: 'emailaddress1', op: 'in', value: ['y'] }, 'string', 'accountid', builder));
    expect(builder.text()).toBe(
      "(name ne 'A' or name eq null) and (Microsoft.Dynamics.CRM.In(PropertyName='address1_city',PropertyValues=@p1)) and (Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=@p2))",
    );
  });
});

describe('modified-on and keyset bounds', () => {
  test('a whole-second watermark reads past it; one with a fraction re-reads its whole second', () => {
    expect(sinceClause('modifiedon', '2026-11-25T15:04:05Z')).toBe('modifiedon gt 2026-11-25T15:04:05Z');
    expect(sinceClause('modifiedon', '2026-11-25T15:04:05.300Z')).toBe('modifiedon ge 2026-11-25T15:04:05Z');
    expect(sinceClause('modifiedon', '2026-11-25T15:04:05.000Z')).toBe('modifiedon ge 2026-11-25T15:04:05Z');
    expect(() => sinceClause('modifiedon', "2026' or 1 eq 1")).toThrow(InvalidQueryError);
  });

  test('after and through compare (modifiedon, id) on the service', () => {
    const key = { modifiedOn: '2026-11-25T15:04:05Z', id: G1 };
    expect(afterClause('modifiedon', 'accountid', key)).toBe(
      `modifiedon gt 2026-11-25T15:04:05Z or (modifiedon eq 2026-11-25T15:04:05Z and accountid gt ${G1})`,
    );
    expect(throughClause('modifiedon', 'accountid', key)).toBe(
      `modifiedon lt 2026-11-25T15:04:05Z or (modifiedon eq 2026-11-25T15:04:05Z and accountid le ${G1})`,
    );
    expect(() => afterClause('modifiedon', 'accountid', { modifiedOn: key.modifiedOn, id: 'C1' })).toThrow(InvalidQueryError);
  });

  test('the emulator orders GUIDs as SQL Server does, not as strings', () => {
    const a = '00000000-0000-0000-0000-000000000002';
    const b = '10000000-0000-0000-0000-000000000001';
    expect(a < b).toBe(true);
    expect(compareGuids(a, b)).toBeGreaterThan(0);
  });
});

describe('URLs', () => {
  test('a collection URL is fully encoded, aliases included', () => {
    const filter = new FilterBuilder();
    filter.add(conditionClause({ field: 'name', op: 'in', value: ['a&b', "c'd"] }, 'string', 'accountid', filter));
    const url = collectionUrl({
      entitySet: 'accounts',
      select: ['accountid', 'modifiedon', 'name', 'name'],
      filter,
      orderBy: ['modifiedon asc', 'accountid asc'],
    });
    expect(url).toBe(
      `accounts?$select=accountid,modifiedon,name&$filter=${encodeQueryValue("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=@p1)")}` +
        `&@p1=${encodeQueryValue('["a&b","c\'d"]')}&$orderby=modifiedon%20asc%2Caccountid%20asc`,
    );
    expect(url).not.toMatch(/['&]b/);
    // A URL parser keeps it as it is: nextLinks and our own URLs survive new URL() unchanged.
    const absolute = `https://org.crm.dynamics.com/api/data/v9.2/${url}`;
    expect(new URL(absolute).toString()).toBe(absolute);
  });

  test('value lists are split by encoded length, each chunk within the budget', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `value-${i}@example.com`);
    const chunks = chunkByBudget(values, encodedMemberLength, 5000);
    expect(chunks.flat()).toEqual(values);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.reduce((n, v) => n + encodedMemberLength(v), 0)).toBeLessThanOrEqual(5000);
    expect(chunkByBudget(['x'.repeat(100)], encodedMemberLength, 10)).toEqual([['x'.repeat(100)]]);
  });
});

describe('$batch bodies', () => {
  test('a request body has one application/http part per operation, CRLF line ends', () => {
    const body = buildBatchBody('batch_1', [
      { method: 'PATCH', url: `https://org/api/data/v9.2/accounts(${G1})`, headers: { 'If-None-Match': '*' }, body: '{"name":"A"}' },
      { method: 'DELETE', url: `https://org/api/data/v9.2/accounts(${G1})` },
    ]);
    expect(body).toBe(
      [
        '--batch_1',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        `PATCH https://org/api/data/v9.2/accounts(${G1}) HTTP/1.1`,
        'If-None-Match: *',
        'Content-Type: application/json',
        '',
        '{"name":"A"}',
        '--batch_1',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        `DELETE https://org/api/data/v9.2/accounts(${G1}) HTTP/1.1`,
        '',
        '',
        '--batch_1--',
        '',
      ].join('\r\n'),
    );
    expect(() => buildBatchBody('batch_1', [{ method: 'GET', url: 'accounts HTTP/1.1\r\nX: y' }])).toThrow(BatchFormatError);
    expect(() => buildBatchBody('batch_1', [{ method: 'GET', url: 'accounts', headers: { X: 'a\r\nb' } }])).toThrow(BatchFormatError);
  });

  test('a response is parsed in order, changesets flattened, LF or CRLF', () => {
    const response = [
      '--batchresponse_a',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 201 Created',
      'Content-Type: application/json; odata.metadata=minimal',
      'ETag: W/"12"',
      '',
      '{"@odata.etag":"W/\\"12\\"","modifiedon":"2026-11-25T15:04:05Z"}',
      '--batchresponse_a',
      'Content-Type: multipart/mixed; boundary=changesetresponse_b',
      '',
      '--changesetresponse_b',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 204 No Content',
      'OData-Version: 4.0',
      '',
      '',
      '--changesetresponse_b',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 204 No Content',
      '',
      '',
      '--changesetresponse_b--',
      '--batchresponse_a',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 412 Precondition Failed',
      'Content-Type: application/json',
      '',
      '{"error":{"code":"0x80060882","message":"version mismatch"}}',
      '--batchresponse_a--',
      '',
    ];
    for (const eol of ['\r\n', '\n']) {
      const parts = parseBatchResponse('multipart/mixed; boundary=batchresponse_a', response.join(eol));
      expect(parts.map((p) => p.status)).toEqual([201, 204, 204, 412]);
      expect(parts[0].headers.etag).toBe('W/"12"');
      expect(JSON.parse(parts[0].body)).toEqual({ '@odata.etag': 'W/"12"', modifiedon: '2026-11-25T15:04:05Z' });
      expect(parts[1].body).toBe('');
      expect(JSON.parse(parts[3].body).error.code).toBe('0x80060882');
    }
  });

  test('a cut-off response or a non-multipart one is an error, not fewer results', () => {
    expect(() => parseBatchResponse('multipart/mixed; boundary=x', '--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n')).toThrow(
      BatchFormatError,
    );
    expect(() => parseBatchResponse('application/json', '{}')).toThrow(BatchFormatError);
    expect(boundaryOf('multipart/mixed; boundary="batchresponse_1"')).toBe('batchresponse_1');
    expect(boundaryOf('application/json')).toBeNull();
  });
});

describe('options', () => {
  const base: DataverseConnectorOptions = {
    name: 'dataverse',
    environmentUrl: 'https://org.crm.dynamics.com/',
    credentials: { tokenUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token', clientId: 'c', clientSecret: 'super-secret-value' },
    tables: { account: { entitySet: 'accounts', idAttribute: 'accountid' } },
  };

  test('defaults and the scope derived from the environment', () => {
    expect(resolveDataverseOptions(base)).toMatchObject({
      serviceRoot: 'https://org.crm.dynamics.com/api/data/v9.2/',
      scope: 'https://org.crm.dynamics.com/.default',
      maxConcurrency: 8,
      pageSize: 5000,
      batchSize: 1000,
    });
  });

  test.each([
    [{ pageSize: 5001 }, /pageSize/],
    [{ batchSize: 1001 }, /batchSize/],
    [{ maxConcurrency: 100 }, /maxConcurrency/],
    [{ environmentUrl: 'http://org.crm.dynamics.com' }, /https/],
    [{ tables: { account: { entitySet: 'accounts; drop', idAttribute: 'accountid' } } }, /entitySet/],
  ] as const)('%j is refused', (override, message) => {
    const attempt = (): unknown => resolveDataverseOptions({ ...base, ...override } as DataverseConnectorOptions);
    expect(attempt).toThrow(DataverseConfigurationError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain('super-secret-value');
    }
  });
});

describe('emulator $filter (the service side)', () => {
  const types = new Map<string, AttributeType>([
    ['name', 'String'],
    ['accountid', 'Uniqueidentifier'],
    ['modifiedon', 'DateTime'],
    ['numberofemployees', 'Integer'],
  ]);
  const ctx = { entityName: 'account', types };
  const row = { name: 'Café Nørd ', accountid: G1, modifiedon: '2026-11-25T15:04:05Z', numberofemployees: 10 };
  test.each([
    ["name eq 'CAFE NØRD'", true],
    ["name eq 'cafe'", false],
    ["contains(name,'fé n')", true],
    ["startswith(name,'caf[_]')", false],
    ['numberofemployees gt 9 and not (numberofemployees ge 11)', true],
    [`accountid eq ${G1}`, true],
    ['modifiedon gt 2026-11-25T15:04:04Z and modifiedon le 2026-11-25T15:04:05Z', true],
    ['Microsoft.Dynamics.CRM.In(PropertyName=\'name\',PropertyValues=["x","café nørd"])', true],
    ['name eq null or numberofemployees eq null', false],
  ])('%s -> %s', (filter, expected) => {
    expect(evaluate(parseFilter(filter), row, ctx)).toBe(expected);
  });
});
