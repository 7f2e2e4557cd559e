/**
 * What the console reads, straight from the store: keyset pages (never
 * OFFSET, so page 1,000 costs what page 1 does) over indexed columns. Writes
 * never happen here: every action goes through a workflow.
 */
import type { Knex } from 'knex';
import { TABLES } from '../store/tables';
import { ATTENTION_PREDICATES } from '../store/attention';
import { COUPLING_COLUMNS, onRecordIndex, toCoupling, toUncoupledFailure, type Coupling, type UncoupledFailure } from '../store/couplings';
import { toJob, toJobError, type JobErrorRow, type JobRow } from '../store/job-rows';
import type { JobStatus, JobType } from '../common/types';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

export interface Page<T> {
  rows: T[];
  /** The cursor of the next page; null on the last one. */
  next: string | null;
}

export interface MappingCounts {
  coupled: number;
  failed: number;
  skipped: number;
  /** Failed creates: records with no counterpart yet, retried by every run. */
  pending: number;
}

const count = async (query: Knex.QueryBuilder): Promise<number> => Number(((await query.count({ n: '*' }).first()) as { n?: unknown } | undefined)?.n ?? 0);

export async function mappingCounts(knex: Knex, mapping: string): Promise<MappingCounts> {
  const couplings = () => knex(TABLES.couplings).where('mapping_name', mapping);
  const [coupled, failed, skipped, pending] = await Promise.all([
    count(couplings()),
    count(couplings().andWhere((q) => q.whereRaw(ATTENTION_PREDICATES.failed_to_integration).orWhereRaw(ATTENTION_PREDICATES.failed_from_integration))),
    count(couplings().andWhereRaw(ATTENTION_PREDICATES.skipped)),
    count(knex(TABLES.uncoupledFailures).where('mapping_name', mapping)),
  ]);
  return { coupled, failed, skipped, pending };
}

export type AttentionView = 'failed' | 'skipped' | 'pending';

export interface AttentionRow {
  /** What a selection checkbox carries: "<side>:<record id>". */
  key: string;
  side: 'local' | 'integration';
  recordId: string;
  localId: string | null;
  integrationId: string | null;
  state: string;
  failureCount: number;
  lastError: string | null;
  /** When the job that failed it ended. */
  at: string | null;
  jobId: string | null;
}

const cursorOf = (id: number): string => String(id);
const idAfter = (cursor: string | undefined): number => {
  const n = Number(cursor ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
};

function fromCoupling(c: Coupling): AttentionRow {
  const failed = [
    c.lastToIntegrationResult === 'Failure'
      ? { what: 'to integration', count: c.toIntegrationFailureCount, error: c.toIntegrationLastError, job: c.lastToIntegrationJobId }
      : null,
    c.lastFromIntegrationResult === 'Failure'
      ? { what: 'from integration', count: c.fromIntegrationFailureCount, error: c.fromIntegrationLastError, job: c.lastFromIntegrationJobId }
      : null,
  ].filter((f) => f !== null);
  const worst = failed.sort((a, b) => b.count - a.count)[0];
  const state = [failed.length ? `failed ${failed.map((f) => f.what).join(' and ')}` : 'in sync', c.skipped ? 'skipped' : null].filter(Boolean).join(', ');
  return {
    key: `local:${c.localId}`,
    side: 'local',
    recordId: c.localId,
    localId: c.localId,
    integrationId: c.integrationId,
    state,
    failureCount: worst?.count ?? 0,
    lastError: worst?.error ?? null,
    at: null,
    jobId: worst?.job ?? null,
  };
}

function fromUncoupled(u: UncoupledFailure): AttentionRow {
  return {
    key: `${u.side}:${u.recordId}`,
    side: u.side,
    recordId: u.recordId,
    localId: u.side === 'local' ? u.recordId : null,
    integrationId: u.side === 'integration' ? u.recordId : null,
    state: `create failed${u.skipped ? ', skipped' : ''}`,
    failureCount: u.failureCount,
    lastError: u.lastError,
    at: null,
    jobId: u.lastJobId,
  };
}

/** Fills `at` from the jobs that failed the rows: one query for the page. */
async function withTimes(knex: Knex, rows: AttentionRow[]): Promise<AttentionRow[]> {
  const ids = [...new Set(rows.map((r) => r.jobId).filter((id): id is string => id !== null))];
  if (ids.length === 0) return rows;
  const jobs: { id: string; finished_at: string | null; started_at: string }[] = await knex(TABLES.jobs)
    .select('id', 'finished_at', 'started_at')
    .whereIn('id', ids);
  const when = new Map(jobs.map((j) => [String(j.id), j.finished_at ?? j.started_at]));
  return rows.map((r) => ({ ...r, at: r.jobId ? (when.get(r.jobId) ?? null) : null }));
}

/** One page of `limit` from `limit + 1` rows read: the extra one says whether there is a next page. */
async function keysetPage<T extends { id: number }>(knex: Knex, found: T[], limit: number, toRow: (t: T) => AttentionRow): Promise<Page<AttentionRow>> {
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: await withTimes(knex, page.map(toRow)), next: found.length > limit && last ? cursorOf(last.id) : null };
}

