/**
 * A batch of rows as one JSON parameter for SQLite (`json_each`), in place of
 * a VALUES list of bound parameters. node-sqlite3 binds every parameter on the
 * JavaScript thread, which is what a worker runs out of first: a 1,000-row,
 * 28-column insert held it 48 ms bound against 18 ms as JSON, for the same
 * time in SQLite. Only for values JSON carries exactly as a binding would:
 * strings without NUL or lone surrogates, finite numbers (integers within 32
 * bits), booleans and null; with any other value the batch is bound as before.
 */

/** A surrogate half without its other half: JSON escapes it, and SQLite would not read it back as a binding writes it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function carried(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
    case 'number':
      // node-sqlite3 binds an integer beyond 32 bits as a REAL (a text column then holds "…0.0"); JSON keeps it an integer.
      return Number.isFinite(value) && (!Number.isInteger(value) || (value >= -(2 ** 31) && value < 2 ** 31));
    case 'boolean':
    case 'undefined':
      return true;
    default:
      return value === null;
  }
}

/** `[[v, ...], ...]`, or null when a value would not survive JSON unchanged. */
export function jsonTuples(tuples: readonly (readonly unknown[])[]): string | null {
  for (const tuple of tuples) for (const v of tuple) if (!carried(v)) return null;
  return JSON.stringify(tuples.map((t) => t.map((v) => v ?? null)));
}

/** The select list reading the array `json_each(?)` yields per row: `value ->> 0 as a, value ->> 1 as b, ...`. */
function jsonSelectList(columns: readonly string[]): string {
  return columns.map((c, i) => `value ->> ${i} as "${c.replace(/"/g, '""')}"`).join(', ');
}

export interface SqliteRows {
  sql: string;
  bindings: unknown[];
}

/**
 * The rows of an `insert into t (columns) <sql>`: `select ... from json_each(?)`
 * (with `where true`, so an upsert after it does not parse as a join's ON), or
 * `values (?, ...), ...` of bound parameters where JSON would not carry a value.
 */
export function sqliteInsertRows(columns: readonly string[], tuples: readonly (readonly unknown[])[]): SqliteRows {
  const json = jsonTuples(tuples);
  if (json !== null) return { sql: `select ${jsonSelectList(columns)} from json_each(?) where true`, bindings: [json] };
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return { sql: `values ${tuples.map(() => tuple).join(', ')}`, bindings: tuples.flatMap((t) => t.map((v) => v ?? null)) };
}

/**
 * The `v (names)` of a `with v ... update t ... from v`: the rows as one JSON
 * parameter, materialized so the planner reads them first and finds each row
 * of `t` by its key, or a VALUES list of bound parameters where JSON would not
 * carry a value.
 */
export function sqliteValuesCte(names: readonly string[], tuples: readonly (readonly unknown[])[]): SqliteRows {
  const json = jsonTuples(tuples);
  if (json !== null) return { sql: `v as materialized (select ${jsonSelectList(names)} from json_each(?))`, bindings: [json] };
  const tuple = `(${names.map(() => '?').join(', ')})`;
  return { sql: `v (${names.join(', ')}) as (values ${tuples.map(() => tuple).join(', ')})`, bindings: tuples.flatMap((t) => t.map((v) => v ?? null)) };
}
