/**
 * Filtered Jest runs exit on their own (`npm run test:exits`, run by CI after
 * `npm test`). A name filter (`-t`) skips tests, and Jest then skips every
 * `beforeAll`/`afterAll` whose scope has no test left to run: whatever a test
 * file opens outside its hooks (at module top level, in a `describe` body), or
 * closes in a hook or test of another scope, stays open and the run never
 * exits. Two runs, both `--runInBand` with the suite's own config:
 *
 * 1. every test file, with a name that matches none of their tests;
 * 2. one test of each file in SAMPLE, by its full name, all in one run (each
 *    file's other tests and scopes skipped).
 *
 * Each must print its summary and exit within GRACE_MS of it. A run covers
 * every file it loads (one file's open handle keeps the whole process alive),
 * so a passing check costs two runs. A run that hangs is killed and its files
 * are run one at a time to name the ones that hang, each with what
 * `--detectOpenHandles` says was left open.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const JEST = path.join(ROOT, 'node_modules/jest/bin/jest.js');
/** How long a run may take to exit once it has printed its summary. */
const GRACE_MS = 10_000;
/** How long a run may take to reach its summary at all. */
const RUN_LIMIT_MS = 10 * 60_000;
const NO_MATCH = 'filtered-exits: no test has this name';

/**
 * One quick test per file (full name: describe titles and test title), chosen
 * so that other tests or scopes of the file with hooks of their own are
 * skipped. Files whose only test is slow are left to run 1 (their one name
 * would run the whole file, as a path filter does).
 */
const SAMPLE: Record<string, string> = {
  'test/activities/throttle-and-transient.test.ts': '5xx and dropped connections pass; a refused secret does not',
  'test/cli/cli.test.ts': 'mappings import and list',
  'test/common/quick-inputs.test.ts': 'the usual inputs take the quick path',
  'test/connectors/business-central-connector.test.ts':
    'BusinessCentralConnector against the emulator getMany: ids in chunks and pages; unknown and non-GUID ids are absent',
  'test/connectors/business-central-sync.test.ts': 'a bulk run and a single-record sync creating the same record at once make one customer and one coupling',
  'test/connectors/dataverse-connector.test.ts': 'the token is fetched once and reused across requests',
  'test/connectors/dataverse-odata.test.ts': 'URLs a collection URL is fully encoded, aliases included',
  'test/connectors/dataverse-sync.test.ts': "a batch that gives up writes error rows for exactly its range of Dataverse records, in the service's id order",
  'test/connectors/match-index.test.ts': 'match indexes on postgres the statements name the very expression findCandidates compares',
  'test/domain/matching.test.ts': 'normalizeMatchValue empty values add no condition; numbers compare as text',
  'test/domain/modified-on.test.ts': 'modified-on row versions compare as integers, however long',
  'test/domain/sync-decision.test.ts': 'field plan columns that do not exist are named',
  'test/domain/transform.test.ts': 'applyTransformations [{"type":"lowercase"}] on "ÉCOLE"',
  'test/e2e/web-ui.test.ts': 'a mistyped input in the Web UI fails at once, naming the field, and writes nothing',
  'test/faults/bad-input.test.ts': 'bad-input corpus has at least 100 entries through both doors, for every workflow and kind of mistake',
  'test/faults/concurrency.test.ts': 'bulkSync and singleSync over the same records at the same time leave both sides consistent',
  'test/faults/payload-codec.test.ts': 'AesGcmPayloadCodec rotation: a new key encrypts, the previous one still decrypts what it wrote',
  'test/faults/secrets.test.ts': 'redact() bearer token header',
  'test/faults/temporal-connection.test.ts': 'configuration from the environment TEMPORAL_TLS turns TLS on with nothing else, and off explicitly',
  'test/store/store.test.ts': 'store job rows are created once and error rows are keyed by job and record',
  'test/worker/entry-points.test.ts': 'Temporal CLI resolution the cached build is found without building again',
  'test/worker/systems-config.test.ts': 'a missing secret variable, a bad company id and an unknown type are named',
  'test/workflows/bulk-sync.test.ts': 'bad input fails at once, naming the field, and writes nothing',
  'test/workflows/bundle.test.ts': 'workflow code imports worker-only modules as types at most',
  'test/workflows/coupling.test.ts':
    'two batches claiming one candidate at once: the smallest id holds the claim whichever arrives first, the loser tries its next priority',
  'test/workflows/trust.test.ts': 'a single sync of a record that does not exist fails, naming the record, the table and the side',
  'test/workflows/match-determinism.test.ts': 'the stronger priority wins a contested candidate; ties go to the smallest local id',
  'test/activities/restore.test.ts':
    'a restore that fails between removing the old coupling and writing the new one leaves the record coupled, and the retry restores it once',
  'test/model/reference-model.test.ts': 'reference model: SEMANTICS.md "At a glance" never synced: pending both ways; agreeing values are recorded as synced',
  'test/workflows/foundation.test.ts': 'foundation an unknown mapping fails at once, non-retryable, naming the field',
  'test/workflows/single-sync.test.ts': 'singleSync refuses a direction the mapping does not allow, naming the field',
  'test/workflows/triggers.test.ts': 'a team adds the plugin to its own worker and keeps its own workflows',
  'test/workflows/worker-kill.test.ts': 'matchBasedCoupling: worker killed mid-run, a new worker finishes it with no duplicate',
};

