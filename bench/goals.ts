/**
 * The goals of issue #16, each as one row `{ what, value, unit, baseline,
 * baselineName, ratio, goal, met }` built from the measured sections, so a
 * reader sees goal and result side by side. Baselines come from the same run
 * unless the row says otherwise ("today": the figure the issue quotes).
 * A quick run measures smaller sizes; its rows say how many records they
 * cover, and the large-run time goals scale with it (100 s per 1,000,000).
 */
import { round } from './stats';
import { liveGoalRows, type LiveSection } from './live-goals';
import { operateGoalRows, type OperateSection } from './operate-goals';

export interface Figure {
  median: number;
  samples: number[];
}

export const figure = (xs: readonly number[], digits = 0): Figure => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { median: round(mid, digits), samples: xs.map((x) => round(x, digits)) };
};

export interface GoalRow {
  what: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineName: string | null;
  /** value / baseline. */
  ratio: number | null;
  goal: string;
  /** null: a figure to report, with no threshold. */
  met: boolean | null;
  records?: number;
}

/** The shapes of the sections the goals read (see bench/run.ts). */
export interface BulkSection {
  records: number;
  inserts: Figure;
  updates: Figure;
  floorInserts: Figure;
  floorUpdates: Figure;
  rawInserts: Figure;
  rawUpdates: Figure;
  peer?: { records: number; inFlight: number; recordsPerSecond: Figure };
}
export interface MillionSection {
  records: number;
  seconds: number;
  history: { maxEvents: number; runs: number };
  worker: { peakRssMb: number };
}
export interface SingleSection {
  singleSync: { p50Ms: Figure; concurrentPerSecond: Figure };
  emptyWorkflow: { p50Ms: Figure; concurrentPerSecond: Figure };
  concurrentRuns: number;
}
export interface MatchSection {
  records: number;
  recordsPerSecond: Figure;
  maxHistoryEvents: Figure;
  peer: { records: number; inFlight: number; recordsPerSecond: Figure };
  large?: { records: number; recordsPerSecond: number; coupled: number; expectedCoupled: number; history: { maxEvents: number } } | null;
}

/** Figures the issue quotes as today's, for the goals that are stated against them (not measured in this run). */
export const TODAY = { postgresInsertsPerSecond: 8624, millionSeconds: 226.9, millionPeakRssMb: 383 };

const ratioRow = (what: string, unit: string, value: number, baseline: number, baselineName: string, atLeast: number | null, records?: number): GoalRow => {
  const ratio = round(value / baseline, 2);
  return {
    what,
    value,
    unit,
    baseline,
    baselineName,
    ratio,
    goal: atLeast === null ? 'reported' : `>= ${atLeast} x ${baselineName}`,
    met: atLeast === null ? null : ratio >= atLeast,
    ...(records ? { records } : {}),
  };
};

const limitRow = (
  what: string,
  unit: string,
  value: number,
  limit: number,
  records: number,
  baseline: number | null = null,
  baselineName: string | null = null,
): GoalRow => ({
  what,
  value,
  unit,
  baseline,
  baselineName,
  ratio: baseline ? round(value / baseline, 2) : null,
  goal: `< ${limit} ${unit}`,
  met: value < limit,
  records,
});

