/**
 * The last step of match-based coupling for one batch: the records still
 * uncoupled after every round are created (create-new) or get an error row
 * saying why, round by round. Resumable through heartbeats: error rows are
 * written before the heartbeat that counts them.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

import { addCounters, emptyCounters, type JobCounters } from '../../common/types';
import { ThrottledError } from '../../connectors/connector';

import { describeUnmatched, levelResults, outcomeOf, type LevelResult } from '../../domain/match-rounds';
import type { MatchRecord } from '../../domain/matching';
import { nextFailureState } from '../../domain/sync-decision';
import type { JobErrorRow } from '../../store/store';
import type { ActivityDeps } from '../deps';
import { givesUp, recordsFailed, throttledFailure } from '../failure-policy';
import { asMatchRecords, createRecords, errorRow, fetchCandidates, loadMatchContext, messageOf, readScope, type MatchContext } from './match-context';

import { requireLease } from '../run-lease';
import { retrySummary } from '../sync/failures';
import type { FinishMatchBatchInput, MatchBatchResult } from '../../common/protocol';

/** What a finishing batch remembers between attempts: error rows are written before the heartbeat that counts them. */
interface FinishResume {
  counters: JobCounters;
  settledLocalIds: string[];
  scanned: number;
  throttledAttempts: number;
  done: boolean;
}

function isFinishResume(value: unknown): value is FinishResume {
  return typeof value === 'object' && value !== null && Array.isArray((value as FinishResume).settledLocalIds);
}

/**
 * Why each record is still uncoupled, round by round: the state each round
 * started from is the couplings of others plus this job's matches at earlier
 * priorities (records this job created did not exist then).
 */
async function explain(c: MatchContext, records: readonly MatchRecord[]): Promise<Map<string, LevelResult[]>> {
  const trails = new Map<string, LevelResult[]>(records.map((r) => [r.id, []]));
  for (const level of c.levels) {
    const { candidates, undecidable } = await fetchCandidates(c, level, records);
    const couplings = candidates.length
      ? await c.store.getRecordCouplings(
          c.mapping.integration,
          'integration',
          candidates.map((x) => x.id),
        )
      : [];
    const ours = (x: (typeof couplings)[number]): boolean => x.mappingName === c.mapping.name && x.coupledByJobId === c.jobId;
    const created = new Set(couplings.filter((x) => ours(x) && x.coupledAction === 'created').map((x) => x.integrationId));
    const unavailable = new Set(
      couplings.filter((x) => !ours(x) || (x.coupledAction === 'matched' && (x.coupledLevel ?? 0) < level.priority)).map((x) => x.integrationId),
    );
    const holder = new Map(couplings.map((x) => [x.integrationId, x.localId]));
    const results = levelResults({ level, locals: records, candidates: candidates.filter((x) => !created.has(x.id)), unavailable, undecidable });
    for (const [localId, result] of results) {
      const settled: LevelResult =
        result.result === 'claim'
          ? {
              priority: result.priority,
              result: 'contested',
              candidateId: result.candidateId,
              winner: holder.get(result.candidateId) ?? '(none yet: run again)',
            }
          : result;
      trails.get(localId)?.push(settled);
    }
  }
  return trails;
}

/**
 * A create the run was asked for that failed is remembered as a failed uncoupled
 * record: the next synchronization runs retry it until it is created or
 * skipped (the same failure twice).
 */
async function rememberFailedCreates(c: MatchContext, failures: readonly { localId: string; message: string }[]): Promise<void> {
  if (failures.length === 0) return;
  const entries = new Map(
    (
      await c.store.getUncoupledFailures(
        c.mapping.name,
        'local',
        failures.map((f) => f.localId),
      )
    ).map((u) => [u.recordId, u]),
  );
  await c.store.saveUncoupledFailures(
    c.mapping.name,
    'local',
    c.jobId,
    failures.map((f) => {
      const entry = entries.get(f.localId);
      const state = nextFailureState(entry ? { failureCount: entry.failureCount, lastError: entry.lastError } : null, f.message);
      return { recordId: f.localId, failureCount: state.failureCount, lastError: f.message, skipped: state.skipped };
    }),
  );
}

