/**
 * A synchronization batch: reads its selection, calls the engine, and turns
 * failures into Temporal's terms (a retry, a throttle wait, error rows when
 * a record's retries are exhausted). Resumable through heartbeat details.
 */
import { Context } from '@temporalio/activity';

import { emptyCounters, addCounters, type JobCounters } from '../../common/types';
import { ThrottledError } from '../../connectors/connector';

import { syncRecords, type BatchRecords } from './engine';
import { lookupTranslator } from './lookups';
import { errorRow, recordFailures, retrySummary, type RecordFailure } from './failures';
import { absentMessage, readSelection } from './selection';
import { directionState } from '../../store/store';
import { redact } from '../../support/redact';
import { batchFailure, readFailure, recordsFailed, throttledFailure } from '../failure-policy';
import { requireLease } from '../run-lease';
import type { ActivityDeps } from '../deps';
import { loadPass } from '../pass-loader';
import type { FailBatchInput, SyncBatchInput, SyncBatchResult } from '../../common/protocol';
import { KEYSET_READ_LIMIT } from '../defaults';

/** What a batch activity remembers between attempts, through heartbeat details. */
interface BatchResume {
  counters: JobCounters;
  pendingIds: string[];
  scanned: number;
  nextAfterId: number | null;
  throttledAttempts: number;
}

function isResume(value: unknown): value is BatchResume {
  return typeof value === 'object' && value !== null && Array.isArray((value as BatchResume).pendingIds);
}

