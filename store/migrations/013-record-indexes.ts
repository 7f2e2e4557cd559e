import type { Knex } from 'knex';
import { TABLES } from '../tables';

/**
 * A coupling's records were indexed twice on each side: by mapping and id
 * (001) and by system, table and id (004). A mapping's tables cannot move
 * while it has couplings, so the second implies the first, and every lookup by
 * id goes through it (store/couplings.ts `onRecordIndex`). Record ids are
 * mostly GUIDs, so each of these indexes takes a write on a random page per
 * coupling: at a million couplings the redundant pair was a third of the time
 * a batch of inserts spent in the store.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.dropUnique(['mapping_name', 'local_id']);
    t.dropUnique(['mapping_name', 'integration_id']);
  });
  // The record indexes are now all that keeps a record coupled once: a coupling without its tables would escape them.
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    for (const column of RECORD_COLUMNS)
      t.string(column, column.endsWith('_system') ? 100 : 128)
        .notNullable()
        .alter();
  });
}

const RECORD_COLUMNS = ['local_system', 'local_table', 'integration_system', 'integration_table'] as const;

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    for (const column of RECORD_COLUMNS)
      t.string(column, column.endsWith('_system') ? 100 : 128)
        .nullable()
        .alter();
  });
  await knex.schema.alterTable(TABLES.couplings, (t) => {
    t.unique(['mapping_name', 'local_id']);
    t.unique(['mapping_name', 'integration_id']);
  });
}
