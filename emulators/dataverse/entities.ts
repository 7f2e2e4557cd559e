/**
 * EMULATOR: the Dataverse tables the emulator serves, with a subset of their
 * real attributes (logical names and types as in the Dataverse reference) and
 * their lookups (navigation properties and the entity sets they bind to).
 */
import type { AttributeType } from './odata-filter';

export interface AttributeDefinition {
  type: AttributeType;
  /** Longest string accepted (String attributes). */
  maxLength?: number;
}

export interface EntityDefinition {
  /** Logical name, e.g. "account". */
  logicalName: string;
  /** Entity set name, e.g. "accounts". */
  entitySet: string;
  /** Primary key, e.g. "accountid". */
  idAttribute: string;
  /** Writable attributes; the id, modifiedon, createdon and versionnumber are added. */
  attributes: Record<string, AttributeType | AttributeDefinition>;
  /** Lookup attributes by logical name, e.g. parentcustomerid -> parentcustomerid_account on accounts. */
  lookups?: Record<string, { navigationProperty: string; target: string }>;
}

/** The account table, with the columns the tests map. */
export const ACCOUNT_ENTITY: EntityDefinition = {
  logicalName: 'account',
  entitySet: 'accounts',
  idAttribute: 'accountid',
  attributes: {
    name: { type: 'String', maxLength: 160 },
    emailaddress1: { type: 'String', maxLength: 100 },
    telephone1: { type: 'String', maxLength: 50 },
    address1_city: { type: 'String', maxLength: 80 },
    address1_country: { type: 'String', maxLength: 80 },
    accountnumber: { type: 'String', maxLength: 20 },
    numberofemployees: 'Integer',
    revenue: 'Money',
    creditonhold: 'Boolean',
    lastusedincampaign: 'DateTime',
    parentaccountid: 'Uniqueidentifier',
  },
};

/** The contact table: its company (parentcustomerid) is a lookup to accounts. */
export const CONTACT_ENTITY: EntityDefinition = {
  logicalName: 'contact',
  entitySet: 'contacts',
  idAttribute: 'contactid',
  attributes: {
    fullname: { type: 'String', maxLength: 160 },
    emailaddress1: { type: 'String', maxLength: 100 },
  },
  lookups: { parentcustomerid: { navigationProperty: 'parentcustomerid_account', target: 'accounts' } },
};

/** Dataverse's currency table: BC's CURRENCY mapping couples currencies to it. */
export const TRANSACTION_CURRENCY_ENTITY: EntityDefinition = {
  logicalName: 'transactioncurrency',
  entitySet: 'transactioncurrencies',
  idAttribute: 'transactioncurrencyid',
  attributes: {
    isocurrencycode: { type: 'String', maxLength: 5 },
    currencyname: { type: 'String', maxLength: 100 },
    currencysymbol: { type: 'String', maxLength: 10 },
    exchangerate: 'Decimal',
  },
};

/** Users: BC's SALESPEOPLE mapping couples them to salespeople, from Dataverse to BC. */
export const SYSTEM_USER_ENTITY: EntityDefinition = {
  logicalName: 'systemuser',
  entitySet: 'systemusers',
  idAttribute: 'systemuserid',
  attributes: {
    fullname: { type: 'String', maxLength: 200 },
    internalemailaddress: { type: 'String', maxLength: 100 },
    domainname: { type: 'String', maxLength: 1024 },
  },
};

/** A payment terms table, as Dynamics 365 apps add one (msdyn_paymentterm); BC's PAYMENT TERMS mapping fills it. */
export const PAYMENT_TERM_ENTITY: EntityDefinition = {
  logicalName: 'msdyn_paymentterm',
  entitySet: 'msdyn_paymentterms',
  idAttribute: 'msdyn_paymenttermid',
  attributes: {
    msdyn_name: { type: 'String', maxLength: 100 },
    msdyn_description: { type: 'String', maxLength: 2000 },
  },
};

/** The account as BC's CUSTOMER mapping sees it: its owner and currency are lookups, its payment terms an option set. */
export const DEMO_ACCOUNT_ENTITY: EntityDefinition = {
  ...ACCOUNT_ENTITY,
  attributes: { ...ACCOUNT_ENTITY.attributes, paymenttermscode: 'Picklist' },
  lookups: {
    transactioncurrencyid: { navigationProperty: 'transactioncurrencyid', target: 'transactioncurrencies' },
    ownerid: { navigationProperty: 'ownerid', target: 'systemusers' },
  },
};

/** The tables of the five-mapping demo set. */
export const DEMO_ENTITIES: readonly EntityDefinition[] = [
  DEMO_ACCOUNT_ENTITY,
  CONTACT_ENTITY,
  TRANSACTION_CURRENCY_ENTITY,
  SYSTEM_USER_ENTITY,
  PAYMENT_TERM_ENTITY,
];
