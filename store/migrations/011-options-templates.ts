import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * Option mappings and templates (issue #15): a field mapping's value pairs
 * and a mapping's templates for created records, both JSON; and the list of
 * unmapped option values that fields set to `collect` met, one row per
 * (mapping, side, field, value), for an administrator to map.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.fieldMappings, (t) => {
    t.text('option_mapping').nullable();
  });
  await knex.schema.alterTable(TABLES.mappings, (t) => {
    t.text('templates').nullable();
  });
  await knex.schema.createTable(TABLES.unmappedOptions, (t) => {
    t.string('mapping_name', 100).notNullable();
    /** The side the value was read from, and its column there. */
    t.string('side', 16).notNullable();
    t.string('field', 128).notNullable();
    /** The value's lookup key (12 and "12" are one value); a long one cut and made unique by its hash. */
    t.string('value_key', 300).notNullable();
    /** The value as JSON, so "12" and 12 read differently. */
    t.text('value').notNullable();
    t.string('destination_field', 128).notNullable();
    /** Records seen with the value: counted per batch, so a batch retried after a kill may count its records again. */
    t.bigInteger('occurrences').notNullable();
    t.string('first_job_id', 64).notNullable();
    t.string('last_job_id', 64).notNullable();
    t.string('first_seen_at', 32).notNullable();
    t.string('last_seen_at', 32).notNullable();
    t.primary(['mapping_name', 'side', 'field', 'value_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.unmappedOptions);
  await knex.schema.alterTable(TABLES.mappings, (t) => t.dropColumn('templates'));
  await knex.schema.alterTable(TABLES.fieldMappings, (t) => t.dropColumn('option_mapping'));
}
