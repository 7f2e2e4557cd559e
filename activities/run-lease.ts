/**
 * The mapping's lease, as the runs that page through a whole mapping hold it
 * (bulk sync, retryFailed, match-based coupling, uncouple-all): taken at the
 * start, kept alive while any of the run's activities works, checked by every
 * batch before it writes (a batch whose run lost the lease stops before
 * writing anything), released at the end. A holder whose
 * workflow has ended (terminated, failed) is replaced at once, checked against
 * Temporal rather than waiting for the lease to expire, and the job rows that
 * run left open are closed as abandoned.
 */
import { Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../common/constants';
import type { Store } from '../store/store';
import type { ActivityDeps } from './deps';
import { nonRetryable } from './failure-policy';
import type { RunLease, RunLockInput } from '../common/protocol';
import { RUN_LOCK_TTL_MS } from './defaults';

function workflowOf(holder: string): { workflowId: string; firstRunId: string } {
  const at = holder.lastIndexOf('#');
  return at < 0 ? { workflowId: holder, firstRunId: '' } : { workflowId: holder.slice(0, at), firstRunId: holder.slice(at + 1) };
}

/** Whether a workflow chain is still running, asked of Temporal; null when the activity has no client to ask. */
async function stillRunning(workflowId: string, firstRunId: string): Promise<boolean | null> {
  let client;
  try {
    client = Context.current().client;
  } catch {
    return null;
  }
  try {
    // The latest run under this id: the holder's chain runs when that run is of the same chain and running.
    const described = await client.workflow.getHandle(workflowId).describe();
    const chain = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
    return described.status.name === 'RUNNING' && (!firstRunId || chain === firstRunId);
  } catch (error) {
    if ((error as { name?: unknown }).name === 'WorkflowNotFoundError') return false;
    throw error;
  }
}

/** Job rows of this mapping still "running" whose run has ended: closed as abandoned, so none stays open forever. */
async function closeAbandonedJobs(store: Store, mapping: string, holder: string): Promise<void> {
  const own = workflowOf(holder);
  const open = await store.listJobs({ mappingName: mapping, status: 'running', limit: 1000 });
  const checked = new Map<string, boolean | null>();
  for (const job of open) {
    if (!job.workflowId || (job.workflowId === own.workflowId && job.runId === own.firstRunId)) continue;
    const key = `${job.workflowId}#${job.runId ?? ''}`;
    if (!checked.has(key)) checked.set(key, await stillRunning(job.workflowId, job.runId ?? ''));
    if (checked.get(key) === false) {
      await store.updateJob(job.id, {
        status: 'abandoned',
        finished: true,
        message: `The run that opened this job (workflow ${job.workflowId}) ended without closing it; closed when workflow ${own.workflowId} took the mapping.`,
      });
    }
  }
}

export const leaseTtl = (deps: ActivityDeps): number => deps.leaseTtlMs ?? RUN_LOCK_TTL_MS;

/** Renews the run's lease before a batch writes; a run that lost it stops here, non-retryable, having written nothing. */
export async function requireLease(deps: ActivityDeps, mapping: string, lease: RunLease | undefined): Promise<void> {
  if (!lease) return;
  const { store } = deps;
  if (await store.renewRunLock(mapping, lease, leaseTtl(deps))) return;
  const now = await store.runLockOf(mapping);
  throw nonRetryable(
    `Mapping ${mapping} was taken over by workflow ${now ? workflowOf(now.holder).workflowId : '(none)'} while this run's lease had lapsed; this run stopped before writing. Start it again when that run is done.`,
    FAILURE_TYPES.leaseLost,
  );
}

type AnyActivity = (input: never) => Promise<unknown>;

function leaseIn(input: unknown): { mapping: string; lease: RunLease } | null {
  if (typeof input !== 'object' || input === null) return null;
  const { mapping, lease } = input as { mapping?: unknown; lease?: RunLease };
  return typeof mapping === 'string' && lease && typeof lease.holder === 'string' ? { mapping, lease } : null;
}

/**
 * Every activity that carries a lease keeps it alive while it works, renewed
 * every quarter of its lifetime, so however long a batch takes (a slow read,
 * a long Retry-After) no other run can take the mapping from a live batch. A
 * renewal never takes the lease back from a run that took it over; a batch
 * whose worker died stops renewing, and its lease lapses.
 */
export function keepingLeases<T extends Record<string, AnyActivity>>(deps: ActivityDeps, activities: T): T {
  const ttl = leaseTtl(deps);
  const wrapped = Object.entries(activities).map(([name, activity]) => [
    name,
    async (input: never): Promise<unknown> => {
      const held = leaseIn(input);
      if (!held) return activity(input);
      const timer = setInterval(
        () => {
          deps.store.renewRunLock(held.mapping, held.lease, ttl).catch(() => undefined);
        },
        Math.max(10, Math.floor(ttl / 4)),
      );
      timer.unref();
      try {
        return await activity(input);
      } finally {
        clearInterval(timer);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}

export function createLeaseActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /**
     * Takes (or renews) the mapping's lease, replacing a holder whose workflow
     * has ended; fails, non-retryable, naming the run that holds it otherwise.
     * Returns the holding's fencing token, which every batch carries.
     */
    async acquireRunLock(input: RunLockInput): Promise<RunLease> {
      let lease = await store.acquireRunLock(input.mapping, input.holder, leaseTtl(deps));
      if (lease.holder !== input.holder) {
        const holder = workflowOf(lease.holder);
        if ((await stillRunning(holder.workflowId, holder.firstRunId)) === false) {
          lease = await store.acquireRunLock(input.mapping, input.holder, leaseTtl(deps), lease.holder);
        }
      }
      if (lease.holder !== input.holder) {
        throw nonRetryable(
          `Mapping ${input.mapping} is already being worked on by workflow ${workflowOf(lease.holder).workflowId}; wait for it to finish or cancel it.`,
          FAILURE_TYPES.mappingBusy,
        );
      }
      await closeAbandonedJobs(store, input.mapping, input.holder);
      return lease;
    },

    async releaseRunLock(input: RunLockInput): Promise<void> {
      await store.releaseRunLock(input.mapping, input.holder);
    },
  };
}
