/**
 * The consistency checker every fault test ends with. Whatever was done to the
 * worker, the server or the store, a completed run must leave the two systems
 * and the store as a run without faults would have: every source record with
 * exactly one counterpart and one coupling, no duplicate on either side, job
 * counters that agree with the rows, and error rows only where a fault was
 * injected on purpose. It reads the tables directly (never through the code
 * under test) and returns a report; tests assert on it.
 */
import type { Knex } from 'knex';
import type { JobCounters, JobType, Side } from '../../common/types';
import { COUNTER_NAMES, emptyCounters } from '../../common/types';
import type { Store } from '../../store/store';
import { TABLES } from '../../store/tables';

export interface SideSpec {
  knex: Knex;
  table: string;
  /** @default 'id' */
  idColumn?: string;
  /** A column that identifies a record independently of its id (no two records may share it). */
  naturalKey: string;
}

export interface CheckInput {
  store: Store;
  mapping: string;
  source: SideSpec;
  destination: SideSpec;
  /** The mapping side the source table is on. @default 'local' */
  sourceSide?: Side;
  /** Job rows written by the run(s) under test (RunResult.jobs[].jobId). */
  jobIds: string[];
  /** Source ids whose writes were made to fail on purpose: they, and only they, must have error rows. */
  injectedFailures?: Iterable<string>;
  /** What existed before the run (pre-seeded destination records, earlier couplings). @default none */
  baseline?: { destinationRecords: number; couplings: number };
  /** Source records the run was meant to handle. @default every source record */
  expectedProcessed?: number;
  /** How natural keys compare across sides. @default trimmed, lower case */
  normalize?: (value: string) => string;
}

export interface Check {
  name: string;
  ok: boolean;
  /** Why it failed, with a few example ids. */
  detail?: string;
}

export interface JobCheck {
  id: string;
  type: JobType | 'missing';
  status: string;
  counters: JobCounters;
}

export interface ConsistencyReport {
  ok: boolean;
  checks: Check[];
  /** Messages of the checks that failed. */
  problems: string[];
  counts: { source: number; destination: number; couplings: number; errorRows: number };
  jobs: JobCheck[];
  /** Counter sums over the run's jobs. */
  totals: JobCounters;
}

export const CHECKS = {
  oneCoupling: 'every source record has exactly one coupling',
  oneCounterpart: 'every source record has exactly one counterpart, the coupled one',
  noDuplicates: 'no duplicate on either side (natural key)',
  couplingsSound: 'couplings are unique per side and point at existing records',
  noOrphans: 'every destination record is coupled (no orphan create)',
  jobsClosed: 'every job of the run closed as succeeded',
  countersAddUp: 'job counters add up and agree with the rows',
  errorRowsExpected: 'error rows exactly for the records with an injected fault',
} as const;

const SAMPLE = 5;
const sample = (ids: Iterable<string>): string => {
  const list = [...ids];
  return `${list.slice(0, SAMPLE).join(', ')}${list.length > SAMPLE ? ` (+${list.length - SAMPLE} more)` : ''}`;
};

type Row = Record<string, unknown>;

async function readSide(
  side: SideSpec,
  normalize: (v: string) => string,
): Promise<{ ids: Set<string>; keyOf: Map<string, string>; idsByKey: Map<string, string[]> }> {
  const idColumn = side.idColumn ?? 'id';
  const rows: Row[] = await side.knex(side.table).select(idColumn, side.naturalKey);
  const ids = new Set<string>();
  const keyOf = new Map<string, string>();
  const idsByKey = new Map<string, string[]>();
  for (const row of rows) {
    const id = String(row[idColumn]);
    const key = normalize(String(row[side.naturalKey] ?? ''));
    ids.add(id);
    keyOf.set(id, key);
    const list = idsByKey.get(key);
    if (list) list.push(id);
    else idsByKey.set(key, [id]);
  }
  return { ids, keyOf, idsByKey };
}

