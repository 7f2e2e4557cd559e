import type { Knex } from 'knex';
import { TABLES } from '../tables';

/** The five tables of BC's integration model; column meanings follow docs/ARCHITECTURE.md. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.mappings, (t) => {
    t.string('name', 100).primary();
    t.string('local_system', 100).notNullable();
    t.string('local_table', 128).notNullable();
    t.string('integration_system', 100).notNullable();
    t.string('integration_table', 128).notNullable();
    t.string('direction', 32).notNullable();
    t.text('table_filter').notNullable().defaultTo('[]');
    t.text('integration_table_filter').notNullable().defaultTo('[]');
    t.boolean('sync_only_coupled_records').notNullable().defaultTo(true);
    t.string('update_conflict_resolution', 32).notNullable().defaultTo('None');
    t.string('deletion_conflict_resolution', 32).notNullable().defaultTo('None');
    t.boolean('create_new_if_no_match').notNullable().defaultTo(false);
    t.boolean('sync_after_bulk_coupling').notNullable().defaultTo(false);
    t.text('depends_on').notNullable().defaultTo('[]');
    // Largest modified-on seen by the last run on each side, exactly as the source reported it.
    t.string('local_watermark', 64).nullable();
    t.string('integration_watermark', 64).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });

  await knex.schema.createTable(TABLES.fieldMappings, (t) => {
    t.increments('id').primary();
    t.string('mapping_name', 100).notNullable().references('name').inTable(TABLES.mappings).onDelete('CASCADE');
    t.integer('position').notNullable();
    t.string('local_field', 128).nullable();
    t.string('integration_field', 128).nullable();
    t.string('direction', 32).notNullable();
    t.text('constant_value').nullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('transformation').nullable();
    t.string('transformation_direction', 32).nullable();
    t.boolean('use_for_matching').notNullable().defaultTo(false);
    t.boolean('case_sensitive_matching').notNullable().defaultTo(false);
    t.integer('match_priority').notNullable().defaultTo(0);
    t.unique(['mapping_name', 'position']);
  });

  await knex.schema.createTable(TABLES.couplings, (t) => {
    t.bigIncrements('id').primary();
    t.string('mapping_name', 100).notNullable();
    t.string('local_id', 200).notNullable();
    t.string('integration_id', 200).notNullable();
    t.string('last_synced_local_modified_on', 64).nullable();
    t.string('last_synced_integration_modified_on', 64).nullable();
    t.string('last_to_integration_result', 16).nullable();
    t.string('last_to_integration_job_id', 64).nullable();
    t.string('last_from_integration_result', 16).nullable();
    t.string('last_from_integration_job_id', 64).nullable();
    t.boolean('skipped').notNullable().defaultTo(false);
    t.integer('failure_count').notNullable().defaultTo(0);
    t.text('last_error_message').nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    // What makes double coupling impossible, whatever runs at once.
    t.unique(['mapping_name', 'local_id']);
    t.unique(['mapping_name', 'integration_id']);
  });

  await knex.schema.createTable(TABLES.jobs, (t) => {
    t.string('id', 64).primary();
    t.string('mapping_name', 100).notNullable();
    t.string('type', 32).notNullable();
    t.string('direction', 32).nullable();
    t.string('workflow_id', 255).nullable();
    t.string('run_id', 64).nullable();
    t.string('status', 16).notNullable();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
    t.text('message').nullable();
    for (const counter of ['inserted', 'modified', 'deleted', 'unchanged', 'skipped', 'failed', 'coupled', 'uncoupled', 'unmatched']) {
      t.integer(counter).notNullable().defaultTo(0);
    }
    t.index(['mapping_name', 'started_at']);
  });

  await knex.schema.createTable(TABLES.jobErrors, (t) => {
    t.bigIncrements('id').primary();
    t.string('job_id', 64).notNullable();
    t.string('mapping_name', 100).notNullable();
    t.string('source_record_id', 200).notNullable();
    t.string('destination_record_id', 200).nullable();
    t.text('message').notNullable();
    t.text('full_message').nullable();
    t.integer('attempts').notNullable().defaultTo(1);
    t.string('created_at', 32).notNullable();
    // A retried activity rewrites the same error row rather than adding one.
    t.unique(['job_id', 'source_record_id']);
    t.index(['mapping_name', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [TABLES.jobErrors, TABLES.jobs, TABLES.couplings, TABLES.fieldMappings, TABLES.mappings]) {
    await knex.schema.dropTableIfExists(table);
  }
}
