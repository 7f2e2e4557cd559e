/**
 * The model-based test runner: drives the engine under test and the reference
 * model through the same generated (settings, seed, operations), compares what
 * each step returned and what both can observe after it, and fails with a
 * readable diff naming the step. `checkModel` is what test files call;
 * `runScenario` replays one scenario (the regression tests).
 *
 * Environment: MODEL_RUNS=N runs N sequences instead of the file's number;
 * MODEL_SEED=S (and MODEL_PATH=P, printed on failure) replays a failure;
 * MODEL_MINIMIZE=0 skips the extra minimization of a shrunk counterexample.
 */
import fc from 'fast-check';
import { ReferenceModel } from './reference-model';
import { scenarioArb, type Scenario } from './generators';
import { COLUMNS, type Observed, type ObservedJob, type Operation, type Side, type StepResult, type System, type Values } from './world';

export type { Scenario };

/** A difference between the engine and the model, at one step (0 = right after open). */
export class ModelMismatch extends Error {
  override readonly name = 'ModelMismatch';
  constructor(
    readonly step: number,
    readonly differences: string[],
    scenario: Scenario,
  ) {
    super(describeMismatch(step, differences, scenario));
  }
}

type Factory = () => System | Promise<System>;

/** Runs one scenario on the engine and the model; throws a ModelMismatch at the first step where they differ. */
export async function runScenario(engine: Factory, scenario: Scenario, model: Factory = () => new ReferenceModel()): Promise<void> {
  const systems: System[] = [];
  try {
    const e = await engine();
    systems.push(e);
    const m = await model();
    systems.push(m);
    await guarded(0, scenario, 'open', () => e.open(scenario.settings, scenario.seed));
    await m.open(scenario.settings, scenario.seed);
    await compareObserved(0, scenario, e, m, []);
    for (const [i, operation] of scenario.operations.entries()) {
      const step = i + 1;
      const got = await guarded(step, scenario, 'apply', () => e.apply(step, operation));
      const want = await m.apply(step, operation);
      await compareObserved(step, scenario, e, m, diffResults(got, want));
    }
  } finally {
    for (const s of systems) await s.close().catch(() => undefined);
  }
}

async function guarded<T>(step: number, scenario: Scenario, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ModelMismatch) throw error;
    throw new ModelMismatch(step, [`the engine's ${what} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`], scenario);
  }
}

async function compareObserved(step: number, scenario: Scenario, e: System, m: System, differences: string[]): Promise<void> {
  const got = await guarded(step, scenario, 'observe', () => e.observe());
  const all = [...differences, ...diffObserved(got, await m.observe())];
  if (all.length > 0) throw new ModelMismatch(step, all, scenario);
}

// ---- comparing ----

function jobLabel(job: ObservedJob): string {
  return `${job.type}${job.direction ? ` ${job.direction}` : ''}`;
}

/** Differences between two step results: refusal, jobs in order with their counters, error rows as a multiset. */
export function diffResults(got: StepResult, want: StepResult): string[] {
  if ('refused' in got || 'refused' in want) {
    return 'refused' in got && 'refused' in want
      ? []
      : [`result: engine ${'refused' in got ? 'refused' : summary(got)}, model ${'refused' in want ? 'refused' : summary(want)}`];
  }
  const out: string[] = [];
  if (got.jobs.length !== want.jobs.length) out.push(`jobs: engine [${got.jobs.map(jobLabel).join(', ')}], model [${want.jobs.map(jobLabel).join(', ')}]`);
  got.jobs.forEach((g, i) => {
    const w = want.jobs[i];
    if (!w) return;
    if (jobLabel(g) !== jobLabel(w)) out.push(`job ${i}: engine ${jobLabel(g)}, model ${jobLabel(w)}`);
    for (const key of Object.keys(w.counters) as (keyof typeof w.counters)[]) {
      if (g.counters[key] !== w.counters[key]) out.push(`job ${i} (${jobLabel(w)}) ${key}: engine ${g.counters[key]}, model ${w.counters[key]}`);
    }
  });
  const rows = (r: typeof got): string[] => r.errors.map((e) => `job ${e.job} ${e.sourceId} ${e.kind}`);
  out.push(...diffMultisets('error row', rows(got), rows(want)));
  return out;
}

