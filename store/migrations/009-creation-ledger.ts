import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * Which batch created each record the engine creates by key, and whether the
 * key named a record already there. Written before the create and after it,
 * so a batch retried after a kill tells its own creates (counted inserted)
 * from records written over (a record created again after an uncoupling,
 * counted modified).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.creationLedger, (t) => {
    t.string('mapping_name', 128).notNullable();
    t.string('record_key', 255).notNullable();
    t.string('batch_token', 255).notNullable();
    /** 'pending' or 'recreating' (noted before the create), 'created' or 'existed'. */
    t.string('outcome', 16).notNullable();
    t.primary(['mapping_name', 'record_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.creationLedger);
}
