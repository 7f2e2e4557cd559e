/**
 * The goals of issue #18 (operating it), as goal rows beside the others: a
 * console page answers in under 200 ms with 100,000 error rows behind it,
 * and the CLI starts in under 0.8 s (beside `node -e ""` in the same run).
 */
import type { Figure, GoalRow } from './goals';
import { round } from './stats';

export interface OperateSection {
  rows: number;
  pagesMs: Record<string, Figure>;
  cliMs: { help: Figure; storeRead: Figure; nodeBaseline: Figure };
}

const PAGE_NAMES: Record<string, string> = {
  errorsFirstPage: 'console: error log, first page',
  errorsDeepPage: 'console: error log, a page halfway down',
  failedFirstPage: 'console: failed couplings, first page',
  failedDeepPage: 'console: failed couplings, a page halfway down',
  searchRecord: 'console: one record searched',
  mappingsPage: 'console: mappings page (counts)',
};

export function operateGoalRows(s: OperateSection): Record<string, GoalRow> {
  const rows: Record<string, GoalRow> = {};
  for (const [key, figure] of Object.entries(s.pagesMs)) {
    rows[`operate.${key}`] = {
      what: `${PAGE_NAMES[key] ?? key}, p50`,
      value: figure.median,
      unit: 'ms',
      baseline: null,
      baselineName: null,
      ratio: null,
      goal: '< 200 ms',
      met: figure.median < 200,
      records: s.rows,
    };
  }
  for (const [key, what] of [
    ['help', 'CLI start: --help'],
    ['storeRead', 'CLI start: jobs --json (a store read)'],
  ] as const) {
    const f = s.cliMs[key];
    rows[`operate.cli.${key}`] = {
      what: `${what}, p50`,
      value: f.median,
      unit: 'ms',
      baseline: s.cliMs.nodeBaseline.median,
      baselineName: 'node -e ""',
      ratio: round(f.median / s.cliMs.nodeBaseline.median, 1),
      goal: '< 800 ms',
      met: f.median < 800,
    };
  }
  return rows;
}