function summary(r: Exclude<StepResult, { refused: true }>): string {
  return `${r.jobs.map((j) => `${jobLabel(j)} ${ts(nonZero(j.counters))}`).join('; ') || 'no jobs'}${r.errors.length ? `, ${r.errors.length} error rows` : ''}`;
}

function nonZero(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([, v]) => v !== 0));
}

function diffMultisets(what: string, got: string[], want: string[]): string[] {
  const count = (xs: string[]): Map<string, number> => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const g = count(got);
  const w = count(want);
  const out: string[] = [];
  for (const key of [...new Set([...g.keys(), ...w.keys()])].sort()) {
    const a = g.get(key) ?? 0;
    const b = w.get(key) ?? 0;
    if (a !== b) out.push(`${what} ${key}: engine ${a}, model ${b}`);
  }
  return out;
}

/** null and "" are the same value. */
function normalize(side: Side, values: Values): Values {
  return Object.fromEntries(COLUMNS[side].map((c) => [c, values[c] === '' || values[c] === undefined ? null : values[c]]));
}

/** Differences between two observations, order-insensitive. */
export function diffObserved(got: Observed, want: Observed): string[] {
  const out: string[] = [];
  for (const side of ['local', 'integration'] as const) {
    for (const id of [...new Set([...Object.keys(got[side]), ...Object.keys(want[side])])].sort()) {
      const g = got[side][id] ? ts(normalize(side, got[side][id])) : 'missing';
      const w = want[side][id] ? ts(normalize(side, want[side][id])) : 'missing';
      if (g !== w) out.push(`${side} ${id}: engine ${g}, model ${w}`);
    }
  }
  const byLocal = (o: Observed): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const c of o.couplings) {
      const text = `${c.integrationId}${c.skipped ? ' skipped' : ''} to:${c.toIntegration.result ?? '-'}${c.toIntegration.pending ? '+pending' : ''} from:${c.fromIntegration.result ?? '-'}${c.fromIntegration.pending ? '+pending' : ''}`;
      m.set(c.localId, [...(m.get(c.localId) ?? []), text].sort());
    }
    return m;
  };
  const g = byLocal(got);
  const w = byLocal(want);
  for (const id of [...new Set([...g.keys(), ...w.keys()])].sort()) {
    const a = (g.get(id) ?? ['none']).join(' | ');
    const b = (w.get(id) ?? ['none']).join(' | ');
    if (a !== b) out.push(`coupling of ${id}: engine ${a}, model ${b}`);
  }
  const failures = (o: Observed): string[] => o.uncoupledFailures.map((f) => `${f.side} ${f.id}${f.skipped ? ' skipped' : ''}`);
  out.push(...diffMultisets('uncoupled failure', failures(got), failures(want)));
  return out;
}

// ---- reporting ----

