/**
 * Stops the dev server; after a complete fault run (every section recorded),
 * keeps its results as test/faults/results/latest.json and renders
 * docs/RELIABILITY.md from them. A partial run (one file, -t) leaves both alone,
 * so the document always describes a whole run.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import globalTeardown from '../global-teardown';
import { machine } from './fault-kit';
import { mergeRun, RELIABILITY_DOC, writeDoc, writeLatest } from './reliability-doc';

export default async function faultTeardown(): Promise<void> {
  await globalTeardown();
  if (process.env.TEMPORAL_TEST_BUNDLE?.includes('fault-workflow-bundle-')) rmSync(process.env.TEMPORAL_TEST_BUNDLE, { force: true });
  const dir = process.env.FAULT_RESULTS_DIR;
  if (!dir) return;
  const seconds = (Date.now() - Number(process.env.FAULT_SUITE_STARTED ?? Date.now())) / 1000;
  const { results, missing } = mergeRun(dir, seconds, machine());
  if (missing.length > 0) {
    console.log(
      `\nFault results of this run are in ${path.relative(process.cwd(), dir)}; not a complete run (missing: ${missing.join(', ')}), so docs/RELIABILITY.md was left as it was.`,
    );
    return;
  }
  writeLatest(results);
  writeDoc(results);
  console.log(`\nWrote ${path.relative(process.cwd(), RELIABILITY_DOC)} (${results.sections.map((s) => `${s.id} ${s.passed}/${s.runs}`).join(', ')}).`);
}
