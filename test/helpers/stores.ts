/**
 * The store dialects the suites run on: SQLite (in memory) always, PostgreSQL
 * at 127.0.0.1:5432 when it answers, each run in a schema of its own. CI sets
 * REQUIRE_POSTGRES=1 so a missing PostgreSQL fails instead of being skipped.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { Store } from '../../store/store';
import { sqliteConfig } from '../../store/database-url';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Dialect {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

export async function postgresAvailable(): Promise<boolean> {
  const knex = knexFactory({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 3000 });
  try {
    await knex.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await knex.destroy();
  }
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  async open() {
    const store = new Store(knexFactory(sqliteConfig(':memory:')));
    await store.migrate();
    return { store, cleanup: () => store.close() };
  },
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  async open() {
    const schema = `cs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const store = Store.open({ databaseUrl: POSTGRES_URL, schema, poolMax: 5 });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.knex.raw('drop schema if exists ?? cascade', [schema]);
        await store.close();
      },
    };
  },
};

/** Dialects to run on; says plainly when PostgreSQL did not run, and fails when CI requires it. */
export async function availableDialects(): Promise<Dialect[]> {
  if (await postgresAvailable()) return [sqliteDialect, postgresDialect];
  if (process.env.REQUIRE_POSTGRES === '1') {
    throw new Error(`PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at ${POSTGRES_URL}.`);
  }
  console.warn(`PostgreSQL suite did NOT run: no PostgreSQL at ${POSTGRES_URL} (set TEST_POSTGRES_URL). Only SQLite was tested.`);
  return [sqliteDialect];
}

/** Runs `fn` on a fresh store of each dialect in turn; a failure names its dialect. */
export async function onEachDialect(dialects: readonly Dialect[], fn: (store: Store, dialect: Dialect['name']) => Promise<void>): Promise<void> {
  if (dialects.length === 0) throw new Error('No dialect to run on: call availableDialects() in beforeAll.');
  for (const dialect of dialects) {
    const { store, cleanup } = await dialect.open();
    try {
      await fn(store, dialect.name);
    } catch (error) {
      throw new Error(`[${dialect.name}] ${(error as Error).message}`, { cause: error });
    } finally {
      await cleanup();
    }
  }
}

/**
 * A Knex on a fresh PostgreSQL schema of its own (for systems' tables), or null
 * when PostgreSQL does not answer and CI does not require it (said plainly).
 */
export async function openPostgresSchema(prefix: string): Promise<{ knex: Knex; schema: string; drop(): Promise<void> } | null> {
  if (!(await postgresAvailable())) {
    if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at ${POSTGRES_URL}.`);
    console.warn(`PostgreSQL test did NOT run: no PostgreSQL at ${POSTGRES_URL} (set TEST_POSTGRES_URL).`);
    return null;
  }
  const schema = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const knex = knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema], pool: { min: 0, max: 4 } });
  await knex.raw('create schema ??', [schema]);
  return {
    knex,
    schema,
    drop: async () => {
      await knex.raw('drop schema if exists ?? cascade', [schema]);
      await knex.destroy();
    },
  };
}
