/**
 * The systems a standalone worker serves, from a JSON file (SYSTEMS_CONFIG) or
 * the demo's two SQLite databases. An entry is a Knex table connector, a
 * Dataverse environment or a Business Central company. Client secrets come
 * from the environment variable the entry names (`clientSecretEnv`), so the
 * file can be committed; they stay in the worker process and never reach a
 * workflow's input or history.
 */
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { z } from 'zod';
import type { Systems } from '../activities';
import type { Connector, KeyColumns } from '../connectors/connector';
import { KNEX_TABLE_DEFAULTS, KnexTableConnector } from '../connectors/knex-table-connector';
import { DataverseConnector } from '../connectors/dataverse';
import { MODIFIED_ON as DATAVERSE_MODIFIED_ON } from '../connectors/dataverse/dataverse-connector';
import { DATAVERSE_LIMITS, dataverseTableSchema } from '../connectors/dataverse/options';
import { BusinessCentralConnector } from '../connectors/business-central';
import { businessCentralTableSchema } from '../connectors/business-central/options';
import { ID_FIELD as BC_ID, MODIFIED_FIELD as BC_MODIFIED } from '../connectors/business-central/odata-query';
import { checkKeyColumnWrites } from '../domain/field-plan';
import type { IntegrationTableMapping } from '../domain/mapping';
import { entraTokenUrl } from '../connectors/http/token-client';
import { knexConfigFromUrl } from '../store/database-url';
import { ConfigError } from './config';
import { readJsonFile } from './json-file';

const knexTables = z.record(z.string(), z.strictObject({ idColumn: z.string().optional(), modifiedOnColumn: z.string().optional() }));

/** Where the client secret comes from: the name of an environment variable (preferred) or the value itself. */
const credentials = {
  tenantId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecretEnv: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  /** Overrides the Entra ID token endpoint (sovereign clouds, emulators). */
  tokenUrl: z.url().optional(),
  /** Requests in flight, for either service at most Dataverse's per-user limit. */
  maxConcurrency: z.number().int().min(1).max(DATAVERSE_LIMITS.maxConcurrency).optional(),
};

const knexEntry = z.strictObject({ type: z.literal('knex'), databaseUrl: z.string().min(1), tables: knexTables.optional() });

const dataverseEntry = z.strictObject({
  type: z.literal('dataverse'),
  environmentUrl: z.url(),
  ...credentials,
  tables: z.record(z.string(), dataverseTableSchema),
});

const businessCentralEntry = z.strictObject({
  type: z.literal('businessCentral'),
  environment: z.string().min(1),
  companyId: z.uuid(),
  apiUrl: z.url().optional(),
  ...credentials,
  numberPrefix: z.string().optional(),
  tables: z.record(z.string(), businessCentralTableSchema).optional(),
});

const systemsFileSchema = z.record(z.string().min(1), z.discriminatedUnion('type', [knexEntry, dataverseEntry, businessCentralEntry]));
export type SystemsFile = z.infer<typeof systemsFileSchema>;
type KnexEntry = Omit<z.infer<typeof knexEntry>, 'type'>;

export interface OpenedSystems {
  systems: Systems;
  knexes: Record<string, Knex>;
  close(): Promise<void>;
}

export function openKnexSystems(entries: Record<string, KnexEntry>): OpenedSystems {
  return openSystems(Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, { type: 'knex' as const, ...entry }])), {});
}

function secretOf(name: string, entry: { clientSecretEnv?: string; clientSecret?: string }, env: NodeJS.ProcessEnv): string {
  if (entry.clientSecretEnv) {
    const value = env[entry.clientSecretEnv];
    if (!value) throw new ConfigError(`System "${name}": environment variable ${entry.clientSecretEnv} (its clientSecretEnv) is not set.`);
    return value;
  }
  if (entry.clientSecret) return entry.clientSecret;
  throw new ConfigError(`System "${name}": set clientSecretEnv to the name of the environment variable holding the client secret.`);
}

