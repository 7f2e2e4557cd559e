/**
 * The creation ledger (migration 009): per mapping and creation key, the batch
 * that last created or wrote over the keyed record, and what it found. Read
 * and written in batches.
 */
import type { Knex } from 'knex';
import { chunk } from '../common/collections';
import { insertRows } from './multi-row-insert';
import { TABLES } from './tables';

/**
 * 'pending': noted before a create of a key no batch had created; 'recreating': before a create of a key
 * another batch had (its record is most likely there: written over, not created); then what the create found.
 */
export type CreationOutcome = 'pending' | 'recreating' | 'created' | 'existed';

export interface CreationEntry {
  key: string;
  batchToken: string;
  outcome: CreationOutcome;
}

export async function creationsOf(knex: Knex, maxParams: number, mappingName: string, keys: readonly string[]): Promise<Map<string, CreationEntry>> {
  const found = new Map<string, CreationEntry>();
  for (const part of chunk([...new Set(keys)], maxParams - 10)) {
    const rows: { record_key: string; batch_token: string; outcome: CreationOutcome }[] = await knex(TABLES.creationLedger)
      .where('mapping_name', mappingName)
      .whereIn('record_key', part)
      .select('record_key', 'batch_token', 'outcome');
    for (const r of rows) found.set(r.record_key, { key: r.record_key, batchToken: r.batch_token, outcome: r.outcome });
  }
  return found;
}

/**
 * Notes 'pending' for this batch against every key no entry names yet, in one
 * insert that returns the keys it wrote; returns the entries the other keys
 * already had (read only for those, most often none): what beginCreates needs
 * to know before a create, in one statement for a batch of new records.
 */
export async function claimCreations(
  knex: Knex,
  maxParams: number,
  mappingName: string,
  keys: readonly string[],
  batchToken: string,
): Promise<Map<string, CreationEntry>> {
  const unique = [...new Set(keys)];
  const written = await insertRows(
    knex,
    TABLES.creationLedger,
    unique.map((key) => ({ mapping_name: mappingName, record_key: key, batch_token: batchToken, outcome: 'pending' })),
    { onConflict: ['mapping_name', 'record_key'], returning: ['record_key'] },
  );
  const claimed = new Set(written.map((r) => String(r.record_key)));
  const earlier = unique.filter((key) => !claimed.has(key));
  return earlier.length ? creationsOf(knex, maxParams, mappingName, earlier) : new Map();
}

export async function noteCreations(knex: Knex, mappingName: string, entries: readonly CreationEntry[]): Promise<void> {
  await insertRows(
    knex,
    TABLES.creationLedger,
    entries.map((e) => ({ mapping_name: mappingName, record_key: e.key, batch_token: e.batchToken, outcome: e.outcome })),
    { onConflict: ['mapping_name', 'record_key'], merge: ['batch_token', 'outcome'] },
  );
}
