import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * What the engine needs to never overwrite, lose or strand a change (#12):
 * - per direction: a pending flag (a change that direction still has to carry)
 *   and its own failure count and last error (skipped after the same failure
 *   twice in one direction, not across both);
 * - a version, so a coupling is only written over the state that was read;
 * - the system and table of each side, so a record is coupled at most once per
 *   table across mappings;
 * - the match priority a coupling was made at (match-based coupling by rounds);
 * - failed uncoupled records (a failed create) and the claims of a match round.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.mappings, (t) => {
    t.string('source_deletion', 32).notNullable().defaultTo('KeepCoupling');
  });
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.integer('version').notNullable().defaultTo(0);
    t.boolean('to_integration_pending').notNullable().defaultTo(false);
    t.boolean('from_integration_pending').notNullable().defaultTo(false);
    t.integer('to_integration_failure_count').notNullable().defaultTo(0);
    t.integer('from_integration_failure_count').notNullable().defaultTo(0);
    t.text('to_integration_last_error').nullable();
    t.text('from_integration_last_error').nullable();
    t.string('local_system', 100).nullable();
    t.string('local_table', 128).nullable();
    t.string('integration_system', 100).nullable();
    t.string('integration_table', 128).nullable();
    t.integer('coupled_level').nullable();
  });

  // The old counter was kept across both directions: it belongs to the direction that failed last.
  await knex(TABLES.couplings)
    .where('last_to_integration_result', 'Failure')
    .update({ to_integration_failure_count: knex.ref('failure_count'), to_integration_last_error: knex.ref('last_error_message') });
  await knex(TABLES.couplings)
    .where('last_from_integration_result', 'Failure')
    .update({ from_integration_failure_count: knex.ref('failure_count'), from_integration_last_error: knex.ref('last_error_message') });
  const mappings: { name: string; local_system: string; local_table: string; integration_system: string; integration_table: string }[] = await knex(
    TABLES.mappings,
  ).select('name', 'local_system', 'local_table', 'integration_system', 'integration_table');
  for (const m of mappings) {
    await knex(TABLES.couplings).where('mapping_name', m.name).update({
      local_system: m.local_system,
      local_table: m.local_table,
      integration_system: m.integration_system,
      integration_table: m.integration_table,
    });
  }
  await knex(TABLES.couplings).whereNull('local_system').delete();

  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.dropColumn('failure_count');
    t.dropColumn('last_error_message');
    // A record is coupled at most once per system and table, whichever mapping couples it.
    t.unique(['local_system', 'local_table', 'local_id'], { indexName: 'couplings_local_record_unique' });
    t.unique(['integration_system', 'integration_table', 'integration_id'], { indexName: 'couplings_integration_record_unique' });
    t.index(['mapping_name', 'coupled_by_job_id'], 'couplings_coupled_by_job');
  });

  await knex.schema.createTable(TABLES.uncoupledFailures, (t) => {
    t.bigIncrements('id').primary();
    t.string('mapping_name', 100).notNullable();
    t.string('side', 16).notNullable();
    t.string('record_id', 200).notNullable();
    t.integer('failure_count').notNullable().defaultTo(1);
    t.text('last_error').nullable();
    t.boolean('skipped').notNullable().defaultTo(false);
    t.string('last_job_id', 64).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['mapping_name', 'side', 'record_id']);
  });

  // Records a pass uncoupled: the same job must not meet them again as uncoupled ones (each record once per job).
  await knex.schema.createTable(TABLES.passUncoupled, (t) => {
    t.string('job_id', 64).notNullable();
    t.string('side', 16).notNullable();
    t.string('record_id', 200).notNullable();
    t.primary(['job_id', 'side', 'record_id']);
  });

  await knex.schema.createTable(TABLES.matchClaims, (t) => {
    t.string('job_id', 64).notNullable();
    t.integer('level').notNullable();
    t.string('integration_id', 200).notNullable();
    t.string('local_id', 200).notNullable();
    t.primary(['job_id', 'level', 'integration_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.mappings, (t) => t.dropColumn('source_deletion'));
  await knex.schema.dropTableIfExists(TABLES.matchClaims);
  await knex.schema.dropTableIfExists(TABLES.passUncoupled);
  await knex.schema.dropTableIfExists(TABLES.uncoupledFailures);
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.dropUnique(['local_system', 'local_table', 'local_id'], 'couplings_local_record_unique');
    t.dropUnique(['integration_system', 'integration_table', 'integration_id'], 'couplings_integration_record_unique');
    t.dropIndex(['mapping_name', 'coupled_by_job_id'], 'couplings_coupled_by_job');
    t.integer('failure_count').notNullable().defaultTo(0);
    t.text('last_error_message').nullable();
    for (const column of [
      'version',
      'to_integration_pending',
      'from_integration_pending',
      'to_integration_failure_count',
      'from_integration_failure_count',
      'to_integration_last_error',
      'from_integration_last_error',
      'local_system',
      'local_table',
      'integration_system',
      'integration_table',
      'coupled_level',
    ])
      t.dropColumn(column);
  });
}