/** A value as TypeScript source: single-quoted strings, bare keys where they are identifiers. */
export function ts(value: unknown): string {
  if (typeof value === 'string') return /^[^'\\\n]*$/.test(value) ? `'${value}'` : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(ts).join(', ')}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : ts(k)}: ${ts(v)}`).join(', ')} }`;
}

/** A scenario as a TypeScript literal, one operation per line, ready to paste into a regression test. */
export function scenarioLiteral(scenario: Scenario): string {
  const list = (items: unknown[], indent: string): string =>
    items.length === 0 ? '[]' : `[${items.map((item) => `\n${indent}  ${ts(item)},`).join('')}\n${indent}]`;
  return [
    '{',
    `  settings: ${ts(scenario.settings)},`,
    `  seed: {\n    local: ${list(scenario.seed.local, '    ')},\n    integration: ${list(scenario.seed.integration, '    ')},\n  },`,
    `  operations: ${list(scenario.operations, '  ')},`,
    '}',
  ].join('\n');
}

/** An entry for REGRESSIONS (test/model/regressions.ts). */
export function regressionLiteral(name: string, scenario: Scenario): string {
  return `  {\n    name: ${ts(name)},\n    scenario: ${scenarioLiteral(scenario).replace(/\n/g, '\n    ')},\n  },`;
}

function describeMismatch(step: number, differences: string[], scenario: Scenario): string {
  const done = scenario.operations.slice(0, step);
  const op: Operation | undefined = scenario.operations[step - 1];
  return [
    step === 0 ? 'After open (the seed):' : `At step ${step} of ${scenario.operations.length}: ${ts(op)}`,
    ...differences.map((d) => `  - ${d}`),
    `Settings: ${ts(scenario.settings)}`,
    `Seed: ${ts(scenario.seed)}`,
    'Operations so far:',
    ...done.map((o, i) => `  ${i + 1}. ${ts(o)}`),
  ].join('\n');
}

async function fails(engine: Factory, scenario: Scenario, model?: Factory): Promise<unknown> {
  try {
    await runScenario(engine, scenario, model);
    return null;
  } catch (error) {
    return error;
  }
}

/**
 * fast-check's shrinking stops at the generator's 5 operations; this drops
 * single operations and seed records for as long as the scenario still fails
 * (at most `budget` replays), so the regression test holds only what matters.
 */
export async function minimize(engine: Factory, scenario: Scenario, budget: number, model?: Factory): Promise<Scenario> {
  let best = scenario;
  let replays = 0;
  const tryOne = async (candidate: Scenario): Promise<boolean> => {
    if (replays++ >= budget) return false;
    if ((await fails(engine, candidate, model)) === null) return false;
    best = candidate;
    return true;
  };
  for (let changed = true; changed && replays < budget;) {
    changed = false;
    for (let i = best.operations.length - 1; i >= 0; i--) {
      if (await tryOne({ ...best, operations: best.operations.filter((_, j) => j !== i) })) changed = true;
    }
    for (const side of ['local', 'integration'] as const) {
      for (let i = best.seed[side].length - 1; i >= 0; i--) {
        if (await tryOne({ ...best, seed: { ...best.seed, [side]: best.seed[side].filter((_, j) => j !== i) } })) changed = true;
      }
    }
  }
  return best;
}

export interface CheckModelOptions {
  /** Names the check in the failure report. */
  name: string;
  engine: Factory;
  /** Sequences to run; MODEL_RUNS overrides. */
  runs: number;
  /** fast-check seed; MODEL_SEED overrides. */
  seed?: number;
  /** Time limit of one sequence (fast-check's `timeout`): exceeding it is a failure. */
  timeoutMs?: number;
  /** The oracle; the reference model unless a test says otherwise. */
  model?: Factory;
  scenarios?: fc.Arbitrary<Scenario>;
  /** Replays spent minimizing a shrunk counterexample; MODEL_MINIMIZE overrides. @default 150 */
  minimizeBudget?: number;
  /** Whether MODEL_RUNS, MODEL_SEED and MODEL_PATH apply (not to checks of the runner itself). @default true */
  environment?: boolean;
}

/** Property: for every generated scenario, the engine and the model agree after every step. */
export async function checkModel(options: CheckModelOptions): Promise<{ runs: number; seed: number }> {
  const env = options.environment === false ? {} : process.env;
  const runs = env.MODEL_RUNS ? Number(env.MODEL_RUNS) : options.runs;
  const seed = env.MODEL_SEED ? Number(env.MODEL_SEED) : options.seed;
  const property = fc.asyncProperty(options.scenarios ?? scenarioArb(), (scenario) => runScenario(options.engine, scenario, options.model));
  const details = await fc.check(property, { numRuns: runs, seed, path: env.MODEL_SEED ? env.MODEL_PATH : undefined, timeout: options.timeoutMs });
  if (!details.failed) return { runs: details.numRuns, seed: details.seed };
  const replay = `MODEL_SEED=${details.seed}${details.counterexamplePath ? ` MODEL_PATH=${details.counterexamplePath}` : ''}`;
  if (!details.counterexample)
    throw new Error(`Model check "${options.name}" failed without a counterexample (${replay}): ${String(details.errorInstance ?? 'interrupted')}`);
  const budget = process.env.MODEL_MINIMIZE ? Number(process.env.MODEL_MINIMIZE) : (options.minimizeBudget ?? 150);
  const [shrunk] = details.counterexample;
  const minimal = budget > 0 ? await minimize(options.engine, shrunk, budget, options.model) : shrunk;
  const error = (await fails(options.engine, minimal, options.model)) ?? details.errorInstance;
  const message = error instanceof Error ? error.message : String(error);
  throw new Error(
    [
      `Model check "${options.name}" failed after ${details.numRuns} of ${runs} sequences (${details.numShrinks} shrinks; replay: ${replay}).`,
      message,
      '',
      'As a regression: add this entry to REGRESSIONS in test/model/regressions.ts (or pass its scenario to runScenario):',
      regressionLiteral(`${options.name}: TODO say what it shows`, minimal),
    ].join('\n'),
  );
}
