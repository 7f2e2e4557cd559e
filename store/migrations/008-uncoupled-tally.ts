import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * How many couplings each job removed, written in the transaction that
 * removed them: a job's `uncoupled` counter is exact even when the attempt
 * that removed them was killed before it could count.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplingRemovals, (t) => {
    t.integer('uncoupled').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplingRemovals, (t) => t.dropColumn('uncoupled'));
}
