/**
 * liveSync: one long-running workflow per mapping (`live-sync/<mapping>`),
 * started or told of changes with signal-with-start. Change notifications
 * (ids on one side, or "many changed") are coalesced for a debounce window,
 * then synchronized by a bulkSync child run, in the direction the changed side
 * is read from: ids as given ids, "many" as an incremental run. The children
 * are ordinary runs (job rows, error rows, the mapping's lease), so a live
 * change and a scheduled run never write the same mapping at once: a child
 * that finds the mapping busy leaves its changes pending and tries again later.
 * Carries ids and counts only; continues as new after `runsPerWorkflow` runs.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  executeChild,
  log,
  makeContinueAsNewFunc,
  ParentClosePolicy,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FAILURE_TYPES, WORKER_WAIT_MAX_MS } from '../common/constants';
import { liveChangesSignal, livePauseSignal, liveResumeSignal, liveStopSignal, liveSyncStateQuery } from '../common/definitions';
import type { LiveChange, LivePending, LiveSyncInput } from '../common/inputs';
import type { LiveSyncState, Side, SyncDirection } from '../common/types';
import { parseInput } from '../common/validate';
import { proxiesFor, type Proxies } from './activity-proxies';
import { bulkSyncWorkflow } from './bulk-sync';
import { clarify, tagRun, validateInput } from './run-support';

/** Ids kept per side; past this many, the side counts as "many changed" (an incremental run reads them all). */
const MAX_PENDING_IDS = 5_000;
/** Waits after a run that could not go ahead: doubling from the first, up to the last. */
const BUSY_WAIT_MS = { first: 1_000, max: 60_000 };
const FAILED_WAIT_MS = { first: 5_000, max: 300_000 };

/** The patch marking runs whose short debounce waits in the worker (an activity) instead of on a server timer. */
const WORKER_DEBOUNCE = 'live-debounce-in-worker';

const NATURAL: Record<Side, SyncDirection> = { local: 'ToIntegrationTable', integration: 'FromIntegrationTable' };

/** A notification as the signal carried it, or null when it is not a valid change (logged and counted, never run). */
function parseChange(raw: unknown): LiveChange | null {
  try {
    // Loaded on first use, as run-support loads the input schemas (see there).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return parseInput('a live change', (require('../common/inputs') as typeof import('../common/inputs')).liveChangeSchema, raw);
  } catch (error) {
    log.warn('Live sync refused a change notification', { reason: (error as Error).message });
    return null;
  }
}

function mappingBusy(error: unknown): boolean {
  return error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.mappingBusy;
}

/**
 * Waits `ms` in the worker (activities/live-wait.ts), or until `cut` holds.
 * A wait cut short is left to finish on its own (at most two seconds, one
 * more workflow task); a failed one ends the window early, which only makes
 * a run sooner.
 */
async function waitInWorker(acts: Proxies, ms: number, cut: () => boolean): Promise<void> {
  if (cut()) return;
  let waited = false;
  void acts.live
    .liveDebounce({ ms })
    .catch(() => undefined)
    .finally(() => {
      waited = true;
    });
  await condition(() => waited || cut());
}

