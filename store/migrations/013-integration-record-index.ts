import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * An integration record was indexed twice: by mapping and id (001) and by
 * system, table and id (004). A mapping's tables cannot move while it has
 * couplings, so the second implies the first, and every lookup by integration
 * id goes through it (store/couplings.ts `onRecordIndex`). Integration ids are
 * mostly GUIDs (the engine's creation keys are), so each index on them takes a
 * write on a random page per coupling: at a million couplings the redundant
 * one was a third of what a batch of inserts spent writing couplings. The
 * local side keeps its per-mapping index: the set-based coupling update joins
 * on it, and SQLite's planner will not join through the record index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.dropUnique(['mapping_name', 'integration_id']);
  });
  // The record index is now all that keeps an integration record coupled once: a coupling without its tables would escape it.
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.string('integration_system', 100).notNullable().alter();
    t.string('integration_table', 128).notNullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.string('integration_system', 100).nullable().alter();
    t.string('integration_table', 128).nullable().alter();
  });
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.unique(['mapping_name', 'integration_id']);
  });
}
