/**
 * EMULATOR: the entity sets of Business Central's API v2.0 that the emulator
 * serves, with a subset of their real properties (names and types as in the
 * v2.0 reference), the number series each uses when a create gives no number,
 * and the $metadata document describing them.
 */
import type { EdmType } from './odata-filter';

export interface EntityDefinition {
  entitySet: string;
  entityType: string;
  /** The BC table behind it, for messages ("The record in table Customer already exists"). */
  tableCaption: string;
  properties: Readonly<Record<string, EdmType>>;
  /** Code fields: stored upper-case, at most this long. */
  codeFields: Readonly<Record<string, number>>;
  /** Text fields and their maximum lengths. */
  textLengths: Readonly<Record<string, number>>;
  defaults: Readonly<Record<string, unknown>>;
  /** Prefix of numbers the series hands out ("C00010"). */
  seriesPrefix: string;
  /** Table relations BC validates on every write: a non-empty value must name a record of the related entity set. */
  relations?: Readonly<Record<string, { entitySet: string; field: string; caption: string }>>;
  /** Entity sets keyed by a code, not a number: they have no number series (currencies, payment terms). */
  keyField?: 'number' | 'code';
}

const COMMON = { id: 'Edm.Guid', number: 'Edm.String', displayName: 'Edm.String', lastModifiedDateTime: 'Edm.DateTimeOffset' } as const;
const ADDRESS = {
  addressLine1: 'Edm.String',
  addressLine2: 'Edm.String',
  city: 'Edm.String',
  state: 'Edm.String',
  country: 'Edm.String',
  postalCode: 'Edm.String',
} as const;
const ADDRESS_LENGTHS = { addressLine1: 100, addressLine2: 50, city: 30, state: 30, country: 10, postalCode: 20 };

export const ENTITIES: readonly EntityDefinition[] = [
  {
    entitySet: 'customers',
    entityType: 'customer',
    tableCaption: 'Customer',
    seriesPrefix: 'C',
    properties: {
      ...COMMON,
      type: 'Edm.String',
      ...ADDRESS,
      phoneNumber: 'Edm.String',
      email: 'Edm.String',
      website: 'Edm.String',
      currencyCode: 'Edm.String',
      paymentTermsId: 'Edm.Guid',
      // Not in the standard API v2.0 (a published custom API page adds them): the Customer fields BC's CRM integration maps.
      paymentTermsCode: 'Edm.String',
      salespersonCode: 'Edm.String',
      blocked: 'Edm.String',
      creditLimit: 'Edm.Decimal',
      taxLiable: 'Edm.Boolean',
    },
    codeFields: { number: 20, currencyCode: 10, paymentTermsCode: 10, salespersonCode: 20 },
    textLengths: { displayName: 100, ...ADDRESS_LENGTHS, phoneNumber: 30, email: 80, website: 80 },
    defaults: { type: 'Company', blocked: ' ', creditLimit: 0, taxLiable: false },
    relations: {
      currencyCode: { entitySet: 'currencies', field: 'code', caption: 'Currency Code' },
      paymentTermsId: { entitySet: 'paymentTerms', field: 'id', caption: 'Payment Terms Code' },
      paymentTermsCode: { entitySet: 'paymentTerms', field: 'code', caption: 'Payment Terms Code' },
      salespersonCode: { entitySet: 'salespeople', field: 'code', caption: 'Salesperson Code' },
    },
  },
  {
    entitySet: 'vendors',
    entityType: 'vendor',
    tableCaption: 'Vendor',
    seriesPrefix: 'V',
    properties: {
      ...COMMON,
      ...ADDRESS,
      phoneNumber: 'Edm.String',
      email: 'Edm.String',
      website: 'Edm.String',
      currencyCode: 'Edm.String',
      blocked: 'Edm.String',
      balance: 'Edm.Decimal',
    },
    codeFields: { number: 20, currencyCode: 10 },
    textLengths: { displayName: 100, ...ADDRESS_LENGTHS, phoneNumber: 30, email: 80, website: 80 },
    defaults: { blocked: ' ', balance: 0 },
  },
  {
    entitySet: 'contacts',
    entityType: 'contact',
    tableCaption: 'Contact',
    seriesPrefix: 'CT',
    properties: {
      ...COMMON,
      type: 'Edm.String',
      jobTitle: 'Edm.String',
      companyNumber: 'Edm.String',
      companyName: 'Edm.String',
      ...ADDRESS,
      phoneNumber: 'Edm.String',
      mobilePhoneNumber: 'Edm.String',
      email: 'Edm.String',
      website: 'Edm.String',
    },
    codeFields: { number: 20, companyNumber: 20 },
    textLengths: { displayName: 100, jobTitle: 30, companyName: 100, ...ADDRESS_LENGTHS, phoneNumber: 30, mobilePhoneNumber: 30, email: 80, website: 80 },
    defaults: { type: 'Person' },
    // In BC the company is a contact of type Company linked to the customer; the emulator relates it to the customer directly.
    relations: { companyNumber: { entitySet: 'customers', field: 'number', caption: 'Company No.' } },
  },
  {
    entitySet: 'currencies',
    entityType: 'currency',
    tableCaption: 'Currency',
    seriesPrefix: '',
    keyField: 'code',
    properties: { id: 'Edm.Guid', code: 'Edm.String', displayName: 'Edm.String', symbol: 'Edm.String', lastModifiedDateTime: 'Edm.DateTimeOffset' },
    codeFields: { code: 10 },
    textLengths: { displayName: 30, symbol: 10 },
    defaults: {},
  },
  {
    entitySet: 'paymentTerms',
    entityType: 'paymentTerm',
    tableCaption: 'Payment Terms',
    seriesPrefix: '',
    keyField: 'code',
    properties: { id: 'Edm.Guid', code: 'Edm.String', displayName: 'Edm.String', dueDateCalculation: 'Edm.String', lastModifiedDateTime: 'Edm.DateTimeOffset' },
    codeFields: { code: 10 },
    textLengths: { displayName: 50, dueDateCalculation: 32 },
    defaults: {},
  },
  {
    // Salesperson/Purchaser: not in the standard API v2.0; modelled as the custom API page a BC partner publishes for it.
    entitySet: 'salespeople',
    entityType: 'salesperson',
    tableCaption: 'Salesperson/Purchaser',
    seriesPrefix: '',
    keyField: 'code',
    properties: { id: 'Edm.Guid', code: 'Edm.String', displayName: 'Edm.String', email: 'Edm.String', lastModifiedDateTime: 'Edm.DateTimeOffset' },
    codeFields: { code: 20 },
    textLengths: { displayName: 50, email: 80 },
    defaults: {},
  },
  {
    entitySet: 'items',
    entityType: 'item',
    tableCaption: 'Item',
    seriesPrefix: 'I',
    properties: {
      ...COMMON,
      type: 'Edm.String',
      itemCategoryCode: 'Edm.String',
      blocked: 'Edm.Boolean',
      gtin: 'Edm.String',
      unitPrice: 'Edm.Decimal',
      unitCost: 'Edm.Decimal',
      baseUnitOfMeasureCode: 'Edm.String',
    },
    codeFields: { number: 20, itemCategoryCode: 20, baseUnitOfMeasureCode: 10 },
    textLengths: { displayName: 100, gtin: 14 },
    defaults: { type: 'Inventory', blocked: false, unitPrice: 0, unitCost: 0 },
  },
];

