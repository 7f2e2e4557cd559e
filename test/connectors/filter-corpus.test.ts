/**
 * One filter corpus, four connectors: each filter of the grammar
 * (common/filter-grammar.ts) against the same fixed rows, read through the
 * Knex connector on SQLite and on PostgreSQL, and the Dataverse and Business
 * Central connectors against their emulators. Every connector must select the
 * rows the table says. Where a service genuinely differs, the entry says so,
 * with the reason, instead of leaving the filter out:
 * - Dataverse compares text without regard to case or accents (its SQL
 *   collation), in eq, ne, in, notIn, lt..gte, contains and startsWith;
 * - Business Central text is never null: a text field without a value is ''.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import type { FilterCondition } from '../../common/types';
import type { Connector } from '../../connectors/connector';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { DataverseConnector } from '../../connectors/dataverse';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { filterSchema } from '../../common/inputs';
import { sqliteConfig } from '../../store/database-url';
import { POSTGRES_URL, postgresAvailable } from '../helpers/stores';
import { startDataverseEmulator, type DataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';
import { startBusinessCentralEmulator, type BusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { FILTER_CORPUS, ROWS, type Entry, type Logical, type Target } from './filter-corpus';

/** One system holding the rows, with its column names for the logical fields. */
interface System {
  connector: Connector;
  table: string;
  columns: Record<Logical | 'label', string>;
  close(): Promise<void>;
}

const KNEX_COLUMNS = { label: 'label', name: 'name', city: 'city', score: 'score', active: 'active' };

async function knexSystem(knex: Knex, name: string, close: () => Promise<void>): Promise<System> {
  await knex.schema.createTable('filter_rows', (t) => {
    t.string('id').primary();
    t.string('modified_on').notNullable();
    t.string('label');
    t.string('name');
    t.string('city').nullable();
    t.integer('score');
    t.boolean('active');
  });
  await knex('filter_rows').insert(ROWS.map((r, i) => ({ id: `id${i}`, modified_on: `2024-01-01T00:00:0${i}.000Z`, ...r })));
  return { connector: new KnexTableConnector({ name, knex }), table: 'filter_rows', columns: KNEX_COLUMNS, close };
}

const SYSTEMS: Record<Target, () => Promise<System | null>> = {
  sqlite: async () => {
    const knex = knexFactory(sqliteConfig(':memory:'));
    return knexSystem(knex, 'sqlite', () => knex.destroy());
  },
  postgres: async () => {
    if (!(await postgresAvailable())) {
      if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at ${POSTGRES_URL}.`);
      return null;
    }
    const schema = `cs_filter_${process.pid}_${randomBytes(4).toString('hex')}`;
    const knex = knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: 2 } });
    await knex.raw('create schema ??', [schema]);
    return knexSystem(knex, 'postgres', async () => {
      await knex.raw('drop schema if exists ?? cascade', [schema]);
      await knex.destroy();
    });
  },
  dataverse: async () => {
    const emulator: DataverseEmulator = await startDataverseEmulator({
      entities: [
        {
          logicalName: 'new_filterrow',
          entitySet: 'new_filterrows',
          idAttribute: 'new_filterrowid',
          attributes: { new_label: 'String', new_name: 'String', new_city: 'String', new_score: 'Integer', new_active: 'Boolean' },
        },
      ],
    });
    emulator.put(
      'new_filterrows',
      ROWS.map((r) => ({ new_label: r.label, new_name: r.name, new_city: r.city, new_score: r.score, new_active: r.active })),
    );
    const connector = new DataverseConnector({
      name: 'dataverse',
      environmentUrl: emulator.environmentUrl,
      credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
      tables: { new_filterrow: { entitySet: 'new_filterrows', idAttribute: 'new_filterrowid' } },
    });
    return {
      connector,
      table: 'new_filterrow',
      columns: { label: 'new_label', name: 'new_name', city: 'new_city', score: 'new_score', active: 'new_active' },
      close: () => emulator.close(),
    };
  },
  businessCentral: async () => {
    const emulator: BusinessCentralEmulator = await startBusinessCentralEmulator();
    // BC text has no null: a city without a value is '' there.
    emulator.seed(
      'customers',
      ROWS.map((r) => ({ number: r.label, displayName: r.name, city: r.city ?? '', creditLimit: r.score, taxLiable: r.active })),
    );
    return {
      connector: new BusinessCentralConnector(emulator.connectorOptions()),
      table: 'customers',
      columns: { label: 'number', name: 'displayName', city: 'city', score: 'creditLimit', active: 'taxLiable' },
      close: () => emulator.close(),
    };
  },
};

function describeEntry(entry: Entry): string {
  return entry.filter.map((c) => `${c.field} ${c.op}${c.value === undefined ? '' : ` ${JSON.stringify(c.value)}`}`).join(' and ');
}

test('every corpus filter is in the grammar (refused filters cannot reach a connector)', () => {
  for (const entry of FILTER_CORPUS)
    expect({ entry: describeEntry(entry), ok: filterSchema.safeParse(entry.filter).success }).toEqual({ entry: describeEntry(entry), ok: true });
});

describe.each(Object.keys(SYSTEMS) as Target[])('%s', (target) => {
  let system: System | null = null;
  beforeAll(async () => {
    system = await SYSTEMS[target]();
  });
  afterAll(async () => {
    await system?.close();
  });

  test('selects the rows the corpus says, with every difference stated', async () => {
    if (!system) {
      console.log(`filter corpus: ${target} did not run (no PostgreSQL at ${POSTGRES_URL})`);
      return;
    }
    const s = system;
    const results = [];
    for (const entry of FILTER_CORPUS) {
      const filter: FilterCondition[] = entry.filter.map((c) => ({ ...c, field: s.columns[c.field] }));
      const records = await s.connector.readChanged({ table: s.table, fields: [s.columns.label], filter, since: null, after: null, through: null, limit: 100 });
      const selected = records.map((r) => String(r.values[s.columns.label])).sort();
      const expected = entry.differs?.[target]?.matches ?? entry.matches;
      results.push({ filter: describeEntry(entry), selected, expected });
    }
    expect(results.filter((r) => JSON.stringify(r.selected) !== JSON.stringify(r.expected))).toEqual([]);
  });
});
