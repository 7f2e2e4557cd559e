/**
 * Configuration of a DataverseConnector. It lives in the worker process only:
 * mappings and workflow inputs name a system and a table, never a URL or a
 * secret, so credentials never reach Temporal's history.
 */
import { z } from 'zod';
import { definedOnly } from '../../common/collections';
import { isLoopbackHost } from '../../common/loopback';
import { ConnectorError } from '../connector-error';
import type { ConnectorCredentials } from '../http/token-client';
import { isIdentifier } from '../odata/literals';

/** One Dataverse table (entity) a mapping may name by its logical name, e.g. "account". */
export interface DataverseTableOptions {
  /** Entity set name in the Web API, e.g. "accounts". */
  entitySet: string;
  /** Primary key attribute, e.g. "accountid". */
  idAttribute: string;
  /** Columns mappings may use; when absent, describeTable reads them from the EntityDefinitions metadata. */
  columns?: string[];
  /** Lookup columns by logical name, e.g. parentcustomerid: { navigationProperty: "parentcustomerid_account", entitySet: "accounts" }. */
  lookups?: Record<string, { navigationProperty: string; entitySet: string }>;
}

/** A table's options as a systems file gives them; resolveDataverseOptions checks the names further. */
export const dataverseTableSchema = z.strictObject({
  entitySet: z.string().min(1),
  idAttribute: z.string().min(1),
  columns: z.array(z.string()).optional(),
  lookups: z.record(z.string(), z.strictObject({ navigationProperty: z.string().min(1), entitySet: z.string().min(1) })).optional(),
}) satisfies z.ZodType<DataverseTableOptions>;

/** OAuth 2.0 client credentials of an application user (Microsoft Entra ID v2 endpoint). */
export interface DataverseCredentials extends ConnectorCredentials {
  /** @default `${environmentUrl}/.default` */
  scope?: string;
}

export interface DataverseConnectorOptions {
  /** Name used in messages, e.g. "dataverse". */
  name: string;
  /** Environment URL, e.g. https://org.crm.dynamics.com */
  environmentUrl: string;
  /** @default '/api/data/v9.2/' */
  apiPath?: string;
  credentials: DataverseCredentials;
  /** Requests in flight at once from this worker; Dataverse allows 52 per user. @default 8 */
  maxConcurrency?: number;
  /** Records per page (Prefer: odata.maxpagesize), at most 5,000. @default 5000 */
  pageSize?: number;
  /** Operations per $batch request, at most 1,000. @default 1000 */
  batchSize?: number;
  /** Tables by logical name. */
  tables: Record<string, DataverseTableOptions>;
  /** Longest URL sent; longer value lists are split over several requests. @default 16000 */
  maxUrlLength?: number;
  /** Per request. @default 120000 */
  timeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
}

/** Dataverse's own limits, which the options may not exceed. */
export const DATAVERSE_LIMITS = { maxPageSize: 5000, maxBatchSize: 1000, maxConcurrency: 52, maxUrlLength: 32_768 } as const;

export const DATAVERSE_DEFAULTS = {
  apiPath: '/api/data/v9.2/',
  maxConcurrency: 8,
  pageSize: 5000,
  batchSize: 1000,
  maxUrlLength: 16_000,
  timeoutMs: 120_000,
} as const;

export class DataverseConfigurationError extends ConnectorError {
  override readonly name = 'DataverseConfigurationError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

export interface ResolvedDataverseOptions {
  name: string;
  environmentUrl: string;
  apiPath: string;
  /** environmentUrl + apiPath, ending in "/". */
  serviceRoot: string;
  scope: string;
  maxConcurrency: number;
  pageSize: number;
  batchSize: number;
  maxUrlLength: number;
  timeoutMs: number;
  tables: Record<string, DataverseTableOptions>;
}

function intWithin(label: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DataverseConfigurationError(`${label} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Merges the defaults and checks every option; messages name the option, never a secret. */
export function resolveDataverseOptions(options: DataverseConnectorOptions): ResolvedDataverseOptions {
  const label = `Dataverse connector "${options.name}"`;
  let url: URL;
  try {
    url = new URL(options.environmentUrl);
  } catch {
    throw new DataverseConfigurationError(`${label}: environmentUrl ${JSON.stringify(options.environmentUrl)} is not a URL`);
  }
  // Plain HTTP would send the bearer token in clear; only a local emulator may use it.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new DataverseConfigurationError(
      `${label}: environmentUrl ${url.protocol}//${url.host} must use https (plain http only to a loopback address, such as an emulator)`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new DataverseConfigurationError(`${label}: environmentUrl must be just the environment's origin, e.g. https://org.crm.dynamics.com`);
  }
  const environmentUrl = url.origin;
  const merged = { ...DATAVERSE_DEFAULTS, ...definedOnly(options) };
  const apiPath = `/${merged.apiPath.replace(/^\/+|\/+$/g, '')}/`;
  const tables = options.tables ?? {};
  if (Object.keys(tables).length === 0) throw new DataverseConfigurationError(`${label}: tables must name at least one table`);
  for (const [table, config] of Object.entries(tables)) {
    const where = `${label}: tables.${table}`;
    if (!isIdentifier(table)) throw new DataverseConfigurationError(`${where}: the key must be the table's logical name`);
    if (!isIdentifier(config.entitySet ?? '')) throw new DataverseConfigurationError(`${where}.entitySet must be an entity set name such as "accounts"`);
    if (!isIdentifier(config.idAttribute ?? '')) throw new DataverseConfigurationError(`${where}.idAttribute must be an attribute name such as "accountid"`);
    for (const column of config.columns ?? []) {
      if (!isIdentifier(column)) throw new DataverseConfigurationError(`${where}.columns: ${JSON.stringify(column)} is not an attribute name`);
    }
    for (const [column, lookup] of Object.entries(config.lookups ?? {})) {
      if (!isIdentifier(column) || !isIdentifier(lookup.navigationProperty ?? '') || !isIdentifier(lookup.entitySet ?? ''))
        throw new DataverseConfigurationError(`${where}.lookups.${column}: needs a lookup attribute name, a navigationProperty and an entitySet`);
    }
  }
  const { credentials } = options;
  if (!credentials || !credentials.tokenUrl || !credentials.clientId || !credentials.clientSecret) {
    throw new DataverseConfigurationError(`${label}: credentials need tokenUrl, clientId and clientSecret`);
  }
  return {
    name: options.name,
    environmentUrl,
    apiPath,
    serviceRoot: `${environmentUrl}${apiPath}`,
    scope: credentials.scope ?? `${environmentUrl}/.default`,
    maxConcurrency: intWithin(`${label}: maxConcurrency`, merged.maxConcurrency, 1, DATAVERSE_LIMITS.maxConcurrency),
    pageSize: intWithin(`${label}: pageSize`, merged.pageSize, 1, DATAVERSE_LIMITS.maxPageSize),
    batchSize: intWithin(`${label}: batchSize`, merged.batchSize, 1, DATAVERSE_LIMITS.maxBatchSize),
    maxUrlLength: intWithin(`${label}: maxUrlLength`, merged.maxUrlLength, 1000, DATAVERSE_LIMITS.maxUrlLength),
    timeoutMs: intWithin(`${label}: timeoutMs`, merged.timeoutMs, 1, 3_600_000),
    tables,
  };
}