export function createMatchFinishActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /**
     * After the last round: creates the batch's records still uncoupled
     * (create-new) or writes an error row for each saying why, round by round;
     * given ids that were refused get theirs. Resumable through heartbeats.
     */
    async finishMatchBatch(input: FinishMatchBatchInput): Promise<MatchBatchResult> {
      const ctx = Context.current();
      const details: unknown = ctx.info.heartbeatDetails;
      const progress: FinishResume = isFinishResume(details)
        ? { ...details, counters: { ...details.counters }, settledLocalIds: [...details.settledLocalIds] }
        : { counters: emptyCounters(), settledLocalIds: [], scanned: 0, throttledAttempts: 0, done: false };
      const result = (): MatchBatchResult => ({ counters: progress.counters, scanned: progress.scanned });
      if (progress.done) return result();
      const attempt = ctx.info.attempt - progress.throttledAttempts;
      const remember = (): void => ctx.heartbeat({ ...progress } satisfies FinishResume);
      const c = await loadMatchContext(deps, input);
      const settle = async (rows: JobErrorRow[], counters: Partial<JobCounters>): Promise<void> => {
        await store.insertErrors(rows);
        progress.settledLocalIds.push(...rows.map((r) => r.sourceRecordId));
        progress.counters = addCounters(progress.counters, counters);
        remember();
      };
      try {
        const scope = await readScope(c, input.selection);
        await requireLease(deps, input.mapping, input.lease);
        if (progress.scanned === 0) progress.scanned = scope.scanned;
        const settled = new Set(progress.settledLocalIds);
        const refusals = scope.refusals.filter((r) => !settled.has(r.localId));
        await settle(
          refusals.map((r) => errorRow(c, r.localId, null, r.message, attempt)),
          { failed: refusals.length },
        );
        const records = scope.records.filter((r) => !settled.has(r.id));
        if (c.createNew) {
          // Stable across this batch's retries, as a sync batch's is.
          const created = await createRecords(c, records, `${ctx.info.workflowExecution?.runId ?? ctx.info.workflowType}/${ctx.info.activityId}`);
          // Created from the local record: synced in that direction, as a sync's create would be.
          await store.insertCouplings(c.mapping, 'ToIntegrationTable', c.jobId, created.couplings);
          const ours = new Map(created.couplings.map((x) => [x.localId, x]));
          const landedRows = (
            await store.getCouplings(
              c.mapping.name,
              'local',
              created.couplings.map((x) => x.localId),
            )
          ).filter(
            (x) =>
              x.coupledByJobId === c.jobId && x.integrationId === ours.get(x.localId)?.integrationId && x.coupledAction === ours.get(x.localId)?.coupledAction,
          );
          const landed = new Set(landedRows.map((x) => x.localId));
          // Records written over (the key named one already) are coupled, not inserted; the job's close recounts both from the couplings.
          const fresh = landedRows.filter((x) => x.coupledAction === 'created').length;
          const lost = created.couplings.filter((x) => !landed.has(x.localId));
          const rows = [
            ...created.permanent.map((f) => errorRow(c, f.localId, null, `No matching record, and creating one failed: ${f.message}`, attempt)),
            ...lost.map((x) =>
              errorRow(
                c,
                x.localId,
                x.integrationId,
                `The record created for local record ${x.localId} (${x.integrationId}) is coupled to another record; uncouple it and run again.`,
                attempt,
              ),
            ),
          ];
          await store.insertErrors(
            created.warnings
              .filter((w) => landed.has(w.localId))
              .map((w) => ({ ...errorRow(c, w.localId, ours.get(w.localId)?.integrationId ?? null, w.message, attempt), severity: 'warning' as const })),
          );
          progress.counters = addCounters(progress.counters, { inserted: fresh, coupled: landed.size, unmatched: fresh });
          progress.settledLocalIds.push(...landed);
          if (landed.size > 0) await store.deleteUncoupledFailures(c.mapping.name, 'local', [...landed]);
          await rememberFailedCreates(c, created.permanent);
          await settle(rows, { failed: rows.length, unmatched: rows.length });
          if (created.retryable.length > 0) {
            if (attempt < input.maxAttempts) {
              const first = created.retryable[0];
              throw recordsFailed(
                retrySummary(
                  created.retryable.length,
                  records.length,
                  { id: first.localId, kind: first.kind, code: first.code },
                  'records could not be created',
                ),
              );
            }
            const failed = created.retryable.map((f) => errorRow(c, f.localId, null, `No matching record, and creating one failed: ${f.message}`, attempt));
            await rememberFailedCreates(c, created.retryable);
            await settle(failed, { failed: failed.length, unmatched: failed.length });
          }
        } else if (records.length > 0) {
          const trails = await explain(c, asMatchRecords(records));
          const rows = records.map((r) => {
            const outcome = outcomeOf(r.id, trails.get(r.id) ?? []);
            const message =
              outcome.kind === 'unmatched'
                ? describeUnmatched({ outcome, levels: c.levels })
                : `Local record ${r.id} was matched but its coupling did not land; run again.`;
            const candidate = outcome.kind === 'unmatched' && outcome.candidateIds.length === 1 ? outcome.candidateIds[0] : null;
            return errorRow(c, r.id, candidate, message, attempt);
          });
          await settle(rows, { failed: rows.length, unmatched: rows.length });
        }
        progress.done = true;
        remember();
        return result();
      } catch (error) {
        if (error instanceof ThrottledError) {
          // The system asks us to wait: not an attempt used up, never an error row.
          progress.throttledAttempts++;
          remember();
          throw throttledFailure(c.integration.name, error, 'the batch', ctx.info.attempt - 1);
        }
        // Passing outages retry for as long as the batch may run; refused credentials settle the records at once.
        if (error instanceof ApplicationFailure || !givesUp(error, attempt, input.maxAttempts)) throw error;
        const scope = await readScope(c, input.selection).catch(() => null);
        const settled = new Set(progress.settledLocalIds);
        const open = (scope?.records ?? []).filter((r) => !settled.has(r.id));
        await settle(
          open.map((r) => errorRow(c, r.id, null, `The batch failed after its retries were exhausted: ${messageOf(error)}`, attempt)),
          { failed: open.length },
        );
        progress.done = true;
        remember();
        return result();
      }
    },
  };
}
