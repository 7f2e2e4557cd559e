import type { Knex } from 'knex';
import { TABLES } from '../tables';
import { ATTENTION_PREDICATES } from '../attention';

/**
 * What the console pages through by keyset (issue #18): the error log of a
 * mapping newest first, and the couplings that need attention (failed in a
 * direction, or skipped). The coupling indexes are partial, so the writes of a
 * healthy sync, which set every result to Success, never touch them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.jobErrors, (t) => {
    t.index(['mapping_name', 'id'], 'sync_job_errors_mapping_id');
  });
  for (const [name, predicate] of Object.entries(ATTENTION_PREDICATES)) {
    await knex.raw(`CREATE INDEX ${TABLES.couplings}_${name} ON ${TABLES.couplings} (mapping_name, id) WHERE ${predicate}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const name of Object.keys(ATTENTION_PREDICATES)) await knex.raw(`DROP INDEX IF EXISTS ${TABLES.couplings}_${name}`);
  await knex.schema.alterTable(TABLES.jobErrors, (t) => {
    t.dropIndex(['mapping_name', 'id'], 'sync_job_errors_mapping_id');
  });
}
