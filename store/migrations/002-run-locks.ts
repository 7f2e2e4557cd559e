import type { Knex } from 'knex';
import { TABLES } from '../tables';

/** One bulk run per mapping, whatever started it (client, Web UI, schedule): a lease the run holds. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.runLocks, (t) => {
    t.string('mapping_name', 100).primary();
    t.string('holder', 300).notNullable();
    t.string('expires_at', 32).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.runLocks);
}
