/**
 * The demo's two systems of record: a BC-like "customer" table (local side) and
 * a Dataverse-like "account" table (integration side), each a SQLite database,
 * seeded with a few hundred rows. Some accounts match customers by name or email
 * with different letter case, some match nothing.
 */
import type { Knex } from 'knex';
import { ensureMatchIndexes } from '../../connectors/knex-table-connector';
import { matchIndexFields } from '../../domain/matching';
import { parseMappingDefinition, type MappingDefinition } from '../../domain/mapping';

export const DEMO_MAPPING_NAME = 'CUSTOMER';

export async function createCustomerTable(knex: Knex, table = 'customer'): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  await knex.schema.createTable(table, (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('email', 200).nullable();
    t.string('phone', 50).nullable();
    t.string('city', 100).nullable();
    t.string('country', 2).nullable();
    t.string('segment', 50).nullable();
    t.string('modified_on', 32).notNullable();
    t.index(['modified_on', 'id']);
  });
}

export async function createAccountTable(knex: Knex, table = 'account'): Promise<void> {
  if (!(await knex.schema.hasTable(table))) await createAccountColumns(knex, table);
  // Match-based coupling looks each batch's values up through these; without them every candidate query reads the whole table.
  await ensureMatchIndexes(knex, table, matchIndexFields(parseMappingDefinition(demoMapping)));
}

async function createAccountColumns(knex: Knex, table: string): Promise<void> {
  await knex.schema.createTable(table, (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).nullable();
    t.string('emailaddress1', 200).nullable();
    t.string('telephone1', 50).nullable();
    t.string('address1_city', 100).nullable();
    t.string('address1_country', 2).nullable();
    t.string('customertypecode', 50).nullable();
    t.string('modified_on', 32).notNullable();
    t.index(['modified_on', 'id']);
  });
}

export const demoMapping: MappingDefinition = {
  name: DEMO_MAPPING_NAME,
  local: { system: 'local', table: 'customer' },
  integration: { system: 'integration', table: 'account' },
  direction: 'Bidirectional',
  syncOnlyCoupledRecords: false,
  updateConflictResolution: 'SendToIntegration',
  deletionConflictResolution: 'RestoreRecords',
  fields: [
    { localField: 'name', integrationField: 'name', direction: 'Bidirectional', transformation: [{ type: 'trim' }], useForMatching: true, matchPriority: 1 },
    {
      localField: 'email',
      integrationField: 'emailaddress1',
      direction: 'Bidirectional',
      transformation: [{ type: 'trim' }, { type: 'lowercase' }],
      useForMatching: true,
      matchPriority: 0,
    },
    { localField: 'phone', integrationField: 'telephone1', direction: 'Bidirectional' },
    { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional' },
    { localField: 'country', integrationField: 'address1_country', direction: 'ToIntegrationTable', transformation: [{ type: 'uppercase' }] },
    { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: 'Customer' },
  ],
};

const FIRST = [
  'Adatum',
  'Contoso',
  'Fabrikam',
  'Litware',
  'Northwind',
  'Proseware',
  'Tailspin',
  'Woodgrove',
  'Alpine',
  'Coho',
  'Wide World',
  'Blue Yonder',
  'Trey',
  'Humongous',
  'Lucerne',
  'Margie',
  'Fourth Coffee',
  'Wingtip',
  'Graphic Design',
  'School of Fine Art',
];
const SECOND = ['Corporation', 'Ltd.', 'Inc.', 'GmbH', 'Traders', 'Holdings', 'Partners', 'Studio', 'Group', 'Supply'];
const CITIES: [string, string][] = [
  ['Seattle', 'us'],
  ['Atlanta', 'us'],
  ['London', 'gb'],
  ['München', 'de'],
  ['Zürich', 'ch'],
  ['Île-de-France', 'fr'],
  ['København', 'dk'],
  ['Oslo', 'no'],
];

/** A deterministic generator so every demo starts the same. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

export interface DemoRows {
  customers: Record<string, string | null>[];
  accounts: Record<string, string | null>[];
}

export function demoRows(count = 300, now = new Date()): DemoRows {
  const rnd = random(42);
  const stamp = (i: number): string => new Date(now.getTime() - (count - i) * 60_000).toISOString();
  const customers: Record<string, string | null>[] = [];
  const accounts: Record<string, string | null>[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${FIRST[i % FIRST.length]} ${SECOND[Math.floor(i / FIRST.length) % SECOND.length]} ${Math.floor(i / 200) || ''}`.trim();
    const [city, country] = CITIES[Math.floor(rnd() * CITIES.length)];
    const email = `contact${i}@${FIRST[i % FIRST.length].toLowerCase().replace(/\s/g, '')}.example`;
    customers.push({ id: `C${String(10000 + i)}`, name, email, phone: `+1 555 ${String(1000 + i)}`, city, country, segment: 'Retail', modified_on: stamp(i) });
    const pick = rnd();
    if (pick < 0.35) {
      // Same email, different case and stray spaces: matches at priority 0.
      accounts.push({
        id: `a-${i}`,
        name: name.toUpperCase(),
        emailaddress1: ` ${email.toUpperCase()} `,
        telephone1: null,
        address1_city: city,
        address1_country: country.toUpperCase(),
        customertypecode: null,
        modified_on: stamp(i),
      });
    } else if (pick < 0.55) {
      // No email, same name in another case: matches at priority 1.
      accounts.push({
        id: `a-${i}`,
        name: name.toLowerCase(),
        emailaddress1: null,
        telephone1: null,
        address1_city: null,
        address1_country: null,
        customertypecode: null,
        modified_on: stamp(i),
      });
    }
  }
  for (let j = 0; j < Math.floor(count / 6); j++) {
    accounts.push({
      id: `a-x${j}`,
      name: `Prospect ${j} ${FIRST[j % FIRST.length]} Lead`,
      emailaddress1: `lead${j}@prospect.example`,
      telephone1: null,
      address1_city: null,
      address1_country: null,
      customertypecode: 'Prospect',
      modified_on: stamp(j),
    });
  }
  return { customers, accounts };
}

/** Creates the tables and seeds them once (an existing demo keeps its data). */
export async function seedDemo(local: Knex, integration: Knex, count = 300): Promise<{ seeded: boolean }> {
  await createCustomerTable(local);
  await createAccountTable(integration);
  const existing = await local('customer').count({ n: '*' }).first();
  if (Number(existing?.n ?? 0) > 0) return { seeded: false };
  const rows = demoRows(count);
  await local.batchInsert('customer', rows.customers, 200);
  await integration.batchInsert('account', rows.accounts, 200);
  return { seeded: true };
}
