/** SYSTEMS_CONFIG: each kind of entry opens its connector; mistakes are one sentence naming the entry. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemsFromFile } from '../../worker/systems-config';
import { DataverseConnector } from '../../connectors/dataverse';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { KnexTableConnector } from '../../connectors/knex-table-connector';

const dir = mkdtempSync(path.join(os.tmpdir(), 'systems-config-'));
function file(content: unknown): string {
  const p = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(content));
  return p;
}

const dataverse = {
  type: 'dataverse',
  environmentUrl: 'https://contoso.crm.dynamics.com',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: 'app-id',
  clientSecretEnv: 'DV_SECRET',
  tables: { account: { entitySet: 'accounts', idAttribute: 'accountid' } },
};
const businessCentral = {
  type: 'businessCentral',
  environment: 'production',
  companyId: '6f8c2a39-3f1e-4b1a-9a57-0c3e1f6b8d21',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: 'app-id',
  clientSecretEnv: 'BC_SECRET',
};

test('opens Knex, Dataverse and Business Central systems, secrets from the environment', async () => {
  const opened = systemsFromFile(file({ crm: dataverse, erp: businessCentral, db: { type: 'knex', databaseUrl: `sqlite:${path.join(dir, 'x.sqlite')}` } }), {
    DV_SECRET: 'dv-secret-value',
    BC_SECRET: 'bc-secret-value',
  });
  try {
    expect(opened.systems.crm).toBeInstanceOf(DataverseConnector);
    expect(opened.systems.erp).toBeInstanceOf(BusinessCentralConnector);
    expect(opened.systems.db).toBeInstanceOf(KnexTableConnector);
  } finally {
    await opened.close();
  }
});

test('a missing secret variable, a bad company id and an unknown type are named', () => {
  expect(() => systemsFromFile(file({ crm: dataverse }), {})).toThrow('System "crm": environment variable DV_SECRET (its clientSecretEnv) is not set.');
  expect(() => systemsFromFile(file({ erp: { ...businessCentral, companyId: 'CRONUS' } }), { BC_SECRET: 'x' })).toThrow(/erp\.companyId/);
  expect(() => systemsFromFile(file({ x: { type: 'salesforce' } }), {})).toThrow(/x\.type/);
});
