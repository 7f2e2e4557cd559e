import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * How many of the couplings each job made were removed since (uncoupling, a
 * deletion rule), so a job can count the couplings it made exactly even when
 * another run removed some before the job closed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.couplingRemovals, (t) => {
    t.string('job_id', 64).primary();
    t.integer('removed').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.couplingRemovals);
}
