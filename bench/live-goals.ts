/**
 * The goals of issue #17 (live sync), as goal rows beside #16's (bench/goals.ts):
 * change-to-counterpart latency on each side, and a storm coalesced into few
 * sync jobs that write every record once.
 */
import type { Figure, GoalRow } from './goals';

export interface LiveSection {
  changesPerSide: number;
  bcToDataverse: { p50Ms: Figure; p99Ms: Figure };
  dataverseToBc: { p50Ms: Figure; p99Ms: Figure };
  storm: { changes: number; seconds: number; syncJobs: Figure; written: Figure; failed: Figure; allArrived: boolean };
}

const row = (what: string, value: number, unit: string, goal: string, met: boolean, records: number): GoalRow => ({
  what,
  value,
  unit,
  baseline: null,
  baselineName: null,
  ratio: null,
  goal,
  met,
  records,
});

export function liveGoalRows(live: LiveSection): Record<string, GoalRow> {
  const rows: Record<string, GoalRow> = {};
  for (const [key, name, side] of [
    ['bcToDataverse', 'BC to Dataverse', live.bcToDataverse],
    ['dataverseToBc', 'Dataverse to BC', live.dataverseToBc],
  ] as const) {
    rows[`live.${key}.p50`] = row(`live sync latency ${name}, p50`, side.p50Ms.median, 'ms', '< 1000 ms', side.p50Ms.median < 1000, live.changesPerSide);
    rows[`live.${key}.p99`] = row(`live sync latency ${name}, p99`, side.p99Ms.median, 'ms', '< 3000 ms', side.p99Ms.median < 3000, live.changesPerSide);
  }
  const { storm } = live;
  rows['live.storm.jobs'] = row(
    `storm of ${storm.changes} changes in ${storm.seconds} s: sync jobs`,
    storm.syncJobs.median,
    'jobs',
    '< 50 jobs',
    storm.syncJobs.median < 50,
    storm.changes,
  );
  rows['live.storm.writtenOnce'] = row(
    'storm: records written (each once, none failed)',
    storm.written.median,
    'records',
    `= ${storm.changes}`,
    storm.allArrived && storm.written.median === storm.changes && storm.failed.median === 0,
    storm.changes,
  );
  return rows;
}
