/**
 * Turns DATABASE_URL (or a default) into a Knex config. SQLite is the embedded
 * default; postgres:// selects PostgreSQL. Anything else is refused with a
 * sentence that says what is accepted.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { UserFacingError } from '../support/user-facing-error';

/** Where the embedded SQLite store lives unless DATABASE_URL says otherwise. @default './data/coupling-sync.sqlite' */
export const DEFAULT_SQLITE_PATH = path.join('data', 'coupling-sync.sqlite');

export class DatabaseUrlError extends UserFacingError {
  override readonly name: string = 'DatabaseUrlError';
}

export interface StoreConnectionOptions {
  /** sqlite:<path>, sqlite::memory:, postgres://... or postgresql://... */
  databaseUrl?: string;
  /** PostgreSQL schema to use (created if missing); tests give each run its own. */
  schema?: string;
  /** Pool size for PostgreSQL. @default 10 */
  poolMax?: number;
}

export function knexConfigFromUrl(options: StoreConnectionOptions = {}): Knex.Config {
  const url = options.databaseUrl?.trim() || `sqlite:${DEFAULT_SQLITE_PATH}`;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite' || scheme === 'file') {
    const filename = url.slice(scheme.length + 1).replace(/^\/\//, '') || DEFAULT_SQLITE_PATH;
    return sqliteConfig(filename);
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return {
      client: 'pg',
      connection: url,
      searchPath: options.schema ? [options.schema] : undefined,
      pool: { min: 0, max: options.poolMax ?? 10 },
    };
  }
  throw new DatabaseUrlError(
    `DATABASE_URL scheme "${scheme ?? url}" is not supported: use sqlite:<file path> (the default, ${DEFAULT_SQLITE_PATH}) or postgres://user@host:5432/database.`,
  );
}

export function sqliteConfig(filename: string): Knex.Config {
  return {
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    // One connection: SQLite has one writer, and a pool would only add SQLITE_BUSY.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        const pragmas =
          filename === ':memory:'
            ? 'PRAGMA foreign_keys = ON;'
            : 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;';
        conn.exec(pragmas, (err) => done(err, conn));
      },
    },
  };
}

export function isPostgres(knex: Knex): boolean {
  const client = knex.client.config.client;
  return client === 'pg' || client === 'postgres' || client === 'postgresql';
}

/**
 * Rows per multi-row INSERT: under the bound-parameter limit, and for SQLite
 * under its 500-term compound SELECT limit (Knex writes multi-row inserts to
 * SQLite as INSERT ... SELECT ... UNION ALL).
 */
export function rowsPerInsert(knex: Knex, columnsPerRow: number): number {
  const byParams = Math.floor((isPostgres(knex) ? 60_000 : 30_000) / Math.max(1, columnsPerRow));
  return Math.max(1, isPostgres(knex) ? byParams : Math.min(500, byParams));
}