export function entityBySet(entitySet: string): EntityDefinition | undefined {
  return ENTITIES.find((e) => e.entitySet === entitySet);
}

/** The value a property holds when a create does not give one: BC text is '' and never null. */
export function emptyValue(type: EdmType): unknown {
  switch (type) {
    case 'Edm.Decimal':
    case 'Edm.Int32':
      return 0;
    case 'Edm.Boolean':
      return false;
    case 'Edm.String':
      return '';
    case 'Edm.Guid':
      return '00000000-0000-0000-0000-000000000000';
    default:
      return null;
  }
}

/** CSDL of the API root, as `GET {apiUrl}/$metadata` returns it (trimmed to what is emulated). */
export function metadataXml(): string {
  const types = ENTITIES.map((e) => {
    const props = Object.entries(e.properties)
      .map(([name, type]) => {
        const nullable = name === 'id' || type === 'Edm.String' ? ' Nullable="false"' : '';
        const length = e.codeFields[name] ?? e.textLengths[name];
        return `<Property Name="${name}" Type="${type}"${nullable}${length ? ` MaxLength="${length}"` : ''} />`;
      })
      .join('');
    return `<EntityType Name="${e.entityType}"><Key><PropertyRef Name="id" /></Key>${props}</EntityType>`;
  }).join('');
  const company =
    '<EntityType Name="company"><Key><PropertyRef Name="id" /></Key><Property Name="id" Type="Edm.Guid" Nullable="false" /><Property Name="name" Type="Edm.String" /></EntityType>';
  const sets = [
    ...ENTITIES.map((e) => `<EntitySet Name="${e.entitySet}" EntityType="Microsoft.NAV.${e.entityType}" />`),
    '<EntitySet Name="companies" EntityType="Microsoft.NAV.company" />',
  ].join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>' +
    `<Schema Namespace="Microsoft.NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">${company}${types}<EntityContainer Name="NAV">${sets}</EntityContainer></Schema>` +
    '</edmx:DataServices></edmx:Edmx>'
  );
}
