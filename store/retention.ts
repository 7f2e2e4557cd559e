/**
 * Log retention (BC: "Delete entries older than 7 days"): job rows and error
 * rows older than a cutoff go, one bounded batch per call, oldest first.
 * Couplings are never touched, nor is a job still running (its continuation
 * lives on its row), whatever its age.
 */
import type { Knex } from 'knex';
import { TABLES } from './tables';

export interface LogRowsDeleted {
  errors: number;
  jobs: number;
}

export async function deleteLogRowsBefore(knex: Knex, before: string, batchSize: number): Promise<LogRowsDeleted> {
  // By ids chosen first: a DELETE with LIMIT is not portable, and the batch stays one bounded statement.
  const errorIds = (await knex(TABLES.jobErrors).select('id').where('created_at', '<', before).orderBy('id').limit(batchSize)).map(
    (r: { id: number | string }) => r.id,
  );
  const errors = errorIds.length ? await knex(TABLES.jobErrors).whereIn('id', errorIds).delete() : 0;
  const jobIds = (
    await knex(TABLES.jobs)
      .select('id')
      .whereNot('status', 'running')
      .andWhere((q) => q.where('finished_at', '<', before).orWhere((q2) => q2.whereNull('finished_at').andWhere('started_at', '<', before)))
      .orderBy('started_at')
      .limit(batchSize)
  ).map((r: { id: string }) => r.id);
  const jobs = jobIds.length ? await knex(TABLES.jobs).whereIn('id', jobIds).delete() : 0;
  return { errors, jobs };
}
