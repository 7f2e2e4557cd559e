/**
 * PostgreSQL for the fault suite: a schema per test file (as the store suite
 * does), URLs that select it (so a worker process needs no extra setting), and a
 * plain failure when there is no PostgreSQL: these faults are about it.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { POSTGRES_URL, postgresAvailable } from '../helpers/stores';

export { POSTGRES_URL };

export async function requirePostgres(what: string): Promise<void> {
  if (!(await postgresAvailable())) {
    throw new Error(`${what} needs PostgreSQL at ${POSTGRES_URL} (set TEST_POSTGRES_URL to point elsewhere).`);
  }
}

export function schemaName(label: string): string {
  return `fault_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** The PostgreSQL URL with its search_path set to `schema`, optionally through another host:port (a proxy). */
export function urlFor(schema: string, via?: { host: string; port: number }): string {
  const url = new URL(POSTGRES_URL);
  if (via) {
    url.hostname = via.host;
    url.port = String(via.port);
  }
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export function postgresTarget(): { host: string; port: number } {
  const url = new URL(POSTGRES_URL);
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}

/** A Knex on `schema`, created if missing. */
export async function openSchema(schema: string, poolMax = 4): Promise<Knex> {
  const knex = knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: poolMax } });
  await knex.raw('create schema if not exists ??', [schema]);
  return knex;
}

export async function dropSchemas(schemas: string[]): Promise<void> {
  const admin = knexFactory({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 } });
  try {
    for (const schema of schemas) await admin.raw('drop schema if exists ?? cascade', [schema]);
  } finally {
    await admin.destroy();
  }
}
