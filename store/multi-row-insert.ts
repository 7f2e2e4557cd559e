/**
 * Multi-row inserts in as few statements as the dialect allows, optionally
 * ignoring or merging rows that conflict, and returning columns of the rows
 * written. Knex writes a multi-row SQLite insert as a compound
 * `SELECT ... UNION ALL SELECT ...`, which SQLite caps at 500 terms and plans
 * term by term; a `VALUES` list (SQLite 3.8.8 and later) has no such cap, so a
 * batch of 1000 rows is one statement under the parameter limit, and its
 * rows go as one JSON parameter where JSON carries them (sqlite-json-rows.ts). PostgreSQL
 * takes a chunk as one JSON parameter (below); other dialects' Knex inserts
 * are already `VALUES` lists.
 */
import type { Knex } from 'knex';
import { chunk } from '../common/collections';
import { isPostgres, rowsPerInsert } from './database-url';
import { sqliteInsertRows } from './sqlite-json-rows';

type Row = Record<string, unknown>;

/** A column a conflict sets to an SQL expression (which may name `excluded.<column>` and the table's own). */
export interface MergeExpression {
  column: string;
  sql: string;
}

export interface InsertOptions {
  /** The unique columns a conflict is on (empty: any constraint); absent: a conflict fails the statement. */
  onConflict?: readonly string[];
  /** On a conflict, the columns written over from the new row (or set to an expression); absent: the row is left as it is. */
  merge?: readonly (string | MergeExpression)[];
  /** Columns of the rows inserted (or merged) to return. */
  returning?: readonly string[];
}

/** SQLite's bound-parameter limit (SQLITE_MAX_VARIABLE_NUMBER since 3.32), less room for a statement's own. */
const SQLITE_PARAMS = 32_000;
/** Rows per PostgreSQL statement: one JSON parameter, kept to a few megabytes. */
const POSTGRES_ROWS = 2_000;

function returned(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  return ((result as { rows?: Row[] } | null)?.rows ?? []) as Row[];
}

/** The `ON CONFLICT ...` and `RETURNING ...` of an insert (both dialects write them alike); pushes their bindings. */
function conflictAndReturning(options: InsertOptions, bindings: unknown[]): string {
  let sql = '';
  if (options.onConflict) {
    const target = options.onConflict.length ? ` (${options.onConflict.map(() => '??').join(', ')})` : '';
    bindings.push(...options.onConflict);
    if (options.merge?.length) {
      sql += ` on conflict${target} do update set ${options.merge.map((m) => (typeof m === 'string' ? '?? = excluded.??' : `?? = ${m.sql}`)).join(', ')}`;
      for (const m of options.merge) bindings.push(...(typeof m === 'string' ? [m, m] : [m.column]));
    } else sql += ` on conflict${target} do nothing`;
  }
  if (options.returning?.length) {
    sql += ` returning ${options.returning.map(() => '??').join(', ')}`;
    bindings.push(...options.returning);
  }
  return sql;
}

async function insertSqlite(
  db: Knex | Knex.Transaction,
  table: string,
  columns: readonly string[],
  part: readonly Row[],
  options: InsertOptions,
): Promise<Row[]> {
  const rows = sqliteInsertRows(
    columns,
    part.map((row) => columns.map((c) => row[c])),
  );
  const bindings: unknown[] = [table, ...columns, ...rows.bindings];
  let sql = `insert into ?? (${columns.map(() => '??').join(', ')}) ${rows.sql}`;
  sql += conflictAndReturning(options, bindings);
  return returned(await db.raw(sql, bindings as Knex.RawBinding[]));
}

/**
 * PostgreSQL: `INSERT ... SELECT ... FROM jsonb_populate_recordset(null::t, $1)`, one
 * JSON parameter per chunk whose cells take the columns' own types. Thousands of
 * bound parameters cost PostgreSQL more to parse and plan than the rows cost to write.
 */
async function insertPostgres(
  db: Knex | Knex.Transaction,
  table: string,
  columns: readonly string[],
  part: readonly Row[],
  options: InsertOptions,
): Promise<Row[]> {
  const list = columns.map(() => '??').join(', ');
  const bindings: unknown[] = [table, ...columns, ...columns, table, JSON.stringify(part)];
  let sql = `insert into ?? (${list}) select ${list} from jsonb_populate_recordset(null::??, ?::jsonb)`;
  sql += conflictAndReturning(options, bindings);
  return returned(await db.raw(sql, bindings as Knex.RawBinding[]));
}

async function insertWithKnex(db: Knex | Knex.Transaction, table: string, part: readonly Row[], options: InsertOptions): Promise<Row[]> {
  const query = db(table).insert(part as Row[]);
  let built: Knex.QueryBuilder = query;
  if (options.onConflict) {
    const conflict = options.onConflict.length ? query.onConflict(options.onConflict as string[]) : query.onConflict();
    const merge = options.merge ?? [];
    built = merge.length
      ? conflict.merge(Object.fromEntries(merge.map((m) => (typeof m === 'string' ? [m, db.raw('excluded.??', [m])] : [m.column, db.raw(m.sql)]))))
      : conflict.ignore();
  }
  if (options.returning?.length) return returned(await built.returning(options.returning as string[]));
  await built;
  return [];
}

/**
 * Inserts the rows, one statement per chunk under the dialect's parameter
 * limit; returns the `returning` columns of the rows written. A column a row
 * lacks is written NULL on SQLite and DEFAULT on PostgreSQL, as Knex does.
 */
export async function insertRows(db: Knex | Knex.Transaction, table: string, rows: readonly Row[], options: InsertOptions = {}): Promise<Row[]> {
  if (rows.length === 0) return [];
  const out: Row[] = [];
  if (isPostgres(db)) {
    // A column is listed only for rows that have it, so a row lacking one gets its default, as with Knex.
    const byColumns = new Map<string, { columns: string[]; rows: Row[] }>();
    for (const row of rows) {
      const columns = Object.keys(row)
        .filter((c) => row[c] !== undefined)
        .sort();
      const key = columns.join('\u0000');
      const group = byColumns.get(key) ?? { columns, rows: [] };
      group.rows.push(row);
      byColumns.set(key, group);
    }
    for (const group of byColumns.values()) {
      for (const part of chunk(group.rows, POSTGRES_ROWS)) out.push(...(await insertPostgres(db, table, group.columns, part, options)));
    }
    return out;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const sqlite = /sqlite/i.test(String(db.client.config.client));
  const perStatement = sqlite ? Math.max(1, Math.floor(SQLITE_PARAMS / columns.length)) : rowsPerInsert(db, columns.length);
  for (const part of chunk(rows, perStatement)) {
    out.push(...(sqlite ? await insertSqlite(db, table, columns, part, options) : await insertWithKnex(db, table, part, options)));
  }
  return out;
}
