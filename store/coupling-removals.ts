/**
 * Removing couplings so that every job can count exactly: in one transaction,
 * the couplings go, each job that made one notes that it went (`removed`),
 * and the job removing them notes how many (`uncoupled`). A killed attempt
 * either did all of it or none.
 */
import type { Knex } from 'knex';
import { isPostgres } from './database-url';
import { TABLES } from './tables';

type Row = Record<string, unknown>;

async function tally(trx: Knex.Transaction, jobId: string, column: 'removed' | 'uncoupled', n: number): Promise<void> {
  await trx(TABLES.couplingRemovals)
    .insert({ job_id: jobId, [column]: n })
    .onConflict('job_id')
    .merge({ [column]: trx.raw('?? + ?', [`${TABLES.couplingRemovals}.${column}`, n]) });
}

/** Deletes the couplings `select` picks (a query on the couplings table); returns how many this call removed. */
export async function removeCouplings(knex: Knex, select: (q: Knex.QueryBuilder) => Knex.QueryBuilder, byJobId: string | null): Promise<number> {
  return knex.transaction(async (trx) => {
    const ids: number[] = (await select(trx(TABLES.couplings)).select('id')).map((r: Row) => Number(r.id));
    if (ids.length === 0) return 0;
    // What this very statement removed (a concurrent delete may have taken some): RETURNING, in both dialects.
    const result: unknown = await trx.raw(`delete from ?? where id in (${ids.map(() => '?').join(', ')}) returning coupled_by_job_id`, [
      TABLES.couplings,
      ...ids,
    ]);
    const rows = (isPostgres(knex) ? (result as { rows: Row[] }).rows : (result as Row[])) ?? [];
    const byMaker = new Map<string, number>();
    for (const r of rows) if (r.coupled_by_job_id) byMaker.set(String(r.coupled_by_job_id), (byMaker.get(String(r.coupled_by_job_id)) ?? 0) + 1);
    for (const [jobId, n] of byMaker) await tally(trx, jobId, 'removed', n);
    if (byJobId && rows.length > 0) await tally(trx, byJobId, 'uncoupled', rows.length);
    return rows.length;
  });
}

/** The couplings of a mapping a job made and still there (a restore replaces a coupling rather than making one: not counted). */
function madeAndThere(knex: Knex, mappingName: string, jobId: string): Knex.QueryBuilder {
  return knex(TABLES.couplings)
    .where({ mapping_name: mappingName, coupled_by_job_id: jobId })
    .andWhere((q) => q.whereNull('last_to_integration_action').orWhereNot('last_to_integration_action', 'like', 'restore@%'))
    .andWhere((q) => q.whereNull('last_from_integration_action').orWhereNot('last_from_integration_action', 'like', 'restore@%'))
    .count({ n: '*' });
}

/** The couplings a job made, counted exactly: those still there and those removed since. */
export async function countCouplingsMadeBy(knex: Knex, mappingName: string, jobId: string): Promise<number> {
  return (await jobTallies(knex, mappingName, jobId)).made;
}

/** In one statement: the couplings a job made (still there and removed since) and the couplings it removed. */
export async function jobTallies(knex: Knex, mappingName: string, jobId: string): Promise<{ made: number; uncoupled: number }> {
  const removals = (column: 'removed' | 'uncoupled') => knex(TABLES.couplingRemovals).where('job_id', jobId).select(column);
  const row: Row | undefined = await knex
    .select({ n: madeAndThere(knex, mappingName, jobId), removed: removals('removed'), uncoupled: removals('uncoupled') })
    .first();
  return { made: Number(row?.n ?? 0) + Number(row?.removed ?? 0), uncoupled: Number(row?.uncoupled ?? 0) };
}

/** How many couplings a job removed, whatever happened to its attempts. */
export async function countUncoupledBy(knex: Knex, jobId: string): Promise<number> {
  const row: Row | undefined = await knex(TABLES.couplingRemovals).where('job_id', jobId).first();
  return Number(row?.uncoupled ?? 0);
}