export async function checkConsistency(input: CheckInput): Promise<ConsistencyReport> {
  const normalize = input.normalize ?? ((v: string) => v.trim().toLowerCase());
  const sourceSide = input.sourceSide ?? 'local';
  const injected = new Set(input.injectedFailures ?? []);
  const baseline = input.baseline ?? { destinationRecords: 0, couplings: 0 };
  const checks: Check[] = [];
  const check = (name: string, bad: Iterable<string>, what: string): void => {
    const list = [...bad];
    checks.push(list.length === 0 ? { name, ok: true } : { name, ok: false, detail: `${list.length} ${what}: ${sample(list)}` });
  };

  const [source, destination] = await Promise.all([readSide(input.source, normalize), readSide(input.destination, normalize)]);
  const couplingRows: Row[] = await input.store.knex(TABLES.couplings).where('mapping_name', input.mapping).select('local_id', 'integration_id');
  const couplings = couplingRows.map((r) => ({ local: String(r.local_id), integration: String(r.integration_id) }));
  const sourceIdOf = (c: { local: string; integration: string }): string => (sourceSide === 'local' ? c.local : c.integration);
  const destinationIdOf = (c: { local: string; integration: string }): string => (sourceSide === 'local' ? c.integration : c.local);

  // Couplings per source record and per destination record.
  const bySource = new Map<string, string[]>();
  const byDestination = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, value: string): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const c of couplings) {
    add(bySource, sourceIdOf(c), destinationIdOf(c));
    add(byDestination, destinationIdOf(c), sourceIdOf(c));
  }

  const wrongCouplingCount: string[] = [];
  const wrongCounterpart: string[] = [];
  for (const id of source.ids) {
    const coupled = bySource.get(id) ?? [];
    const counterparts = destination.idsByKey.get(source.keyOf.get(id) as string) ?? [];
    if (injected.has(id)) {
      // A record whose write was made to fail may stay uncoupled, but never doubled.
      if (coupled.length > 1) wrongCouplingCount.push(`${id} (${coupled.length} couplings)`);
      if (counterparts.length > 1) wrongCounterpart.push(`${id} (${counterparts.length} counterparts)`);
      continue;
    }
    if (coupled.length !== 1) wrongCouplingCount.push(`${id} (${coupled.length} couplings)`);
    if (counterparts.length !== 1) wrongCounterpart.push(`${id} (${counterparts.length} counterparts)`);
    else if (coupled.length === 1 && coupled[0] !== counterparts[0]) wrongCounterpart.push(`${id} (coupled to ${coupled[0]}, counterpart ${counterparts[0]})`);
  }
  check(CHECKS.oneCoupling, wrongCouplingCount, 'source records without exactly one coupling');
  check(CHECKS.oneCounterpart, wrongCounterpart, 'source records without exactly one coupled counterpart');

  const duplicates = [
    ...[...source.idsByKey].filter(([, ids]) => ids.length > 1).map(([key, ids]) => `source "${key}" x${ids.length}`),
    ...[...destination.idsByKey].filter(([, ids]) => ids.length > 1).map(([key, ids]) => `destination "${key}" x${ids.length}`),
  ];
  check(CHECKS.noDuplicates, duplicates, 'natural keys held by more than one record');

  const unsound = [
    ...[...bySource].filter(([, d]) => d.length > 1).map(([id]) => `source ${id} coupled twice`),
    ...[...byDestination].filter(([, s]) => s.length > 1).map(([id]) => `destination ${id} coupled twice`),
    ...couplings.filter((c) => !source.ids.has(sourceIdOf(c))).map((c) => `coupling of missing source ${sourceIdOf(c)}`),
    ...couplings.filter((c) => !destination.ids.has(destinationIdOf(c))).map((c) => `coupling to missing destination ${destinationIdOf(c)}`),
  ];
  check(CHECKS.couplingsSound, unsound, 'bad couplings');
  check(
    CHECKS.noOrphans,
    [...destination.ids].filter((id) => !byDestination.has(id)),
    'destination records without a coupling',
  );

  // Jobs: all closed, counters summed over the run.
  const jobs: JobCheck[] = [];
  for (const id of input.jobIds) {
    const job = await input.store.getJob(id);
    jobs.push(job ? { id, type: job.type, status: job.status, counters: job.counters } : { id, type: 'missing', status: 'missing', counters: emptyCounters() });
  }
  check(
    CHECKS.jobsClosed,
    jobs.filter((j) => j.status !== 'succeeded').map((j) => `${j.id} ${j.type} ${j.status}`),
    'jobs not succeeded',
  );

  const totals = emptyCounters();
  for (const job of jobs) for (const name of COUNTER_NAMES) totals[name] += job.counters[name];
  const sum = (type: JobType): JobCounters => {
    const out = emptyCounters();
    for (const job of jobs.filter((j) => j.type === type)) for (const name of COUNTER_NAMES) out[name] += job.counters[name];
    return out;
  };
  const errorRows: Row[] = input.jobIds.length
    ? await input.store.knex(TABLES.jobErrors).whereIn('job_id', input.jobIds).select('job_id', 'source_record_id')
    : [];
  const created = destination.ids.size - baseline.destinationRecords;
  const newCouplings = couplings.length - baseline.couplings;
  const expectedProcessed = input.expectedProcessed ?? source.ids.size;
  const mismatches: string[] = [];
  const expectEqual = (what: string, actual: number, expected: number): void => {
    if (actual !== expected) mismatches.push(`${what} is ${actual}, expected ${expected}`);
  };
  const sync = sum('Synchronization');
  const coupling = sum('Coupling');
  const hasSync = jobs.some((j) => j.type === 'Synchronization');
  const hasCoupling = jobs.some((j) => j.type === 'Coupling');
  expectEqual('inserted (all jobs)', totals.inserted, created);
  expectEqual('coupled (all jobs)', totals.coupled, newCouplings);
  expectEqual('failed (all jobs)', totals.failed, errorRows.length);
  if (hasCoupling) {
    // Match-based coupling: each record is coupled (matched or created) or failed.
    expectEqual('coupled + failed (coupling jobs)', coupling.coupled + coupling.failed, expectedProcessed);
    expectEqual('unmatched (coupling jobs)', coupling.unmatched, coupling.inserted + coupling.failed);
  } else if (hasSync) {
    // A synchronization pass: each record read is inserted, modified, unchanged, skipped or failed.
    expectEqual(
      'inserted + modified + unchanged + skipped + failed (sync jobs)',
      sync.inserted + sync.modified + sync.unchanged + sync.skipped + sync.failed,
      expectedProcessed,
    );
  }
  checks.push(mismatches.length === 0 ? { name: CHECKS.countersAddUp, ok: true } : { name: CHECKS.countersAddUp, ok: false, detail: mismatches.join('; ') });

  const errorIds = new Set(errorRows.map((r) => String(r.source_record_id)));
  check(
    CHECKS.errorRowsExpected,
    [
      ...[...errorIds].filter((id) => !injected.has(id)).map((id) => `unexpected error row for ${id}`),
      ...[...injected].filter((id) => !errorIds.has(id)).map((id) => `no error row for injected ${id}`),
    ],
    'error row mismatches',
  );

  const problems = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  return {
    ok: problems.length === 0,
    checks,
    problems,
    counts: { source: source.ids.size, destination: destination.ids.size, couplings: couplings.length, errorRows: errorRows.length },
    jobs,
    totals,
  };
}
