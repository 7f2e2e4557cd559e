/**
 * BC's default integration set between the Business Central and Dataverse
 * EMULATORS: currencies, payment terms, salespeople (from Dataverse users),
 * customers (accounts, with their owner and currency as lookups and their
 * payment terms as an option set) and contacts (with their company), each
 * mapping declaring what it depends on. `npm start -- --emulators` serves it;
 * a full synchronization brings both sides in step in dependency order.
 */
import type { Systems } from '../../activities';
import type { Connector } from '../../connectors/connector';
import { BusinessCentralConnector } from '../../connectors/business-central';
import { DataverseConnector } from '../../connectors/dataverse';
import type { MappingDefinition } from '../../domain/mapping';
import { startBusinessCentralEmulator, type BusinessCentralEmulator } from '../../emulators/business-central/bc-emulator';
import { startDataverseEmulator, type DataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';
import { DEMO_ENTITIES } from '../../emulators/dataverse/entities';

export const BC = 'businessCentral';
export const DATAVERSE = 'dataverse';

/** The option set values Dataverse ships for account.paymenttermscode, and the BC payment terms codes they stand for. */
export const PAYMENT_TERMS_OPTIONS: readonly { code: string; option: number; label: string }[] = [
  { code: 'NET30', option: 1, label: 'Net 30' },
  { code: '2%10NET30', option: 2, label: '2% 10, Net 30' },
  { code: 'NET45', option: 3, label: 'Net 45' },
  { code: 'NET60', option: 4, label: 'Net 60' },
];

/** The five mappings, as BC's "Use Default Synchronization Setup" creates them (directions included). */
export function demoSetMappings(): MappingDefinition[] {
  return [
    {
      name: 'CURRENCY',
      local: { system: BC, table: 'currencies' },
      integration: { system: DATAVERSE, table: 'transactioncurrency' },
      direction: 'ToIntegrationTable',
      syncOnlyCoupledRecords: false,
      fields: [
        { localField: 'code', integrationField: 'isocurrencycode', useForMatching: true },
        { localField: 'displayName', integrationField: 'currencyname' },
        { localField: 'symbol', integrationField: 'currencysymbol' },
      ],
    },
    {
      name: 'PAYMENT_TERMS',
      local: { system: BC, table: 'paymentTerms' },
      integration: { system: DATAVERSE, table: 'msdyn_paymentterm' },
      direction: 'ToIntegrationTable',
      syncOnlyCoupledRecords: false,
      fields: [
        { localField: 'code', integrationField: 'msdyn_name', useForMatching: true },
        { localField: 'displayName', integrationField: 'msdyn_description' },
      ],
    },
    {
      name: 'SALESPEOPLE',
      local: { system: BC, table: 'salespeople' },
      integration: { system: DATAVERSE, table: 'systemuser' },
      direction: 'FromIntegrationTable',
      syncOnlyCoupledRecords: false,
      fields: [
        { localField: 'email', integrationField: 'internalemailaddress', transformation: [{ type: 'trim' }, { type: 'lowercase' }], useForMatching: true },
        // The code is BC's primary key and is not mapped: a salesperson created from a user gets one derived from its
        // creation key (the BC connector's number series), which an administrator may rename.
        { localField: 'displayName', integrationField: 'fullname', transformation: [{ type: 'truncate', length: 50 }] },
      ],
    },
    {
      name: 'CUSTOMER',
      local: { system: BC, table: 'customers' },
      integration: { system: DATAVERSE, table: 'account' },
      direction: 'Bidirectional',
      syncOnlyCoupledRecords: false,
      updateConflictResolution: 'SendToIntegration',
      dependsOn: ['PAYMENT_TERMS'],
      // Customers created from accounts start from a configuration template, as BC's do: Oslo's get a credit limit.
      templates: [
        { direction: 'FromIntegrationTable', priority: 0, filter: [{ field: 'address1_city', op: 'eq', value: 'Oslo' }], values: { creditLimit: 5000 } },
        { direction: 'FromIntegrationTable', priority: 1, values: { creditLimit: 1000 } },
      ],
      fields: [
        { localField: 'displayName', integrationField: 'name', transformation: [{ type: 'trim' }], useForMatching: true, matchPriority: 1 },
        { localField: 'email', integrationField: 'emailaddress1', transformation: [{ type: 'trim' }, { type: 'lowercase' }], useForMatching: true },
        { localField: 'phoneNumber', integrationField: 'telephone1' },
        { localField: 'city', integrationField: 'address1_city' },
        { localField: 'number', integrationField: 'accountnumber', direction: 'ToIntegrationTable' },
        {
          localField: 'paymentTermsCode',
          integrationField: 'paymenttermscode',
          optionMapping: { pairs: PAYMENT_TERMS_OPTIONS.map((t) => ({ local: t.code, integration: t.option })), unmapped: 'collect' },
        },
        { localField: 'salespersonCode', integrationField: 'ownerid', lookup: { mapping: 'SALESPEOPLE', localKey: 'code' } },
        { localField: 'currencyCode', integrationField: 'transactioncurrencyid', lookup: { mapping: 'CURRENCY', localKey: 'code' } },
      ],
    },
    {
      name: 'CONTACT',
      local: { system: BC, table: 'contacts' },
      integration: { system: DATAVERSE, table: 'contact' },
      direction: 'Bidirectional',
      syncOnlyCoupledRecords: false,
      updateConflictResolution: 'SendToIntegration',
      fields: [
        { localField: 'displayName', integrationField: 'fullname', useForMatching: true, matchPriority: 1 },
        { localField: 'email', integrationField: 'emailaddress1', transformation: [{ type: 'trim' }, { type: 'lowercase' }], useForMatching: true },
        { localField: 'companyNumber', integrationField: 'parentcustomerid', lookup: { mapping: 'CUSTOMER', localKey: 'number' } },
      ],
    },
  ];
}

export interface DemoSet {
  systems: Systems;
  mappings: MappingDefinition[];
  businessCentral: BusinessCentralEmulator;
  dataverse: DataverseEmulator;
  close(): Promise<void>;
}

const PEOPLE = ['Ann Lee', 'Bo Berg', 'Cy Dahl', 'Di Falk', 'Ed Gran', 'Flo Holm', 'Gus Ito', 'Hal Juul', 'Ida Krog', 'Jo Lind'];
const CITIES = ['Seattle', 'Oslo', 'Lyon', 'Leeds', 'Turku'];

/**
 * Business Central holds the finance side (currencies, terms, customers, contacts), Dataverse the users.
 * `populated`: both sides hold records of the same things, as when an integration is set up between two
 * systems in use: BC has two of the users as salespeople already, Dataverse its base currency and an
 * account with a contact of its own. Otherwise each mapping's destination starts empty.
 */
function seed(bc: BusinessCentralEmulator, dv: DataverseEmulator, customers: number, populated: boolean): void {
  bc.seed('currencies', [
    { code: 'EUR', displayName: 'Euro', symbol: '€' },
    { code: 'GBP', displayName: 'British pound', symbol: '£' },
  ]);
  bc.seed(
    'paymentTerms',
    PAYMENT_TERMS_OPTIONS.map((t) => ({ code: t.code, displayName: t.label })),
  );
  // Two salespeople BC already has, who are users in Dataverse too: coupled by e-mail, never created twice.
  if (populated)
    bc.seed('salespeople', [
      { code: 'JR', displayName: 'John Roberts', email: 'john.roberts@cronus.example' },
      { code: 'AH', displayName: 'Annette Hill', email: 'annette.hill@cronus.example' },
    ]);
  dv.put('systemusers', [
    { fullname: 'John Roberts', internalemailaddress: 'John.Roberts@cronus.example', domainname: 'john.roberts@cronus.example' },
    { fullname: 'Annette Hill', internalemailaddress: 'annette.hill@cronus.example', domainname: 'annette.hill@cronus.example' },
    { fullname: 'Ben Smith', internalemailaddress: 'ben.smith@cronus.example', domainname: 'ben.smith@cronus.example' },
  ]);
  // Dataverse's base currency; BC's local currency has no Currency record, so it stays uncoupled.
  if (populated) dv.put('transactioncurrencies', [{ isocurrencycode: 'USD', currencyname: 'US Dollar', currencysymbol: '$', exchangerate: 1 }]);
  const seeded = bc.seed(
    'customers',
    Array.from({ length: customers }, (_, i) => ({
      number: `C${String(10000 + i * 10)}`,
      displayName: `Customer ${i + 1}`,
      email: `customer${i + 1}@example.com`,
      phoneNumber: `555-01${String(i).padStart(2, '0')}`,
      city: CITIES[i % CITIES.length],
      currencyCode: ['', 'EUR', 'GBP'][i % 3],
      paymentTermsCode: PAYMENT_TERMS_OPTIONS[i % PAYMENT_TERMS_OPTIONS.length].code,
      salespersonCode: populated ? (i % 2 === 0 ? 'JR' : 'AH') : '',
    })),
  );
  bc.seed(
    'contacts',
    seeded.flatMap((c, i) =>
      [0, 1].map((k) => {
        const name = PEOPLE[(i * 2 + k) % PEOPLE.length];
        return {
          displayName: `${name} (${String(c.displayName)})`,
          email: `${name.split(' ')[0].toLowerCase()}.${i}@example.com`,
          companyNumber: String(c.number),
        };
      }),
    ),
  );
  if (!populated) return;
  // An account that exists only in Dataverse, owned by a user BC does not know yet, with a contact of its own.
  const [owner] = dv.all('systemusers').filter((u) => u.fullname === 'Ben Smith');
  const [account] = dv.put('accounts', [
    { name: 'Northwind Traders', emailaddress1: 'info@northwind.example', address1_city: 'Oslo', _ownerid_value: owner.systemuserid },
  ]);
  dv.put('contacts', [{ fullname: 'Nancy Davolio', emailaddress1: 'nancy@northwind.example', _parentcustomerid_value: account.accountid }]);
}

export async function startDemoSet(options: { customers?: number; populated?: boolean } = {}): Promise<DemoSet> {
  const limits = { requestsPerWindow: 100_000, windowMs: 60_000 };
  const businessCentral = await startBusinessCentralEmulator({ pageSize: 1000, limits: { ...limits, maxConcurrent: 5 } });
  const dataverse = await startDataverseEmulator({ entities: [...DEMO_ENTITIES], limits: { ...limits, maxConcurrent: 52 } });
  seed(businessCentral, dataverse, options.customers ?? 20, options.populated ?? true);
  const bc: Connector = new BusinessCentralConnector({
    ...businessCentral.connectorOptions(),
    name: BC,
    // Code-keyed tables: a create is keyed on the code the mapping writes.
    tables: { currencies: { numberField: 'code' }, paymentTerms: { numberField: 'code' }, salespeople: { numberField: 'code' } },
  });
  const dv: Connector = new DataverseConnector({
    name: DATAVERSE,
    environmentUrl: dataverse.environmentUrl,
    credentials: { tokenUrl: dataverse.tokenUrl, clientId: dataverse.clientId, clientSecret: dataverse.clientSecret },
    tables: {
      account: {
        entitySet: 'accounts',
        idAttribute: 'accountid',
        lookups: {
          ownerid: { navigationProperty: 'ownerid', entitySet: 'systemusers' },
          transactioncurrencyid: { navigationProperty: 'transactioncurrencyid', entitySet: 'transactioncurrencies' },
        },
      },
      contact: {
        entitySet: 'contacts',
        idAttribute: 'contactid',
        lookups: { parentcustomerid: { navigationProperty: 'parentcustomerid_account', entitySet: 'accounts' } },
      },
      transactioncurrency: { entitySet: 'transactioncurrencies', idAttribute: 'transactioncurrencyid' },
      systemuser: { entitySet: 'systemusers', idAttribute: 'systemuserid' },
      msdyn_paymentterm: { entitySet: 'msdyn_paymentterms', idAttribute: 'msdyn_paymenttermid' },
    },
  });
  return {
    systems: { [BC]: bc, [DATAVERSE]: dv },
    mappings: demoSetMappings(),
    businessCentral,
    dataverse,
    close: async () => {
      await Promise.all([bc.close?.(), dv.close?.()]);
      await Promise.all([businessCentral.close(), dataverse.close()]);
    },
  };
}
