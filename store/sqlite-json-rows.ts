/**
 * A batch of rows as one JSON parameter for SQLite (`json_each`), in place of
 * a VALUES list of bound parameters. node-sqlite3 binds every parameter on the
 * JavaScript thread, which is what a worker runs out of first: a 1,000-row,
 * 28-column insert held it 48 ms bound against 18 ms as JSON, for the same
 * time in SQLite. Only for values JSON carries exactly as a binding would
 * (strings without NUL or lone surrogates, finite numbers but integers beyond
 * 32 bits, booleans, null);
 * any other value and the caller binds as before.
 */
type Row = Record<string, unknown>;

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

/** `[[v, ...], ...]` of `columns` per row (a missing value is null), or null when a value would not survive JSON unchanged. */
export function jsonRows(rows: readonly Row[], columns: readonly string[]): string | null {
  const out: unknown[][] = [];
  for (const row of rows) {
    const values: unknown[] = [];
    for (const c of columns) {
      const v = row[c];
      if (!carried(v)) return null;
      values.push(v ?? null);
    }
    out.push(values);
  }
  return JSON.stringify(out);
}

/** The same of rows already laid out as value arrays. */
export function jsonTuples(tuples: readonly (readonly unknown[])[]): string | null {
  for (const tuple of tuples) for (const v of tuple) if (!carried(v)) return null;
  return JSON.stringify(tuples.map((t) => t.map((v) => v ?? null)));
}

/** The select list reading the array `json_each(?)` yields per row: `value ->> 0 as a, value ->> 1 as b, ...`. */
export function jsonSelectList(columns: readonly string[]): string {
  return columns.map((c, i) => `value ->> ${i} as "${c.replace(/"/g, '""')}"`).join(', ');
}
