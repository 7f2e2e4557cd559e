/** The statements a piece of code runs, and SQLite's plan for each: for tests that a query searches an index. */
import type { Knex } from 'knex';

export interface Statement {
  sql: string;
  bindings: readonly unknown[];
}

/** Records every statement `knex` runs until `stop()`, which returns them. */
export function recordStatements(knex: Knex): { stop(): Statement[] } {
  const seen: Statement[] = [];
  const onQuery = (q: { sql: string; bindings?: readonly unknown[] }): void => {
    seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  knex.on('query', onQuery);
  return {
    stop() {
      knex.removeListener('query', onQuery);
      return seen;
    },
  };
}

/** SQLite's `explain query plan` of a statement, one detail line per step. */
export async function sqlitePlan(knex: Knex, statement: Statement): Promise<string[]> {
  const rows = (await knex.raw(`explain query plan ${statement.sql}`, statement.bindings as Knex.RawBinding[])) as { detail: string }[];
  return rows.map((r) => r.detail);
}