interface JestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

interface RunOutcome {
  /** Seconds from the start to the summary line, or null when none was printed. */
  summaryAfter: number | null;
  /** Seconds from the summary line to the exit, or null when the run had to be killed. */
  exitAfterSummary: number | null;
  code: number | null;
  output: string;
  json: JestJson | null;
}

const SUMMARY = /^\d+ passed, \d+ failed, \d+ skipped$/m; // test/summary-reporter.js

function runJest(args: string[]): Promise<RunOutcome> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'filtered-exits-'));
  const jsonFile = path.join(dir, 'results.json');
  const started = Date.now();
  return new Promise((resolve) => {
    // A process group of its own, so a run that hangs is killed with whatever it started.
    const child = spawn(process.execPath, [JEST, '--runInBand', '--json', `--outputFile=${jsonFile}`, ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let summaryAt: number | null = null;
    let killed = false;
    const kill = (): void => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    let deadline = setTimeout(kill, RUN_LIMIT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (summaryAt === null && SUMMARY.test(output)) {
        summaryAt = Date.now();
        clearTimeout(deadline);
        deadline = setTimeout(kill, GRACE_MS);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(deadline);
      const exitedAt = Date.now();
      let json: JestJson | null = null;
      try {
        json = JSON.parse(readFileSync(jsonFile, 'utf8')) as JestJson;
      } catch {
        /* no results written */
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        summaryAfter: summaryAt === null ? null : (summaryAt - started) / 1000,
        exitAfterSummary: killed || summaryAt === null ? null : (exitedAt - summaryAt) / 1000,
        code: killed ? null : code,
        output,
        json,
      });
    });
  });
}

const regexEscape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const relative = (file: string): string => path.relative(ROOT, file).split(path.sep).join('/');

/**
 * Each file of a run that hung, on its own: the ones that hang again. When no
 * test ran, each is also loaded with --detectOpenHandles and no dev server
 * (Jest can hang collecting handles beside the server's native runtime), whose
 * report says where the handle was opened.
 */