export function goalRows(sections: Record<string, unknown>): Record<string, GoalRow> {
  const rows: Record<string, GoalRow> = {};
  const sqlite = sections['bulk.sqlite'] as BulkSection | undefined;
  if (sqlite) {
    const n = sqlite.records;
    rows['bulk.sqlite.updates.vsFloor'] = ratioRow(
      'bulk SQLite updates',
      'records/s',
      sqlite.updates.median,
      sqlite.floorUpdates.median,
      "the floor's updates",
      0.8,
      n,
    );
    rows['bulk.sqlite.updates.vsInserts'] = ratioRow(
      'bulk SQLite updates',
      'records/s',
      sqlite.updates.median,
      sqlite.inserts.median,
      'our own inserts',
      0.8,
      n,
    );
    rows['bulk.sqlite.inserts.vsFloor'] = ratioRow(
      'bulk SQLite inserts',
      'records/s',
      sqlite.inserts.median,
      sqlite.floorInserts.median,
      "the floor's inserts",
      0.8,
      n,
    );
    rows['bulk.sqlite.inserts.vsRawLimit'] = ratioRow(
      'bulk SQLite inserts',
      'records/s',
      sqlite.inserts.median,
      sqlite.rawInserts.median,
      'the raw limit',
      null,
      n,
    );
    if (sqlite.peer)
      rows['peer.bulk'] = ratioRow(
        'bulk sync (SQLite inserts) vs the peer',
        'records/s',
        sqlite.inserts.median,
        sqlite.peer.recordsPerSecond.median,
        `the peer (${sqlite.peer.inFlight} activities in flight)`,
        20,
        n,
      );
  }
  const pg = sections['bulk.postgres'] as BulkSection | undefined;
  if (pg) {
    const n = pg.records;
    rows['bulk.postgres.inserts.vsFloor'] = ratioRow(
      'bulk PostgreSQL inserts',
      'records/s',
      pg.inserts.median,
      pg.floorInserts.median,
      "the floor's inserts",
      0.8,
      n,
    );
    rows['bulk.postgres.updates.vsFloor'] = ratioRow(
      'bulk PostgreSQL updates',
      'records/s',
      pg.updates.median,
      pg.floorUpdates.median,
      "the floor's updates",
      0.8,
      n,
    );
    rows['bulk.postgres.inserts.vsToday'] = ratioRow(
      'bulk PostgreSQL inserts',
      'records/s',
      pg.inserts.median,
      TODAY.postgresInsertsPerSecond,
      "today's inserts (not this run)",
      2,
      n,
    );
  }
  const million = sections['bulk.million'] as MillionSection | undefined;
  if (million) {
    const n = million.records;
    const limit = (100 * n) / 1_000_000;
    rows['million.seconds'] = {
      what: `one bulk run of ${n} records (SQLite)`,
      value: million.seconds,
      unit: 's',
      baseline: n === 1_000_000 ? TODAY.millionSeconds : null,
      baselineName: n === 1_000_000 ? 'today (not this run)' : null,
      ratio: n === 1_000_000 ? round(million.seconds / TODAY.millionSeconds, 2) : null,
      goal: `<= ${limit} s (100 s per 1,000,000)`,
      met: million.seconds <= limit,
      records: n,
    };
    rows['million.historyEvents'] = limitRow('history events per run, the large bulk run', 'events', million.history.maxEvents, 10_000, n);
    rows['million.workerPeakRss'] = limitRow(
      'worker peak RSS, the large bulk run',
      'MB',
      million.worker.peakRssMb,
      300,
      n,
      TODAY.millionPeakRssMb,
      'today at 1,000,000 (not this run)',
    );
  }
  const single = sections.single as SingleSection | undefined;
  if (single) {
    const p50 = single.singleSync.p50Ms.median;
    const empty = single.emptyWorkflow.p50Ms.median;
    rows['single.p50'] = {
      what: 'single sync p50 latency',
      value: p50,
      unit: 'ms',
      baseline: empty,
      baselineName: 'the empty workflow p50',
      ratio: round(p50 / empty, 2),
      goal: '<= the empty workflow p50 + 10 ms',
      met: p50 <= empty + 10,
    };
    rows['single.concurrent'] = ratioRow(
      `single syncs, ${single.concurrentRuns} at once`,
      'workflows/s',
      single.singleSync.concurrentPerSecond.median,
      single.emptyWorkflow.concurrentPerSecond.median,
      "the empty workflow's rate",
      0.8,
    );
  }
  const match = sections.match as MatchSection | undefined;
  if (match) {
    rows['peer.match'] = ratioRow(
      'match-based coupling vs the peer',
      'records/s',
      match.recordsPerSecond.median,
      match.peer.recordsPerSecond.median,
      `the peer (${match.peer.inFlight} activities in flight)`,
      20,
      match.records,
    );
    const large = match.large;
    const n = large ? large.records : match.records;
    const rate = large ? large.recordsPerSecond : match.recordsPerSecond.median;
    rows['match.large.rate'] = {
      what: `match-based coupling ${n} x ${n}`,
      value: round(rate),
      unit: 'records/s',
      baseline: null,
      baselineName: null,
      ratio: null,
      goal: '>= 10000 records/s',
      met: rate >= 10_000,
      records: n,
    };
    rows['match.large.historyEvents'] = limitRow(
      `history events per run, matching ${n} x ${n}`,
      'events',
      large ? large.history.maxEvents : match.maxHistoryEvents.median,
      10_000,
      n,
    );
    if (large)
      rows['match.large.completes'] = {
        what: `matching ${n} x ${n} completes, every match coupled`,
        value: large.coupled,
        unit: 'couplings',
        baseline: large.expectedCoupled,
        baselineName: 'the matches in the data',
        ratio: round(large.coupled / large.expectedCoupled, 2),
        goal: '= the matches in the data',
        met: large.coupled === large.expectedCoupled,
        records: n,
      };
  }
  const live = sections.live as LiveSection | undefined;
  if (live) Object.assign(rows, liveGoalRows(live));
  const operate = sections.operate as OperateSection | undefined;
  if (operate) Object.assign(rows, operateGoalRows(operate));
  return rows;
}

/** The goal rows as the Markdown table of README's Benchmarks section. */
export function markdownTable(goals: Record<string, GoalRow>): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = ['| goal | records | measured | baseline | ratio | target | met |', '|---|---:|---:|---|---:|---|---|'];
  for (const g of Object.values(goals)) {
    const baseline = g.baseline === null ? '' : `${n(g.baseline)} ${g.unit} (${g.baselineName})`;
    const met = g.met === null ? 'reported' : g.met ? 'yes' : '**no**';
    lines.push(
      `| ${g.what} | ${g.records === undefined ? '' : n(g.records)} | ${n(g.value)} ${g.unit} | ${baseline} | ${g.ratio ?? ''} | ${g.goal} | ${met} |`,
    );
  }
  return lines.join('\n');
}