export async function liveSyncWorkflow(rawInput: LiveSyncInput): Promise<LiveSyncState> {
  const input = validateInput('liveSync', rawInput);
  tagRun('liveSync', input.mapping);
  const acts = proxiesFor(input.retry);
  const info = workflowInfo();
  const debounceMs = input.debounceMs ?? 500;
  const maxBatch = input.maxBatch ?? 1000;
  const runsPerWorkflow = input.runsPerWorkflow ?? 100;
  const pending = {
    local: new Set(input.pending?.local ?? []),
    integration: new Set(input.pending?.integration ?? []),
    many: new Set<Side>(input.pending?.many ?? []),
  };
  let paused = input.paused === true;
  let stopping = false;
  const state: LiveSyncState = {
    mapping: input.mapping,
    phase: 'waiting',
    paused,
    pending: { local: 0, integration: 0, many: [] },
    runs: input.runs ?? 0,
    notifications: 0,
    refused: 0,
    ignored: 0,
    lastRun: null,
  };
  const pendingIds = (): number => pending.local.size + pending.integration.size;
  const hasPending = (): boolean => pendingIds() > 0 || pending.many.size > 0;

  setHandler(liveChangesSignal, (raw) => {
    state.notifications++;
    const change = parseChange(raw);
    if (!change) {
      state.refused++;
      return;
    }
    if (change.many) {
      pending.many.add(change.side);
      return;
    }
    const ids = pending[change.side];
    for (const id of change.ids ?? []) {
      if (ids.size >= MAX_PENDING_IDS) {
        pending.many.add(change.side);
        return;
      }
      ids.add(id);
    }
  });
  setHandler(livePauseSignal, () => {
    paused = true;
  });
  setHandler(liveResumeSignal, () => {
    paused = false;
  });
  setHandler(liveStopSignal, () => {
    stopping = true;
  });
  setHandler(liveSyncStateQuery, () => ({
    ...state,
    paused,
    pending: { local: pending.local.size, integration: pending.integration.size, many: [...pending.many] },
  }));

  // Which directions the mapping runs: a change on a side it does not read from has nothing to synchronize.
  let directions: SyncDirection[];
  try {
    ({ directions } = await acts.control.planRun({ mapping: input.mapping }));
  } catch (error) {
    // An unknown or broken mapping fails the live sync at once, its message first.
    throw clarify(error);
  }
  const directionOf = (side: Side): SyncDirection | null => (directions.includes(NATURAL[side]) ? NATURAL[side] : null);

  /** Until the first run says the mapping has no Schedule that backs off (checked again after continue-as-new). */
  let scheduleBacksOff = true;
  let busyWait = BUSY_WAIT_MS.first;
  let failedWait = FAILED_WAIT_MS.first;
  let runsThisWorkflow = 0;

  /** One child run for one side; on failure its changes go back to pending, and the loop waits before the next. */
  const runSide = async (side: Side, direction: SyncDirection): Promise<void> => {
    const many = pending.many.has(side);
    const ids = many ? [] : [...pending[side]].slice(0, maxBatch);
    if (many) {
      pending.many.delete(side);
      pending[side].clear();
    } else for (const id of ids) pending[side].delete(id);
    state.runs++;
    runsThisWorkflow++;
    const workflowId = `${info.workflowId}/run-${state.runs}-${info.firstExecutionRunId.slice(0, 8)}`;
    try {
      const result = await executeChild(bulkSyncWorkflow, {
        workflowId,
        args: [{ mapping: input.mapping, direction, ...(many ? {} : { recordIds: ids, side }), ...(input.retry ? { retry: input.retry } : {}) }],
        // A live sync that is stopped or ends lets its run finish the batches in flight.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      state.lastRun = { workflowId, status: 'succeeded', jobs: result.jobs, message: null };
      busyWait = BUSY_WAIT_MS.first;
      failedWait = FAILED_WAIT_MS.first;
      // A change arrived: the mapping's Schedule (if it backs off when idle) goes back to its normal interval.
      if (scheduleBacksOff) {
        try {
          scheduleBacksOff = (await acts.control.adjustScheduleInterval({ mapping: input.mapping, foundWork: true })).everyMs !== null;
        } catch (error) {
          log.warn('Could not restore the schedule interval', { mapping: input.mapping, message: (error as Error).message });
        }
      }
    } catch (error) {
      // Not lost: the changes wait for the next run (and a scheduled incremental run reads them anyway).
      if (many) pending.many.add(side);
      else for (const id of ids) pending[side].add(id);
      const busy = mappingBusy(error);
      const message = error instanceof ChildWorkflowFailure ? (error.cause?.message ?? error.message) : (error as Error).message;
      state.lastRun = { workflowId, status: busy ? 'busy' : 'failed', jobs: [], message };
      if (!busy) log.warn('Live sync run failed; its changes stay pending', { workflowId, message });
      const wait = busy ? busyWait : failedWait;
      if (busy) busyWait = Math.min(busyWait * 2, BUSY_WAIT_MS.max);
      else failedWait = Math.min(failedWait * 2, FAILED_WAIT_MS.max);
      await condition(() => stopping, wait);
    }
  };

  for (;;) {
    state.phase = paused ? 'paused' : 'waiting';
    await condition(() => stopping || (!paused && hasPending()));
    if (stopping) break;
    state.phase = 'coalescing';
    // More changes usually follow the first: gather them for a moment, unless a run's worth is pending.
    const cut = (): boolean => stopping || paused || pendingIds() >= maxBatch;
    if (debounceMs > 0 && debounceMs <= WORKER_WAIT_MAX_MS && patched(WORKER_DEBOUNCE)) await waitInWorker(acts, debounceMs, cut);
    else if (debounceMs > 0) await condition(cut, debounceMs);
    if (stopping) break;
    if (paused) continue;
    state.phase = 'running';
    for (const side of ['local', 'integration'] as const) {
      if (stopping) break;
      const direction = directionOf(side);
      if (!direction) {
        state.ignored += pending[side].size + (pending.many.delete(side) ? 1 : 0);
        pending[side].clear();
        continue;
      }
      if (pending[side].size > 0 || pending.many.has(side)) await runSide(side, direction);
    }
    if (!stopping && (runsThisWorkflow >= runsPerWorkflow || workflowInfo().continueAsNewSuggested)) {
      const carried: LivePending = { local: [...pending.local], integration: [...pending.integration], many: [...pending.many] };
      return makeContinueAsNewFunc<typeof liveSyncWorkflow>({ memo: info.memo })({ ...input, paused, pending: carried, runs: state.runs });
    }
  }
  state.phase = 'stopped';
  state.paused = paused;
  state.pending = { local: pending.local.size, integration: pending.integration.size, many: [...pending.many] };
  return state;
}