export function createBatchActivities(deps: ActivityDeps) {
  return {
    /** Synchronizes one batch; resumable across attempts through heartbeat details. */
    async syncBatch(input: SyncBatchInput): Promise<SyncBatchResult> {
      const ctx = Context.current();
      const pass = await loadPass(deps, input.mapping, input.direction);
      const resume = isResume(ctx.info.heartbeatDetails) ? ctx.info.heartbeatDetails : null;
      let counters = resume?.counters ?? emptyCounters();
      const read = await readSelection(pass, deps.store, input.selection, resume?.pendingIds).catch((error: unknown) => {
        throw readFailure(pass.source.name, error, ctx.info.attempt - 1);
      });
      let unskipped = read.unskipped ?? [];
      if (!resume && input.options.includeSkipped && input.selection.kind === 'ids') {
        // The user chose to retry these: skipped ones start afresh, as the retry phase's do.
        const ids = [...read.records.map((r) => r.id), ...(read.missing ?? [])];
        const coupled = (await deps.store.getCouplings(pass.mapping.name, pass.plan.sourceSide, ids)).filter((c) => c.skipped);
        if (coupled.length)
          await deps.store.clearSkipped(
            pass.mapping.name,
            coupled.map((c) => c.localId),
          );
        await deps.store.clearUncoupledSkipped(pass.mapping.name, pass.plan.sourceSide, ids);
        unskipped = coupled.map((c) => (pass.plan.sourceSide === 'local' ? c.localId : c.integrationId));
      }
      const scanned = resume ? resume.scanned : read.scanned;
      const nextAfterId = resume ? resume.nextAfterId : read.nextAfterId;
      const batch: BatchRecords = { ...read, unskipped };
      const batchIds = [...batch.records.map((r) => r.id), ...(batch.missing ?? []), ...(batch.refusals ?? []).map((r) => r.sourceId)];
      const throttledAttempts = resume?.throttledAttempts ?? 0;
      const effectiveAttempt = ctx.info.attempt - throttledAttempts;
      // Local activities (single-record sync) cannot heartbeat; they simply redo their one record.
      const remember = (pendingIds: string[], throttled: number): void => {
        if (!ctx.info.isLocal) ctx.heartbeat({ counters, pendingIds, scanned, nextAfterId, throttledAttempts: throttled } satisfies BatchResume);
      };

      // A run that lost the mapping's lease stops here, before it writes anything.
      await requireLease(deps, input.mapping, input.lease);
      // Stable across this batch's retries, distinct from every other batch of the job (also across continue-as-new).
      const batchToken = `${ctx.info.workflowExecution?.runId ?? ctx.info.workflowType}/${ctx.info.activityId}`;
      let result;
      try {
        result = await syncRecords(
          { store: deps.store, source: pass.source, destination: pass.destination, lookups: lookupTranslator(deps, pass.plan) },
          { mapping: pass.mapping, plan: pass.plan, jobId: input.jobId, options: input.options, batchToken },
          batch,
          effectiveAttempt,
        );
      } catch (error) {
        if (error instanceof ThrottledError) {
          // Throttling is the system asking us to wait: never an error row, never an exhausted attempt.
          remember(batchIds, throttledAttempts + 1);
          throw throttledFailure(pass.destination.name, error, 'the batch', ctx.info.attempt - 1);
        }
        remember(batchIds, throttledAttempts);
        throw batchFailure(error, effectiveAttempt, input.maxAttempts);
      }
      counters = addCounters(counters, result.counters);
      if (result.retry.length > 0) {
        if (effectiveAttempt < input.maxAttempts) {
          remember(
            result.retry.map((f) => f.sourceId),
            throttledAttempts,
          );
          const first = result.retry[0];
          throw recordsFailed(retrySummary(result.retry.length, batchIds.length, { id: first.sourceId, kind: first.kind, code: first.code }));
        }
        const failures: RecordFailure[] = result.retry.map((f) => ({
          sourceId: f.sourceId,
          destinationId: f.destinationId,
          message: f.message,
          detail: f.detail,
          attempts: effectiveAttempt,
        }));
        await recordFailures(deps.store, { mapping: pass.mapping, plan: pass.plan, jobId: input.jobId, batchToken }, failures);
        counters.failed += failures.length;
      }
      return { counters, scanned, nextAfterId };
    },

    /**
     * After a batch's retries are exhausted: an error row and a failure state for
     * each record the batch would have worked on and has not handled, so none is
     * dropped silently (a failed create is retried like a failed coupling).
     */
    async failBatch(input: FailBatchInput): Promise<JobCounters> {
      const pass = await loadPass(deps, input.mapping, input.direction);
      await requireLease(deps, input.mapping, input.lease);
      const { mapping, plan } = pass;
      const sourceIdOf = (c: { localId: string; integrationId: string }): string => (plan.sourceSide === 'local' ? c.localId : c.integrationId);
      const { selection } = input;
      let ids: string[];
      if (selection.kind === 'ids') {
        ids = selection.side === plan.sourceSide ? selection.ids : (await deps.store.getCouplings(mapping.name, selection.side, selection.ids)).map(sourceIdOf);
      } else if (selection.kind === 'range') {
        // The system bounds the range: ids sort in its order (SQL Server orders GUIDs unlike strings), not ours.
        const keys = await pass.source.readChanged({
          table: plan.sourceSide === 'local' ? mapping.local.table : mapping.integration.table,
          fields: [],
          filter: plan.sourceSide === 'local' ? mapping.tableFilter : mapping.integrationTableFilter,
          since: selection.since,
          after: selection.after,
          through: selection.through,
          limit: KEYSET_READ_LIMIT,
        });
        ids = keys.map((k) => k.id);
      } else if (selection.kind === 'retry') {
        const page = await deps.store.pageCouplings(mapping.name, {
          afterId: selection.afterId,
          limit: selection.limit,
          needs: input.direction,
          includeSkipped: selection.includeSkipped,
        });
        ids = page.map(sourceIdOf);
      } else if (selection.kind === 'retryUncoupled') {
        ids = (
          await deps.store.pageUncoupledFailures(mapping.name, plan.sourceSide, {
            afterId: selection.afterId,
            limit: selection.limit,
            includeSkipped: selection.includeSkipped,
          })
        ).map((u) => u.recordId);
      } else if (selection.kind === 'matchedBy') {
        ids = (
          await deps.store.pageCouplings(mapping.name, {
            afterId: selection.afterId,
            limit: selection.limit,
            coupledByJobId: selection.jobId,
            coupledAction: 'matched',
          })
        ).map(sourceIdOf);
      } else {
        // A sweep decides nothing until it has read: the next pass's sweep checks these couplings again.
        return emptyCounters();
      }
      const couplings = new Map((await deps.store.getCouplings(mapping.name, plan.sourceSide, ids)).map((c) => [sourceIdOf(c), c]));
      const creates = !mapping.syncOnlyCoupledRecords;
      const open = ids.filter((id) => {
        const coupling = couplings.get(id);
        // Handled by this job already (in an attempt that reported), or a record the pass would ignore.
        if (coupling) return directionState(coupling, input.direction).jobId !== input.jobId;
        return creates;
      });
      const message = redact(`The batch failed after its retries were exhausted: ${input.message}`);
      // Given ids that do not exist are refused whatever became of the batch: error rows only, like its own refusals.
      const absent = selection.kind === 'ids' ? (selection.absent ?? []) : [];
      if (absent.length)
        await deps.store.insertErrors(
          absent.map((id) => errorRow({ mapping, jobId: input.jobId }, { sourceId: id, destinationId: null, message: absentMessage(pass, id), attempts: 0 })),
        );
      await recordFailures(
        deps.store,
        { mapping, plan, jobId: input.jobId },
        open.map((id) => ({ sourceId: id, destinationId: null, message, attempts: 0 })),
      );
      return { ...emptyCounters(), failed: open.length + absent.length };
    },
  };
}