/** The records of a mapping that need attention, by view; with `record`, that record's rows in any state. */
export async function pageAttention(
  knex: Knex,
  options: { mapping: string; view: AttentionView; after?: string; limit?: number; record?: string },
): Promise<Page<AttentionRow>> {
  const limit = Math.min(options.limit ?? DEFAULT_PAGE, MAX_PAGE);
  const afterId = idAfter(options.after);
  if (options.record !== undefined) {
    // One record: its coupling (whatever its state) and any failed create, on either side; a handful of rows.
    const found = new Map<number, Coupling>();
    for (const side of ['local', 'integration'] as const) {
      const column = side === 'local' ? 'local_id' : 'integration_id';
      const rows: Record<string, unknown>[] = await onRecordIndex(knex, knex(TABLES.couplings).select(COUPLING_COLUMNS), options.mapping, side).where(
        column,
        options.record,
      );
      for (const c of rows.map(toCoupling)) found.set(c.id, c);
    }
    const couplings = [...found.values()].sort((a, b) => a.id - b.id);
    const uncoupled = (await knex(TABLES.uncoupledFailures).where({ mapping_name: options.mapping, record_id: options.record })).map(toUncoupledFailure);
    return { rows: await withTimes(knex, [...couplings.map(fromCoupling), ...uncoupled.map(fromUncoupled)]), next: null };
  }
  if (options.view === 'pending') {
    const found = (
      await knex(TABLES.uncoupledFailures)
        .where('mapping_name', options.mapping)
        .andWhere('id', '>', afterId)
        .orderBy('id')
        .limit(limit + 1)
    ).map(toUncoupledFailure);
    return keysetPage(knex, found, limit, fromUncoupled);
  }
  const query = knex(TABLES.couplings).select(COUPLING_COLUMNS).where('mapping_name', options.mapping).andWhere('id', '>', afterId);
  if (options.view === 'skipped') query.andWhereRaw(ATTENTION_PREDICATES.skipped);
  else query.andWhere((q) => q.whereRaw(ATTENTION_PREDICATES.failed_to_integration).orWhereRaw(ATTENTION_PREDICATES.failed_from_integration));
  const found = (await query.orderBy('id').limit(limit + 1)).map(toCoupling);
  return keysetPage(knex, found, limit, fromCoupling);
}

/** The error log, newest first: every row a run wrote, for a mapping or all, or for one record. */
export async function pageErrors(
  knex: Knex,
  options: { mapping?: string; record?: string; job?: string; before?: string; limit?: number },
): Promise<Page<JobErrorRow>> {
  const limit = Math.min(options.limit ?? DEFAULT_PAGE, MAX_PAGE);
  const query = knex(TABLES.jobErrors)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (options.mapping) query.where('mapping_name', options.mapping);
  if (options.job) query.where('job_id', options.job);
  if (options.record !== undefined) query.andWhere((q) => q.where('source_record_id', options.record).orWhere('destination_record_id', options.record));
  const before = idAfter(options.before);
  if (before > 0) query.andWhere('id', '<', before);
  const found = (await query).map(toJobError);
  const rows = found.slice(0, limit);
  return { rows, next: found.length > limit ? cursorOf(rows[rows.length - 1].id ?? 0) : null };
}

/** The run log, newest first, by (started_at, id). */
export async function pageJobs(
  knex: Knex,
  options: { mapping?: string; type?: JobType; status?: JobStatus; workflowId?: string; firstRunId?: string; before?: string; limit?: number },
): Promise<Page<JobRow>> {
  const limit = Math.min(options.limit ?? DEFAULT_PAGE, MAX_PAGE);
  const query = knex(TABLES.jobs)
    .orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit + 1);
  if (options.mapping) query.where('mapping_name', options.mapping);
  if (options.type) query.where('type', options.type);
  if (options.status) query.where('status', options.status);
  if (options.workflowId) query.where('workflow_id', options.workflowId);
  // Job rows name the first run of their chain, so a run that continued as new still finds its earlier jobs.
  if (options.firstRunId) query.where('run_id', options.firstRunId);
  const before = parseJobCursor(options.before);
  if (before)
    query.andWhere((q) =>
      q.where('started_at', '<', before.startedAt).orWhere((q2) => q2.where('started_at', before.startedAt).andWhere('id', '<', before.id)),
    );
  const found = (await query).map(toJob);
  const rows = found.slice(0, limit);
  const last = rows[rows.length - 1];
  return { rows, next: found.length > limit && last ? `${last.startedAt}|${last.id}` : null };
}

function parseJobCursor(cursor: string | undefined): { startedAt: string; id: string } | null {
  if (!cursor) return null;
  const at = cursor.lastIndexOf('|');
  if (at <= 0) return null;
  return { startedAt: cursor.slice(0, at), id: cursor.slice(at + 1) };
}
