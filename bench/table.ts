/**
 * `npx tsx bench/table.ts [bench/results/latest.json]`: the goal rows of a
 * results file as the Markdown table README's Benchmarks section shows.
 */
import { readFileSync } from 'node:fs';
import { markdownTable, type GoalRow } from './goals';

const file = process.argv[2] ?? 'bench/results/latest.json';
const results = JSON.parse(readFileSync(file, 'utf8')) as { goals?: Record<string, GoalRow> };
console.log(markdownTable(results.goals ?? {}));
