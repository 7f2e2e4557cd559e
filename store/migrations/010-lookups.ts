import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * A field mapping may be a lookup (its settings as JSON), and an error row
 * may be a warning: the record was synchronized, but not all of it (a lookup
 * cleared by Clear Value on Failed Sync). Warnings are not failures and are
 * not counted as such.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.fieldMappings, (t) => {
    t.text('lookup').nullable();
  });
  await knex.schema.alterTable(TABLES.jobErrors, (t) => {
    t.string('severity', 16).notNullable().defaultTo('error');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.jobErrors, (t) => t.dropColumn('severity'));
  await knex.schema.alterTable(TABLES.fieldMappings, (t) => t.dropColumn('lookup'));
}
