import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * Where a run stands when it continues as new, on its job row: the next run
 * reads it from here, so no workflow input can forge a cursor or counters.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.jobs, (t) => {
    t.text('continuation').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.jobs, (t) => t.dropColumn('continuation'));
}
