/**
 * One run per mapping at a time, for the kinds of run that page through a
 * whole mapping (bulk sync, retryFailed, match-based coupling, uncouple-all):
 * a lease in `mapping_run_locks`, held by a workflow chain, with a fencing
 * token raised whenever another run takes it, and expiry on the store's clock
 * (not each worker's). Writers check the token before they write.
 */
import type { Knex } from 'knex';
import { isPostgres } from './database-url';
import { TABLES } from './tables';

/** Who holds a mapping's lease, and the token of that holding. */
export interface Lease {
  holder: string;
  token: number;
}

/** The store's clock, `seconds` from now, as ISO-8601 UTC text (the column's format). */
function storeTime(knex: Knex, seconds: number): Knex.Raw {
  if (isPostgres(knex)) {
    return knex.raw(`to_char((now() + make_interval(secs => ?)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, [seconds]);
  }
  return knex.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`, [`${seconds >= 0 ? '+' : ''}${seconds} seconds`]);
}

async function current(knex: Knex, mappingName: string): Promise<Lease | null> {
  const row: { holder: string; token: number } | undefined = await knex(TABLES.runLocks).where('mapping_name', mappingName).select('holder', 'token').first();
  return row ? { holder: String(row.holder), token: Number(row.token) } : null;
}

/**
 * Takes or renews the lease for `holder`: renewed when it holds it, taken over
 * (token raised) when it has expired by the store's clock or `replaces` names
 * the current holder (a run found to have ended). Returns who holds it now.
 */
export async function acquireLease(knex: Knex, mappingName: string, holder: string, ttlMs: number, replaces?: string): Promise<Lease> {
  const ttl = ttlMs / 1000;
  await knex(TABLES.runLocks).insert({ mapping_name: mappingName, holder, token: 1, expires_at: storeTime(knex, ttl) }).onConflict('mapping_name').ignore();
  await knex(TABLES.runLocks)
    .where('mapping_name', mappingName)
    .andWhere((q) => {
      q.where('holder', holder).orWhere('expires_at', '<', storeTime(knex, 0));
      if (replaces) q.orWhere('holder', replaces);
    })
    .update({ token: knex.raw('case when holder = ? then token else token + 1 end', [holder]), holder, expires_at: storeTime(knex, ttl) });
  return (await current(knex, mappingName)) ?? { holder, token: 1 };
}

/** Renews the lease while `lease` is still the holding: false when another run has taken it since. */
export async function renewLease(knex: Knex, mappingName: string, lease: Lease, ttlMs: number): Promise<boolean> {
  const updated = await knex(TABLES.runLocks)
    .where({ mapping_name: mappingName, holder: lease.holder, token: lease.token })
    .update({ expires_at: storeTime(knex, ttlMs / 1000) });
  return updated > 0;
}

export async function releaseLease(knex: Knex, mappingName: string, holder: string): Promise<void> {
  await knex(TABLES.runLocks).where({ mapping_name: mappingName, holder }).delete();
}

export async function leaseOf(knex: Knex, mappingName: string): Promise<Lease | null> {
  return current(knex, mappingName);
}