export function openSystems(entries: SystemsFile, env: NodeJS.ProcessEnv = process.env): OpenedSystems {
  const systems: Systems = {};
  const knexes: Record<string, Knex> = {};
  const opened: Connector[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    let connector: Connector;
    if (entry.type === 'knex') {
      const knex = knexFactory(knexConfigFromUrl({ databaseUrl: entry.databaseUrl }));
      knexes[name] = knex;
      connector = new KnexTableConnector({ name, knex, tables: entry.tables });
    } else if (entry.type === 'dataverse') {
      connector = new DataverseConnector({
        name,
        environmentUrl: entry.environmentUrl,
        credentials: { tokenUrl: entry.tokenUrl ?? entraTokenUrl(entry.tenantId), clientId: entry.clientId, clientSecret: secretOf(name, entry, env) },
        maxConcurrency: entry.maxConcurrency,
        tables: entry.tables,
      });
    } else {
      connector = new BusinessCentralConnector({
        name,
        tenantId: entry.tenantId,
        environment: entry.environment,
        companyId: entry.companyId,
        apiUrl: entry.apiUrl,
        credentials: { tokenUrl: entry.tokenUrl ?? entraTokenUrl(entry.tenantId), clientId: entry.clientId, clientSecret: secretOf(name, entry, env) },
        maxConcurrency: entry.maxConcurrency,
        numberPrefix: entry.numberPrefix,
        tables: entry.tables,
      });
    }
    systems[name] = connector;
    opened.push(connector);
  }
  return {
    systems,
    knexes,
    close: async () => {
      await Promise.all(opened.map((c) => c.close?.()));
      await Promise.all(Object.values(knexes).map((k) => k.destroy()));
    },
  };
}

export function demoSystems(dataDir: string): OpenedSystems {
  return openKnexSystems({
    local: { databaseUrl: `sqlite:${path.join(dataDir, 'demo-local.sqlite')}` },
    integration: { databaseUrl: `sqlite:${path.join(dataDir, 'demo-integration.sqlite')}` },
  });
}

export function parseSystemsFile(file: string, raw: unknown): SystemsFile {
  const parsed = systemsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`SYSTEMS_CONFIG "${file}": ${issue.path.join('.') || '(file)'} ${issue.message}.`);
  }
  return parsed.data;
}

export function readSystemsFile(file: string): SystemsFile {
  return parseSystemsFile(file, readJsonFile(file, `SYSTEMS_CONFIG "${file}"`));
}

export function systemsFromFile(file: string, env: NodeJS.ProcessEnv = process.env): OpenedSystems {
  return openSystems(readSystemsFile(file), env);
}

/**
 * A table's id and modified-on columns as the connector of this entry will
 * have them, read from the file alone: no connection and no secret, so a
 * mapping can be checked where it is saved.
 */
function keyColumnsOf(entry: SystemsFile[string], table: string): KeyColumns | string {
  const own = <T>(record: Record<string, T> | undefined): T | undefined => (record && Object.hasOwn(record, table) ? record[table] : undefined);
  switch (entry.type) {
    case 'knex': {
      const t = own(entry.tables);
      return { id: t?.idColumn ?? KNEX_TABLE_DEFAULTS.idColumn, modifiedOn: t?.modifiedOnColumn ?? KNEX_TABLE_DEFAULTS.modifiedOnColumn };
    }
    case 'dataverse': {
      const t = own(entry.tables);
      return t
        ? { id: t.idAttribute, modifiedOn: DATAVERSE_MODIFIED_ON }
        : `is not a table of this Dataverse system; its tables are: ${Object.keys(entry.tables).join(', ')}`;
    }
    case 'businessCentral':
      return { id: BC_ID, modifiedOn: BC_MODIFIED };
  }
}

/** What a mapping cannot do with these systems, as sentences naming the field: unknown systems or tables, fields onto id or modified-on columns. */
export function checkMappingAgainstSystems(mapping: IntegrationTableMapping, entries: SystemsFile, file: string): string[] {
  const problems: string[] = [];
  const keys: { local: KeyColumns | null; integration: KeyColumns | null } = { local: null, integration: null };
  for (const side of ['local', 'integration'] as const) {
    const { system, table } = mapping[side];
    if (!Object.hasOwn(entries, system)) {
      problems.push(
        `Mapping ${mapping.name}: ${side}.system "${system}" is not a system of ${file}; its systems are: ${Object.keys(entries).join(', ') || '(none)'}`,
      );
      continue;
    }
    const columns = keyColumnsOf(entries[system], table);
    if (typeof columns === 'string') problems.push(`Mapping ${mapping.name}: ${side}.table "${table}" ${columns}`);
    else keys[side] = columns;
  }
  return [...problems, ...checkKeyColumnWrites(mapping, keys)];
}
