/**
 * The demo on the service emulators instead of SQLite: a Business Central
 * company (local side, customers) and a Dataverse environment (integration
 * side, accounts), each an in-process EMULATOR of the service's Web API, reached
 * through the real connectors with OAuth tokens, paging and $batch. The same
 * seeded data as the SQLite demo. The emulators keep records in memory, so
 * every start begins afresh.
 */
import type { Systems } from '../../activities';
import type { Connector } from '../../connectors/connector';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { DataverseConnector } from '../../connectors/dataverse';
import type { MappingDefinition } from '../../domain/mapping';
import { startBusinessCentralEmulator, type BusinessCentralEmulator, type BusinessCentralEmulatorOptions } from '../../emulators/business-central/bc-emulator';
import { startDataverseEmulator, type DataverseEmulator, type DataverseEmulatorOptions } from '../../emulators/dataverse/dataverse-emulator';
import { DEMO_MAPPING_NAME, demoRows } from './demo-data';

export const BC_SYSTEM = 'businessCentral';
export const DATAVERSE_SYSTEM = 'dataverse';
const ACCOUNT_COLUMNS = ['name', 'emailaddress1', 'telephone1', 'address1_city', 'address1_country', 'accountnumber'];

/** Business Central customers <-> Dataverse accounts, the fields BC's own CUSTOMER mapping couples. */
export function emulatedMapping(name = DEMO_MAPPING_NAME): MappingDefinition {
  return {
    name,
    local: { system: BC_SYSTEM, table: 'customers' },
    integration: { system: DATAVERSE_SYSTEM, table: 'account' },
    direction: 'Bidirectional',
    syncOnlyCoupledRecords: false,
    updateConflictResolution: 'SendToIntegration',
    deletionConflictResolution: 'RestoreRecords',
    fields: [
      { localField: 'displayName', integrationField: 'name', transformation: [{ type: 'trim' }], useForMatching: true, matchPriority: 1 },
      {
        localField: 'email',
        integrationField: 'emailaddress1',
        transformation: [{ type: 'trim' }, { type: 'lowercase' }],
        useForMatching: true,
        matchPriority: 0,
      },
      { localField: 'phoneNumber', integrationField: 'telephone1' },
      { localField: 'city', integrationField: 'address1_city' },
      { localField: 'country', integrationField: 'address1_country', direction: 'ToIntegrationTable', transformation: [{ type: 'uppercase' }] },
    ],
  };
}

export interface EmulatedSystems {
  systems: Systems;
  businessCentral: BusinessCentralEmulator;
  dataverse: DataverseEmulator;
  close(): Promise<void>;
}

export interface EmulatedSystemsOptions {
  /** Customers seeded in Business Central; the accounts follow the SQLite demo's proportions. @default 300 */
  customers?: number;
  /** Records per page Business Central sends. @default 1000 */
  bcPageSize?: number;
  /** Business Central's webhook deliveries (the emulator's defaults otherwise). */
  subscriptionRules?: BusinessCentralEmulatorOptions['subscriptionRules'];
  /** Dataverse's webhook posts (the emulator's defaults otherwise). */
  webhookRules?: DataverseEmulatorOptions['webhookRules'];
}

export async function startEmulatedSystems(options: EmulatedSystemsOptions = {}): Promise<EmulatedSystems> {
  // Generous request limits: the demo and the tests here are about data, the throttling tests set their own.
  const limits = { requestsPerWindow: 100_000, windowMs: 60_000 };
  const businessCentral = await startBusinessCentralEmulator({
    pageSize: options.bcPageSize ?? 1000,
    limits: { ...limits, maxConcurrent: 5 },
    subscriptionRules: options.subscriptionRules,
  });
  const dataverse = await startDataverseEmulator({ limits: { ...limits, maxConcurrent: 52 }, webhookRules: options.webhookRules });
  const rows = demoRows(options.customers ?? 300);
  businessCentral.seed(
    'customers',
    rows.customers.map((c) => ({
      number: c.id,
      displayName: c.name,
      email: c.email,
      phoneNumber: c.phone,
      city: c.city,
      country: c.country,
    })),
  );
  dataverse.put(
    'accounts',
    rows.accounts.map((a) => ({
      name: a.name,
      emailaddress1: a.emailaddress1,
      telephone1: a.telephone1,
      address1_city: a.address1_city,
      address1_country: a.address1_country,
      accountnumber: a.id,
    })),
  );
  const bc: Connector = new BusinessCentralConnector({ ...businessCentral.connectorOptions(), name: BC_SYSTEM });
  const dv: Connector = new DataverseConnector({
    name: DATAVERSE_SYSTEM,
    environmentUrl: dataverse.environmentUrl,
    credentials: { tokenUrl: dataverse.tokenUrl, clientId: dataverse.clientId, clientSecret: dataverse.clientSecret },
    tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: ACCOUNT_COLUMNS } },
  });
  return {
    systems: { [BC_SYSTEM]: bc, [DATAVERSE_SYSTEM]: dv },
    businessCentral,
    dataverse,
    close: async () => {
      await Promise.all([bc.close?.(), dv.close?.()]);
      await Promise.all([businessCentral.close(), dataverse.close()]);
    },
  };
}
