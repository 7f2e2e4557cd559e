import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * A fencing token on each mapping's lease: raised whenever another run takes
 * the lease, so a run that lost it can tell before it writes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.runLocks, (t) => {
    t.integer('token').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.runLocks, (t) => t.dropColumn('token'));
}
