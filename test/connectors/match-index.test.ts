/**
 * Match indexes of the Knex table connector: findCandidates finds the same
 * records with and without them, and with them SQLite looks values up instead
 * of reading the whole table.
 */
import knexFactory, { type Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { ensureMatchIndexes, KnexTableConnector, matchIndexStatements, type MatchIndexField } from '../../connectors/knex-table-connector';
import type { FindCandidatesRequest } from '../../connectors/connector';
import { matchIndexFields, normalizeMatchValue } from '../../domain/matching';
import { fieldMappingSchema } from '../../domain/mapping';
import { sqliteConfig } from '../../store/database-url';
import { POSTGRES_URL, postgresAvailable } from '../helpers/stores';
import { recordStatements, sqlitePlan } from '../helpers/query-plans';

const NAMES = [' ALICE ', 'alice', 'Alicia', '\tÉmile Zola\n', 'ÉMILE ZOLA', 'émile zola', 'MÜLLER', ' müller', 'Mueller', 'bob_1', 'bobx1', '100%', null];
const FIELDS: MatchIndexField[] = [
  { field: 'name', caseSensitive: false },
  { field: 'code', caseSensitive: true },
];

async function createTable(knex: Knex): Promise<void> {
  await knex.schema.createTable('account', (t) => {
    t.string('id', 64).primary();
    t.string('name', 100).nullable();
    t.string('code', 100).nullable();
    t.string('modified_on', 32).notNullable();
  });
  const rows = NAMES.map((name, i) => ({ id: `a${i}`, name, code: name, modified_on: '2026-01-01T00:00:00.000Z' }));
  // Filler rows, so the planner has a table worth an index.
  for (let i = 0; i < 2000; i++) rows.push({ id: `f${i}`, name: `filler ${i}`, code: `filler ${i}`, modified_on: '2026-01-01T00:00:00.000Z' });
  await knex.batchInsert('account', rows, 200);
}

function request(values: string[], caseSensitive: boolean): FindCandidatesRequest {
  return {
    table: 'account',
    fields: ['name', 'code'],
    filter: [],
    conditions: [{ field: caseSensitive ? 'code' : 'name', values, caseSensitive }],
    limit: 100,
  };
}

/** Ids whose value equals one of `values` as matching compares them: what any candidate list must include. */
function exact(values: string[], caseSensitive: boolean): string[] {
  return NAMES.flatMap((name, i) => (values.includes(normalizeMatchValue({ value: name, caseSensitive }) ?? '\u0000') ? [`a${i}`] : [])).sort();
}

const CASES: [string[], boolean][] = [
  [['alice'], false],
  [['émile zola', 'müller'], false],
  [['alice', 'müller', 'bob_1', '100%'], false],
  [['ÉMILE ZOLA', 'alice', 'MÜLLER'], true],
];

describe.each([['sqlite'], ['postgres']] as const)('match indexes on %s', (dialect) => {
  let knex: Knex;
  let schema: string | null = null;
  let skip = false;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      if (!(await postgresAvailable())) {
        if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required but does not answer at ${POSTGRES_URL}`);
        skip = true;
        return;
      }
      schema = `match_index_${randomBytes(4).toString('hex')}`;
      knex = knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: 2 } });
      await knex.raw('create schema ??', [schema]);
    } else knex = knexFactory(sqliteConfig(':memory:'));
    await createTable(knex);
  });

  afterAll(async () => {
    if (skip) return;
    if (schema) await knex.raw('drop schema ?? cascade', [schema]);
    await knex.destroy();
  });

  test('findCandidates finds every exact match, the same records with the indexes as without', async () => {
    if (skip) return;
    const connector = new KnexTableConnector({ name: 'integration', knex });
    const ids = async (values: string[], caseSensitive: boolean): Promise<string[]> =>
      (await connector.findCandidates(request(values, caseSensitive))).map((r) => r.id).sort();
    const before = await Promise.all(CASES.map(([values, cs]) => ids(values, cs)));
    expect(await connector.ensureMatchIndexes('account', FIELDS)).toEqual(['account_name_match', 'account_code_match_cs']);
    // A second call finds them there.
    await ensureMatchIndexes(knex, 'account', FIELDS);
    const after = await Promise.all(CASES.map(([values, cs]) => ids(values, cs)));
    expect(after).toEqual(before);
    CASES.forEach(([values, cs], i) => expect(after[i]).toEqual(expect.arrayContaining(exact(values, cs))));
    // LIKE's wildcards in a value are literal.
    expect(after[2]).not.toContain('a10');
  });

  test('the statements name the very expression findCandidates compares', () => {
    if (skip) return;
    const [ci, cs] = matchIndexStatements(knex, 'account', FIELDS);
    expect(ci).toMatch(/^create index if not exists .account_name_match. on .account. \(lower\((b?trim)\(/);
    expect(cs).toMatch(/^create index if not exists .account_code_match_cs. on .account. \((b?trim)\(/);
  });

  test('matchIndexFields lists the integration fields of the match criteria, once per case sensitivity', () => {
    const fields = [
      { localField: 'email', integrationField: 'emailaddress1', useForMatching: true, matchPriority: 0 },
      { localField: 'name', integrationField: 'name', useForMatching: true, matchPriority: 1 },
      { localField: 'alias', integrationField: 'name', useForMatching: true, matchPriority: 2 },
      { localField: 'code', integrationField: 'code', useForMatching: true, caseSensitiveMatching: true, matchPriority: 2 },
      { localField: 'city', integrationField: 'city' },
    ].map((f) => fieldMappingSchema.parse(f));
    expect(matchIndexFields({ fields })).toEqual([
      { field: 'emailaddress1', caseSensitive: false },
      { field: 'name', caseSensitive: false },
      { field: 'code', caseSensitive: true },
    ]);
  });

  test('on SQLite the candidate query searches the index (ASCII values, and non-ASCII ones after an ASCII prefix)', async () => {
    if (skip || dialect !== 'sqlite') return;
    await ensureMatchIndexes(knex, 'account', FIELDS);
    const connector = new KnexTableConnector({ name: 'integration', knex });
    const recording = recordStatements(knex);
    for (const [values, cs] of [
      [['alice', 'bob'], false],
      [['müller', 'alice'], false],
      [['MÜLLER'], true],
    ] as [string[], boolean][]) {
      await connector.findCandidates(request(values, cs));
    }
    for (const statement of recording.stop()) {
      const details = (await sqlitePlan(knex, statement)).join(' | ');
      expect(details).toMatch(/USING INDEX account_(name_match|code_match_cs)/);
      expect(details).not.toMatch(/SCAN account/);
    }
  });
});
