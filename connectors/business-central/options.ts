/**
 * Configuration of a BusinessCentralConnector: its defaults, Business
 * Central's limits and the one place they are merged. It lives in the worker
 * process only: mappings and workflow inputs name a system and a table, never
 * a URL or a secret, so credentials never reach Temporal's history.
 */
import { z } from 'zod';
import { definedOnly } from '../../common/collections';
import type { ConnectorCredentials, TokenProvider } from '../http/token-client';
import { requireCredentialSafeUrl } from '../http/url-policy';
import { isGuid } from '../odata/literals';
import { MAX_BATCH_OPERATIONS } from './batch';
import { fieldName, ODataQueryError } from './odata-query';
import { checkNumberPrefix, DEFAULT_NUMBER_PREFIX } from './record-number';

export interface BusinessCentralTableOptions {
  /** Entity set of the API when the mapping's table name differs. @default the table name */
  entitySet?: string;
  /** The unique number field creates are keyed on (see record-number.ts). @default 'number' */
  numberField?: string;
  /** Fields describeTable reports, instead of reading them from $metadata. */
  fields?: string[];
}

/** A table's options as a systems file gives them; the connector checks the names when it uses them. */
export const businessCentralTableSchema = z.strictObject({
  entitySet: z.string().optional(),
  numberField: z.string().optional(),
  fields: z.array(z.string()).optional(),
}) satisfies z.ZodType<BusinessCentralTableOptions>;

/** OAuth 2.0 client credentials of an application (Microsoft Entra ID v2 endpoint). */
export interface BusinessCentralCredentials extends ConnectorCredentials {
  /** @default 'https://api.businesscentral.dynamics.com/.default' */
  scope?: string;
}

export interface BusinessCentralConnectorOptions {
  /** Name used in messages, e.g. "business-central". */
  name: string;
  /** Entra ID tenant (GUID or domain). */
  tenantId: string;
  /** e.g. "production" or "sandbox". */
  environment: string;
  /** The company's id (GUID), as `GET companies` lists it. */
  companyId: string;
  /** @default `https://api.businesscentral.dynamics.com/v2.0/{tenantId}/{environment}/api/v2.0` */
  apiUrl?: string;
  credentials: BusinessCentralCredentials;
  /** Requests in flight at once from this worker process. @default 5 */
  maxConcurrency?: number;
  /** Records per page asked for (`Prefer: odata.maxpagesize`); the server may send fewer. @default 1000 */
  pageSize?: number;
  /** Operations per $batch request, at most 100. @default 100 (BC's maximum) */
  batchSize?: number;
  /** Prefix of the numbers given to records this connector creates. @default 'CS' */
  numberPrefix?: string;
  /**
   * Set when the environment's text filters are case-insensitive, so match-based
   * coupling can narrow case-insensitive criteria on the server. Off, such a
   * criterion is checked in the connector over the whole (filtered) entity set.
   * @default false
   */
  caseInsensitiveTextFilters?: boolean;
  /** Per-table settings, by the mapping's table name. */
  tables?: Record<string, BusinessCentralTableOptions>;
  /** Per request. @default 120000 */
  timeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
  /** For tests: a token source instead of client credentials. */
  tokens?: TokenProvider;
}

export const BUSINESS_CENTRAL_SCOPE = 'https://api.businesscentral.dynamics.com/.default';

/** Business Central's own limits, which the options are held within. */
export const BUSINESS_CENTRAL_LIMITS = { maxBatchSize: MAX_BATCH_OPERATIONS } as const;

export const BUSINESS_CENTRAL_DEFAULTS = {
  maxConcurrency: 5,
  pageSize: 1000,
  batchSize: MAX_BATCH_OPERATIONS,
  numberPrefix: DEFAULT_NUMBER_PREFIX,
  caseInsensitiveTextFilters: false,
  timeoutMs: 120_000,
} as const;

/** Per table. */
export const BUSINESS_CENTRAL_TABLE_DEFAULTS = { numberField: 'number' } as const;

export function defaultApiUrl(tenantId: string, environment: string): string {
  return `https://api.businesscentral.dynamics.com/v2.0/${encodeURIComponent(tenantId)}/${encodeURIComponent(environment)}/api/v2.0`;
}

export interface ResolvedBusinessCentralOptions {
  name: string;
  companyId: string;
  apiUrl: string;
  maxConcurrency: number;
  pageSize: number;
  batchSize: number;
  numberPrefix: string;
  caseInsensitiveTextFilters: boolean;
  tables: Record<string, BusinessCentralTableOptions>;
  timeoutMs: number;
}

/**
 * Merges the defaults and checks the options: the company id must be a GUID,
 * the number prefix fit a BC number and the API URL be safe for the token;
 * page and batch sizes are held within bounds.
 */
export function resolveBusinessCentralOptions(options: BusinessCentralConnectorOptions): ResolvedBusinessCentralOptions {
  if (!isGuid(options.companyId)) throw new ODataQueryError(`Business Central companyId "${options.companyId}" is not a GUID.`);
  const merged = { ...BUSINESS_CENTRAL_DEFAULTS, ...definedOnly(options) };
  const resolved = {
    name: options.name,
    companyId: options.companyId,
    apiUrl: options.apiUrl ?? defaultApiUrl(options.tenantId, options.environment),
    maxConcurrency: merged.maxConcurrency,
    pageSize: Math.max(1, merged.pageSize),
    batchSize: Math.min(BUSINESS_CENTRAL_LIMITS.maxBatchSize, Math.max(1, merged.batchSize)),
    numberPrefix: checkNumberPrefix(merged.numberPrefix),
    caseInsensitiveTextFilters: merged.caseInsensitiveTextFilters,
    tables: options.tables ?? {},
    timeoutMs: merged.timeoutMs,
  };
  requireCredentialSafeUrl(resolved.apiUrl, `${options.name}: apiUrl`);
  return resolved;
}

export interface ResolvedBusinessCentralTable {
  entitySet: string;
  numberField: string;
  fields?: string[];
}

/** A table's settings with their defaults, names checked (an ODataQueryError otherwise). */
export function resolveBusinessCentralTable(tables: Record<string, BusinessCentralTableOptions>, table: string): ResolvedBusinessCentralTable {
  const t = (Object.hasOwn(tables, table) ? tables[table] : undefined) ?? {};
  return {
    entitySet: fieldName(t.entitySet ?? table),
    numberField: fieldName(t.numberField ?? BUSINESS_CENTRAL_TABLE_DEFAULTS.numberField),
    fields: t.fields,
  };
}
