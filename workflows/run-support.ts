/**
 * What every workflow does first and last: validate the input, tag the run for
 * the Web UI, and surface a non-retryable activity failure as the run's own
 * clear failure.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  makeContinueAsNewFunc,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type Workflow,
  log,
} from '@temporalio/workflow';
import { progressQuery } from '../common/definitions';
import type { z } from 'zod';
import type { INPUT_SCHEMAS } from '../common/inputs';
import { FAILURE_TYPES } from '../common/constants';
import { MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import { emptyCounters, type RunKind, type RunProgress, type RunResult } from '../common/types';
import { InvalidInputError, parseInput } from '../common/validate';
import type { Proxies } from './activity-proxies';

type InputSchemas = typeof INPUT_SCHEMAS;

/**
 * The input schemas, loaded on first use. Our workflow modules are preloaded and shared by all
 * runs, but zod cannot be (it breaks when frozen), so the reusable V8 context evaluates it again
 * in every run that loads it: a static import would build zod and every schema (more CPU than a
 * whole single-record sync) in each run, whichever workflow it is.
 */
function inputSchemas(): InputSchemas {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../common/inputs') as typeof import('../common/inputs')).INPUT_SCHEMAS;
}

/** Parses a workflow's input with its schema, or fails the run, non-retryable, naming the fields. */
export function validateInput<K extends keyof InputSchemas>(kind: K, input: unknown): z.infer<InputSchemas[K]> {
  try {
    return parseInput(kind, inputSchemas()[kind], input) as z.infer<InputSchemas[K]>;
  } catch (error) {
    if (error instanceof InvalidInputError)
      throw ApplicationFailure.create({ message: error.message, type: FAILURE_TYPES.invalidInput, nonRetryable: true, details: [error.fields] });
    throw error;
  }
}

/** Sets the search attributes the Web UI filters on (mapping, run kind); a run over several mappings (null) has no mapping. */
export function tagRun(kind: RunKind, mapping: string | null): void {
  const current = workflowInfo().typedSearchAttributes;
  if ((mapping === null || current.get(MAPPING_SEARCH_ATTRIBUTE) === mapping) && current.get(RUN_KIND_SEARCH_ATTRIBUTE) === kind) return;
  upsertSearchAttributes([...(mapping === null ? [] : [{ key: MAPPING_SEARCH_ATTRIBUTE, value: mapping }]), { key: RUN_KIND_SEARCH_ATTRIBUTE, value: kind }]);
}

/** A non-retryable activity failure (unknown mapping, bad field) becomes the workflow's own failure, message first. */
export function clarify(error: unknown): unknown {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.nonRetryable) {
    return ApplicationFailure.create({ message: error.cause.message, type: error.cause.type ?? undefined, nonRetryable: true, cause: error });
  }
  return error;
}

/** The run's progress, answered by the `progress` query; the workflow updates it in place. */
export function trackProgress(mapping: string, initial: Partial<RunProgress> = {}): RunProgress {
  const progress: RunProgress = {
    mapping,
    phase: 'starting',
    direction: null,
    jobId: null,
    counters: emptyCounters(),
    finishedJobs: [],
    recordsScanned: 0,
    batchesCompleted: 0,
    batchesInFlight: 0,
    ...initial,
  };
  setHandler(progressQuery, () => progress);
  return progress;
}

/**
 * Continues as new keeping the run's memo (the fingerprint of what it was
 * asked), so a later start can still tell whether it asks the same thing.
 */
export function continueKeepingMemo<W extends Workflow>(...args: Parameters<W>): Promise<never> {
  return makeContinueAsNewFunc<W>({ memo: workflowInfo().memo })(...args);
}

/** The run's lease was taken by another run: it stops, its job closed as failed, writing nothing more. */
export function leaseLost(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.leaseLost;
}

/** The lease request of this run chain on a mapping: held by workflow id and first run id, so it survives continue-as-new. */
export function runLock(mapping: string): { mapping: string; holder: string } {
  const info = workflowInfo();
  return { mapping, holder: `${info.workflowId}#${info.firstExecutionRunId}` };
}

/** The run itself was cancelled (not only an inner scope): stop starting batches and close the job as cancelled. */
export function rootCancelled(): boolean {
  return CancellationScope.current().consideredCancelled;
}

/** The run's result, logged through the SDK's workflow logger (replay-aware: once per run, not per replay). */
export function logRunDone(kind: RunKind, result: RunResult): RunResult {
  log.info('Run finished', {
    kind,
    mapping: result.mapping,
    jobs: result.jobs.map((j) => ({ jobId: j.jobId, type: j.type, status: j.status, counters: j.counters })),
  });
  return result;
}

/** Applies the Schedule's idle back-off; never fails the run it ends (a Schedule deleted meanwhile, a server hiccup). */
export async function adjustSchedule(acts: Proxies, mapping: string, foundWork: boolean): Promise<void> {
  try {
    await acts.control.adjustScheduleInterval({ mapping, foundWork });
  } catch (error) {
    log.warn('Could not adjust the schedule interval', { mapping, foundWork, message: (error as Error).message });
  }
}
