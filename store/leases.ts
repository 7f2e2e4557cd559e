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
import type { RunLease } from '../common/protocol';

/** Who holds a mapping's lease, and the token of that holding (the protocol's RunLease). */
export type Lease = RunLease;

/** The store's clock, `seconds` from now, as ISO-8601 UTC text (the column's format). */
function storeTime(knex: Knex, seconds: number): Knex.Raw {
  if (isPostgres(knex)) {
    return knex.raw(`to_char((now() + make_interval(secs => ?)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, [seconds]);
  }
  return knex.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`, [`${seconds >= 0 ? '+' : ''}${seconds} seconds`]);
}

/** A released lease keeps its row (and token, so tokens only rise); no holder, and long expired. */
const RELEASED = { holder: '', expiresAt: '1970-01-01T00:00:00.000Z' };

async function current(knex: Knex, mappingName: string): Promise<Lease | null> {
  const row: { holder: string; token: number } | undefined = await knex(TABLES.runLocks).where('mapping_name', mappingName).select('holder', 'token').first();
  return row && row.holder !== RELEASED.holder ? { holder: String(row.holder), token: Number(row.token) } : null;
}

/**
 * Takes or renews the lease for `holder` in one statement (so a release or
 * another acquire cannot fall between taking and reading): renewed when it
 * holds it, taken over (token raised) when it is released or expired by the
 * store's clock, or when `replaces` names the current holder (a run found to
 * have ended). Returns who holds it now.
 */
export async function acquireLease(knex: Knex, mappingName: string, holder: string, ttlMs: number, replaces?: string): Promise<Lease> {
  const table = TABLES.runLocks;
  const taken: { holder: string; token: number }[] = await knex(table)
    .insert({ mapping_name: mappingName, holder, token: 1, expires_at: storeTime(knex, ttlMs / 1000) })
    .onConflict('mapping_name')
    .merge({
      token: knex.raw(`case when ??.holder = excluded.holder then ??.token else ??.token + 1 end`, [table, table, table]),
      holder: knex.raw('excluded.holder'),
      expires_at: knex.raw('excluded.expires_at'),
    })
    .where((q) => {
      q.where(`${table}.holder`, holder).orWhere(`${table}.expires_at`, '<', storeTime(knex, 0));
      if (replaces) q.orWhere(`${table}.holder`, replaces);
    })
    .returning(['holder', 'token']);
  if (taken.length > 0) return { holder: String(taken[0].holder), token: Number(taken[0].token) };
  return (await current(knex, mappingName)) ?? acquireLease(knex, mappingName, holder, ttlMs, replaces);
}

/** Renews the lease while `lease` is still the holding: false when another run has taken it since. */
export async function renewLease(knex: Knex, mappingName: string, lease: Lease, ttlMs: number): Promise<boolean> {
  const updated = await knex(TABLES.runLocks)
    .where({ mapping_name: mappingName, holder: lease.holder, token: lease.token })
    .update({ expires_at: storeTime(knex, ttlMs / 1000) });
  return updated > 0;
}

export async function releaseLease(knex: Knex, mappingName: string, holder: string): Promise<void> {
  await knex(TABLES.runLocks).where({ mapping_name: mappingName, holder }).update({ holder: RELEASED.holder, expires_at: RELEASED.expiresAt });
}

export async function leaseOf(knex: Knex, mappingName: string): Promise<Lease | null> {
  return current(knex, mappingName);
}
