/**
 * Two systems of record for tests: a "customer" table (local) and an "account"
 * table (integration), each a SQLite database in memory behind the Knex table
 * connector, plus helpers to read them back.
 */
import knexFactory, { type Knex } from 'knex';
import type { Systems } from '../../activities';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import { sqliteConfig } from '../../store/database-url';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import type { MappingDefinition } from '../../domain/mapping';

export interface TestSystems {
  local: Knex;
  integration: Knex;
  systems: Systems;
  close(): Promise<void>;
}

export async function openTestSystems(): Promise<TestSystems> {
  const local = knexFactory(sqliteConfig(':memory:'));
  const integration = knexFactory(sqliteConfig(':memory:'));
  await createCustomerTable(local);
  await createAccountTable(integration);
  return {
    local,
    integration,
    systems: {
      local: new KnexTableConnector({ name: 'local', knex: local }),
      integration: new KnexTableConnector({ name: 'integration', knex: integration }),
    },
    close: async () => {
      await local.destroy();
      await integration.destroy();
    },
  };
}

let clock = 0;
/** Now, as an ISO modified-on, later than every earlier one in this process (as a user's edit would be). */
export function tick(): string {
  clock = Math.max(Date.now(), clock + 1);
  return new Date(clock).toISOString();
}

// A modified_on given in `extra` must not also call tick(): a thousand unused ticks put
// the clock a second ahead of the worker's, and an edit stamped after them lands past the next job's start.
const modifiedOn = (extra: Record<string, unknown>): unknown => extra.modified_on ?? tick();

export function customer(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `C${i}`,
    name: `Customer ${i}`,
    email: `c${i}@example.com`,
    phone: `555-${i}`,
    city: 'Seattle',
    country: 'us',
    segment: 'Retail',
    modified_on: modifiedOn(extra),
    ...extra,
  };
}

export function account(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `Account ${id}`,
    emailaddress1: null,
    telephone1: null,
    address1_city: null,
    address1_country: null,
    customertypecode: null,
    modified_on: modifiedOn(extra),
    ...extra,
  };
}

/** A CUSTOMER-like mapping; override what the test is about. */
export function testMapping(overrides: Partial<MappingDefinition> = {}): MappingDefinition {
  return {
    name: 'CUSTOMER',
    local: { system: 'local', table: 'customer' },
    integration: { system: 'integration', table: 'account' },
    direction: 'ToIntegrationTable',
    syncOnlyCoupledRecords: false,
    fields: [
      { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
      { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional' },
      { localField: 'phone', integrationField: 'telephone1', direction: 'Bidirectional' },
      { localField: 'city', integrationField: 'address1_city', direction: 'Bidirectional' },
    ],
    ...overrides,
  };
}