async function culprits(files: string[], pattern: string): Promise<string> {
  const found: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'filtered-exits-'));
  const noServer = path.join(dir, 'no-server.js');
  writeFileSync(noServer, 'module.exports = async () => {};\n');
  for (const file of files) {
    const alone = await runJest([file, '-t', pattern]);
    if (alone.summaryAfter === null || alone.exitAfterSummary !== null) continue;
    let report = `(\`npx jest --runInBand ${file} -t '${pattern}' --detectOpenHandles\` may say what was left open)`;
    if (pattern === NO_MATCH) {
      const again = await runJest([file, '-t', pattern, '--detectOpenHandles', `--globalSetup=${noServer}`, `--globalTeardown=${noServer}`]);
      const at = again.output.indexOf('Jest has detected');
      if (at >= 0) report = again.output.slice(at, at + 3000);
    }
    found.push(`${file}: does not exit on its own either.\n${report}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return found.length ? found.join('\n\n') : 'no file hangs on its own: a handle left open by one file is closed only by another?';
}

/** Checks one run: what went wrong (null when nothing did) and its results. */
async function check(
  label: string,
  files: string[],
  pattern: string,
  expect: (json: JestJson) => string | null,
): Promise<{ problem: string | null; json: JestJson | null }> {
  process.stdout.write(`filtered-exits: ${label} ... `);
  const run = await runJest([...files, '-t', pattern]);
  const counts = run.output.match(SUMMARY)?.[0] ?? 'no summary';
  if (run.summaryAfter === null) {
    console.log('FAILED');
    return { problem: `${label}: no summary within ${RUN_LIMIT_MS / 60_000} min (exit code ${run.code}):\n${run.output.slice(-4000)}`, json: run.json };
  }
  if (run.exitAfterSummary === null) {
    console.log(`FAILED: ${counts}, summary after ${run.summaryAfter.toFixed(1)} s, still running ${GRACE_MS / 1000} s later (killed)`);
    const loaded = run.json ? run.json.testResults.map((r) => relative(r.name)).sort() : files;
    console.log(`filtered-exits: running its ${loaded.length} files one at a time to find the ones that hang ...`);
    return { problem: `${label}: did not exit within ${GRACE_MS / 1000} s of its summary.\n${await culprits(loaded, pattern)}`, json: run.json };
  }
  const problem = run.code !== 0 ? `exit code ${run.code}:\n${run.output.slice(-4000)}` : run.json ? expect(run.json) : 'no JSON results';
  console.log(`${problem ? 'FAILED' : 'ok'}: ${counts}, summary after ${run.summaryAfter.toFixed(1)} s, exited ${run.exitAfterSummary.toFixed(1)} s later`);
  return { problem: problem && `${label}: ${problem}`, json: run.json };
}

async function main(): Promise<void> {
  const started = Date.now();
  const failures: string[] = [];

  const all = await check(`every test file, -t '${NO_MATCH}'`, [], NO_MATCH, (json) =>
    json.numTotalTests > 0 && json.numPendingTests === json.numTotalTests
      ? null
      : `expected every test skipped, got ${json.numPassedTests} passed, ${json.numFailedTests} failed of ${json.numTotalTests}`,
  );
  if (all.problem) failures.push(all.problem);
  if (!all.json) throw new Error(`the first run wrote no JSON results:\n${failures.join('\n')}`);
  const catalog = new Map(all.json.testResults.map((r) => [relative(r.name), r.assertionResults.map((a) => a.fullName)]));

  // The sample must name tests that exist, or the run would check less than it says.
  const stale = Object.entries(SAMPLE).filter(([file, name]) => !(catalog.get(file) ?? []).includes(name));
  for (const [file, name] of stale) failures.push(`SAMPLE names no test of ${file}: "${name}" (renamed or moved? pick another of its tests)`);
  const unsampled = [...catalog.keys()].filter((file) => !(file in SAMPLE));

  if (stale.length === 0) {
    const files = Object.keys(SAMPLE);
    const pattern = `^(?:${Object.values(SAMPLE).map(regexEscape).join('|')})$`;
    const sample = await check(`one test from each of ${files.length} files, by full name`, files, pattern, (json) => {
      const passed = json.testResults.flatMap((r) => r.assertionResults.filter((a) => a.status === 'passed').map((a) => `${relative(r.name)}: ${a.fullName}`));
      const wanted = Object.entries(SAMPLE).map(([file, name]) => `${file}: ${name}`);
      const missing = wanted.filter((w) => !passed.includes(w));
      const extra = passed.filter((p) => !wanted.includes(p));
      if (missing.length || extra.length)
        return `expected exactly the sample to run and pass; did not: ${JSON.stringify(missing)}; also ran: ${JSON.stringify(extra)}`;
      return null;
    });
    if (sample.problem) failures.push(sample.problem);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (unsampled.length) console.log(`filtered-exits: not in SAMPLE (checked by the first run only): ${unsampled.join(', ')}`);
  if (failures.length) {
    console.error(`\nfiltered-exits: ${failures.length} problem(s) in ${seconds} s\n\n${failures.join('\n\n')}`);
    process.exit(1);
  }
  console.log(`filtered-exits: every run exited within ${GRACE_MS / 1000} s of its summary (${seconds} s in all)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
