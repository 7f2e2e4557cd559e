import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * What a job did to each coupled record, next to the job id it already stamps:
 * an attempt that wrote its records but died before reporting leaves its
 * retry a way to count them (exact job counters), not just to skip them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    // "<action>@<batch>": what was done, and by which batch activity of the job.
    t.string('last_to_integration_action', 160).nullable();
    t.string('last_from_integration_action', 160).nullable();
    t.string('coupled_by_job_id', 64).nullable();
    t.string('coupled_action', 16).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.dropColumn('last_to_integration_action');
    t.dropColumn('last_from_integration_action');
    t.dropColumn('coupled_by_job_id');
    t.dropColumn('coupled_action');
  });
}
