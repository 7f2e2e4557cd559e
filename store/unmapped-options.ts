/**
 * The list of unmapped option values (migration 011): what fields whose
 * option mapping says `collect` met and left out, one row per mapping, side,
 * field and value, for an administrator to map. Written set-based, once per
 * batch: a batch's values are tallied first, then upserted in chunks.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { chunk } from '../common/collections';
import type { Side } from '../common/types';
import { optionKey, type UnmappedOption } from '../domain/option-mapping';
import { redact } from '../support/redact';
import { rowsPerInsert } from './database-url';
import { TABLES } from './tables';

export interface UnmappedOptionRow {
  mappingName: string;
  /** The side the value was read from, and its column there. */
  side: Side;
  field: string;
  /** The lookup key (12 and "12" are one value); a long key is cut and made unique by its hash. */
  valueKey: string;
  /** The value as JSON: "12" is text, 12 a number. */
  value: string;
  destinationField: string;
  /** Records seen with it, counted per batch (a batch retried after a kill may count its records again). */
  occurrences: number;
  firstJobId: string;
  lastJobId: string;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** Longest key kept as it is: a pair's text is at most 250 characters, so a longer value can never have been mapped. */
const MAX_PLAIN_KEY = 255;

/** The key as stored: NUL cannot be stored in PostgreSQL text and a unique index needs a bounded length, so such keys are hashed. */
export function storedValueKey(value: unknown): string {
  const key = optionKey(value);
  if (key.length <= MAX_PLAIN_KEY && !key.includes('\u0000')) return key;
  return `${key.slice(0, 200).replace(/\u0000/g, '')}#sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function asJson(value: unknown): string {
  return redact(JSON.stringify(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : String(value)));
}

export async function noteUnmappedOptions(knex: Knex, mappingName: string, jobId: string, now: string, entries: readonly UnmappedOption[]): Promise<void> {
  const tally = new Map<string, Record<string, unknown> & { occurrences: number }>();
  for (const e of entries) {
    const valueKey = storedValueKey(e.value);
    const id = JSON.stringify([e.sourceSide, e.sourceField, valueKey]);
    const row = tally.get(id);
    if (row) row.occurrences++;
    else
      tally.set(id, {
        mapping_name: mappingName,
        side: e.sourceSide,
        field: e.sourceField,
        value_key: valueKey,
        value: asJson(e.value),
        destination_field: e.destinationField,
        occurrences: 1,
        first_job_id: jobId,
        last_job_id: jobId,
        first_seen_at: now,
        last_seen_at: now,
      });
  }
  const rows = [...tally.values()];
  for (const part of chunk(rows, rowsPerInsert(knex, 11))) {
    await knex(TABLES.unmappedOptions)
      .insert(part)
      .onConflict(['mapping_name', 'side', 'field', 'value_key'])
      .merge({
        occurrences: knex.raw('?? + excluded.occurrences', [`${TABLES.unmappedOptions}.occurrences`]),
        last_job_id: knex.raw('excluded.last_job_id'),
        last_seen_at: knex.raw('excluded.last_seen_at'),
        destination_field: knex.raw('excluded.destination_field'),
      });
  }
}

export async function listUnmappedOptions(knex: Knex, options: { mappingName?: string; limit?: number }): Promise<UnmappedOptionRow[]> {
  const query = knex(TABLES.unmappedOptions).orderBy([
    { column: 'mapping_name' },
    { column: 'side' },
    { column: 'field' },
    { column: 'last_seen_at', order: 'desc' },
    { column: 'value_key' },
  ]);
  if (options.mappingName) query.where('mapping_name', options.mappingName);
  const rows: Record<string, unknown>[] = await query.limit(options.limit ?? 1000);
  return rows.map((r) => ({
    mappingName: String(r.mapping_name),
    side: String(r.side) as Side,
    field: String(r.field),
    valueKey: String(r.value_key),
    value: String(r.value),
    destinationField: String(r.destination_field),
    occurrences: Number(r.occurrences),
    firstJobId: String(r.first_job_id),
    lastJobId: String(r.last_job_id),
    firstSeenAt: String(r.first_seen_at),
    lastSeenAt: String(r.last_seen_at),
  }));
}
