/**
 * The engine under test without Temporal: the real activities on SQLite, called
 * in the order the workflows call them (a pass's retry phase, scan and sweep;
 * match rounds; coupling jobs), each in a MockActivityEnvironment that retries
 * a retryable failure with the heartbeat details it left, as Temporal would.
 * Fast enough for hundreds of sequences in `npm test`; the workflow adapter
 * (engine-workflows.ts) checks the real workflows on fewer.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createActivities,
  type Activities,
  type BatchSelection,
  type LocalSelection,
  type PlanBatchesResult,
  type PlanLocalBatchesResult,
  type SyncBatchResult,
} from '../../activities';
import type { JobCounters, JobSummary, SyncDirection } from '../../common/types';
import { emptyCounters, addCounters } from '../../common/types';
import type { DecisionOptions } from '../../domain/sync-decision';
import { EngineWorld } from './engine-world';
import {
  MAPPING_NAME,
  type MappingSettings,
  type ObservedError,
  type ObservedJob,
  type Operation,
  type SeedRecord,
  type Side,
  type StepResult,
  type System,
} from './world';

const MAX_ATTEMPTS = 3;

class Refused extends Error {}

export class ActivityEngine implements System {
  private readonly world = new EngineWorld();
  private readonly acts: Activities;
  private calls = 0;

  constructor() {
    this.acts = createActivities({ store: this.world.store, systems: this.world.systems });
  }

  async open(settings: MappingSettings, seed: { local: SeedRecord[]; integration: SeedRecord[] }): Promise<void> {
    await this.world.open(settings, seed);
  }

  /** Runs an activity as Temporal would: a retryable failure is retried with the heartbeat it left; a non-retryable one refuses the step. */
  private async run<A, R>(fn: (input: A) => Promise<R>, input: A, options: { local?: boolean; runId?: string } = {}): Promise<R> {
    const activityId = `a${++this.calls}`;
    let heartbeat: unknown;
    for (let attempt = 1; ; attempt++) {
      const env = new MockActivityEnvironment({
        activityId,
        attempt,
        heartbeatDetails: heartbeat,
        isLocal: options.local ?? false,
        workflowExecution: { workflowId: 'model', runId: options.runId ?? 'model-run' },
      });
      env.on('heartbeat', (details: unknown) => {
        heartbeat = details;
      });
      try {
        return await env.run(fn, input);
      } catch (error) {
        const nonRetryable = error instanceof ApplicationFailure && error.nonRetryable;
        if (nonRetryable) throw new Refused(error.message);
        if (attempt >= MAX_ATTEMPTS + 2) throw error;
      }
    }
  }

  async apply(step: number, operation: Operation): Promise<StepResult> {
    this.world.setStep(step);
    try {
      return await this.applyNow(operation);
    } catch (error) {
      if (error instanceof Refused) return { refused: true };
      throw error;
    }
  }

  private async applyNow(op: Operation): Promise<StepResult> {
    switch (op.op) {
      case 'edit':
      case 'create':
      case 'delete': {
        const done = await this.world.userWrite(op.op, op.side, op.id, op.op === 'delete' ? {} : op.values);
        return done ? { jobs: [], errors: [] } : { refused: true };
      }
      case 'bulkSync': {
        const { directions } = await this.run(this.acts.planRun, { mapping: MAPPING_NAME, direction: op.direction });
        const side = op.side ?? 'local';
        const ids = op.recordIds ? { ids: [...new Set(op.recordIds.map((id) => this.world.actualId(side, id)))], side } : undefined;
        const mode = ids ? 'ids' : op.fullSync ? 'full' : 'incremental';
        return this.passes(directions, (direction) => this.pass(direction, mode, { force: op.fullSync === true }, op, ids));
      }
      case 'retryFailed': {
        const { directions } = await this.run(this.acts.planRun, { mapping: MAPPING_NAME, direction: op.direction });
        const includeSkipped = op.includeSkipped === true;
        const options: DecisionOptions = { includeSkipped, winner: includeSkipped ? op.direction : undefined };
        return this.passes(directions, (direction) =>
          this.pass(direction, 'retryOnly', options, { batchSize: 500, maxBatchesInFlight: 1 }, undefined, includeSkipped),
        );
      }
      case 'singleSync': {
        const job = await this.run(
          this.acts.syncSingleRecord,
          {
            mapping: MAPPING_NAME,
            recordId: this.world.actualId(op.side, op.recordId),
            side: op.side,
            direction: op.direction ?? null,
            jobId: randomUUID(),
            workflowId: 'model',
            runId: 'model-run',
            maxAttempts: MAX_ATTEMPTS,
          },
          { local: true },
        );
        return this.result([{ job, sourceSide: job.direction === 'FromIntegrationTable' ? 'integration' : 'local' }]);
      }
      case 'matchBasedCoupling':
        return this.match(op);
      case 'setUpCoupling':
        return this.setUp(op);
      case 'uncouple':
      case 'uncoupleAll': {
        const jobId = randomUUID();
        await this.run(this.acts.startCouplingJob, { mapping: MAPPING_NAME, jobId, type: 'Uncoupling', workflowId: 'model', runId: 'model-run' });
        let counters = emptyCounters();
        for (let done = false; !done;) {
          const selection =
            op.op === 'uncouple'
              ? { kind: 'ids' as const, ids: op.recordIds.map((id) => this.world.actualId(op.side, id)), side: op.side }
              : { kind: 'all' as const, maxCouplings: 1000 };
          const result = await this.run(this.acts.uncoupleBatch, { mapping: MAPPING_NAME, jobId, selection });
          counters = addCounters(counters, result.counters);
          done = result.done;
        }
        await this.run(this.acts.finishCouplingJob, { mapping: MAPPING_NAME, jobId, counters, status: 'succeeded', message: null });
        return this.result([{ job: { jobId, type: 'Uncoupling', direction: null, status: 'succeeded', counters }, sourceSide: 'local' }]);
      }
    }
  }

  private async passes(directions: SyncDirection[], run: (d: SyncDirection) => Promise<JobSummary>): Promise<StepResult> {
    const jobs: { job: JobSummary; sourceSide: Side }[] = [];
    for (const direction of directions) jobs.push({ job: await run(direction), sourceSide: direction === 'ToIntegrationTable' ? 'local' : 'integration' });
    return this.result(jobs);
  }

  private async result(jobs: { job: JobSummary; sourceSide: Side }[]): Promise<StepResult> {
    const observed: ObservedJob[] = jobs.map(({ job }) => ({ type: job.type, direction: job.direction, counters: job.counters }));
    const errors: ObservedError[] = [];
    for (const [i, { job, sourceSide }] of jobs.entries()) errors.push(...(await this.world.errorsOf(i, job.jobId, sourceSide)));
    return { jobs: observed, errors };
  }

  /** One pass, as workflows/sync-pass.ts runs it. */
  private async pass(
    direction: SyncDirection,
    mode: 'incremental' | 'full' | 'ids' | 'retryOnly',
    options: DecisionOptions,
    batch: { batchSize: number; maxBatchesInFlight: number },
    ids?: { ids: string[]; side: Side },
    includeSkipped = false,
  ): Promise<JobSummary> {
    const jobId = randomUUID();
    const runId = randomUUID();
    const base = { mapping: MAPPING_NAME, direction, jobId };
    const start = await this.run(this.acts.startPass, {
      ...base,
      type: 'Synchronization',
      workflowId: 'model',
      runId,
      fullSync: mode === 'full',
      ...(mode === 'ids' && ids ? { given: { side: ids.side, ids: [...new Set(ids.ids)] } } : {}),
    });
    let counters: JobCounters = emptyCounters();
    const syncBatch = async (selection: BatchSelection): Promise<number | null> => {
      try {
        const result = await this.run(this.acts.syncBatch, { ...base, selection, options, maxAttempts: MAX_ATTEMPTS }, { runId });
        counters = addCounters(counters, result.counters);
        return result.nextAfterId;
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        counters = addCounters(counters, await this.run(this.acts.failBatch, { ...base, selection, message: error.message }));
        return null;
      }
    };
    const pages = async (selection: (afterId: number) => BatchSelection): Promise<void> => {
      for (let afterId: number | null = 0; afterId !== null;) afterId = await syncBatch(selection(afterId));
    };
    if (mode !== 'ids') {
      await pages((afterId) => ({ kind: 'retry', afterId, limit: batch.batchSize, includeSkipped }));
      await pages((afterId) => ({ kind: 'retryUncoupled', afterId, limit: batch.batchSize, includeSkipped }));
    }
    let cursor: { modifiedOn: string; id: string } | null = null;
    if (mode === 'ids') {
      const list = start.given?.sourceIds ?? ids?.ids ?? [];
      const side = start.given?.side ?? ids?.side ?? 'local';
      const chunks: BatchSelection[] = [];
      const absent = start.given?.absent ?? [];
      for (let i = 0; i < absent.length; i += batch.batchSize) chunks.push({ kind: 'ids', ids: [], side, absent: absent.slice(i, i + batch.batchSize) });
      for (let i = 0; i < list.length; i += batch.batchSize) chunks.push({ kind: 'ids', ids: list.slice(i, i + batch.batchSize), side });
      await inPool(chunks, batch.maxBatchesInFlight, (selection) => syncBatch(selection).then(() => undefined));
    } else if (mode !== 'retryOnly') {
      for (;;) {
        const plan: PlanBatchesResult = await this.run(this.acts.planBatches, {
          ...base,
          since: start.since,
          after: cursor,
          batchSize: batch.batchSize,
          count: batch.maxBatchesInFlight * 2,
          counters,
        });
        await inPool(plan.ranges, batch.maxBatchesInFlight, (range) =>
          syncBatch({ kind: 'range', since: start.since, after: range.after, through: range.through }).then(() => undefined),
        );
        const last = plan.ranges[plan.ranges.length - 1];
        if (last) cursor = last.through;
        if (plan.exhausted) break;
      }
      if (start.sweep) await pages((afterId) => ({ kind: 'sweep', afterId, limit: batch.batchSize }));
    }
    const watermark = mode === 'incremental' || mode === 'full' ? { largestScanned: cursor?.modifiedOn ?? null, startedAt: start.startedAt } : null;
    await this.run(this.acts.finishPass, { ...base, counters, status: 'succeeded', message: null, watermark });
    return { jobId, type: 'Synchronization', direction, status: 'succeeded', counters };
  }

  /** Match-based coupling, as workflows/match-based-coupling.ts runs it: rounds, the finishing pass, then the sync job. */
  private async match(op: Extract<Operation, { op: 'matchBasedCoupling' }>): Promise<StepResult> {
    const jobId = randomUUID();
    const runId = randomUUID();
    const start = await this.run(this.acts.startCouplingJob, {
      mapping: MAPPING_NAME,
      jobId,
      type: 'Coupling',
      workflowId: 'model',
      runId,
      matchBased: { filter: [], createNewIfNoMatch: op.createNewIfNoMatch },
      syncAfter: op.syncAfterCoupling,
    });
    const ids = op.recordIds ? [...new Set(op.recordIds.map((id) => this.world.actualId('local', id)))] : null;
    const overScope = async (work: (selection: LocalSelection) => Promise<void>): Promise<void> => {
      if (ids) {
        const chunks: string[][] = [];
        for (let i = 0; i < ids.length; i += op.batchSize) chunks.push(ids.slice(i, i + op.batchSize));
        await inPool(chunks, op.maxBatchesInFlight, (part) => work({ kind: 'ids', ids: part }));
        return;
      }
      let after: { modifiedOn: string; id: string } | null = null;
      for (;;) {
        const plan: PlanLocalBatchesResult = await this.run(this.acts.planLocalBatches, {
          mapping: MAPPING_NAME,
          jobId,
          filter: [],
          after,
          batchSize: op.batchSize,
          count: op.maxBatchesInFlight * 2,
          counters: emptyCounters(),
        });
        await inPool(plan.ranges, op.maxBatchesInFlight, (r) => work({ kind: 'range', after: r.after, through: r.through }));
        after = plan.next;
        if (plan.exhausted) return;
      }
    };
    let counters = emptyCounters();
    const common = { mapping: MAPPING_NAME, jobId, filter: [], createNewIfNoMatch: start.createNewIfNoMatch };
    for (let level = 0; level < start.levels; level++) {
      await overScope(async (selection) => {
        await this.run(this.acts.claimMatchBatch, { ...common, level, selection }, { runId });
      });
      await this.run(this.acts.resolveMatchLevel, { mapping: MAPPING_NAME, jobId, level }, { runId });
    }
    await overScope(async (selection) => {
      const result = await this.run(this.acts.finishMatchBatch, { ...common, selection, maxAttempts: MAX_ATTEMPTS }, { runId });
      counters = addCounters(counters, result.counters);
    });
    let syncCounters = start.sync?.counters ?? emptyCounters();
    if (start.sync) {
      const sync = start.sync;
      for (let afterId: number | null = 0; afterId !== null;) {
        const selection: BatchSelection = { kind: 'matchedBy', jobId, afterId, limit: op.batchSize };
        const result: SyncBatchResult = await this.run(
          this.acts.syncBatch,
          { mapping: MAPPING_NAME, direction: sync.direction, jobId: sync.jobId, selection, options: {}, maxAttempts: MAX_ATTEMPTS },
          { runId },
        );
        syncCounters = addCounters(syncCounters, result.counters);
        afterId = result.nextAfterId;
      }
    }
    await this.run(this.acts.clearMatchClaims, { jobId });
    counters = await this.run(this.acts.finishCouplingJob, { mapping: MAPPING_NAME, jobId, counters, status: 'succeeded', message: null, recount: true });
    const jobs: { job: JobSummary; sourceSide: Side }[] = [
      { job: { jobId, type: 'Coupling', direction: null, status: 'succeeded', counters }, sourceSide: 'local' },
    ];
    if (start.sync) {
      await this.run(this.acts.finishCouplingJob, {
        mapping: MAPPING_NAME,
        jobId: start.sync.jobId,
        counters: syncCounters,
        status: 'succeeded',
        message: null,
      });
      jobs.push({
        job: { jobId: start.sync.jobId, type: 'Synchronization', direction: start.sync.direction, status: 'succeeded', counters: syncCounters },
        sourceSide: start.sync.direction === 'ToIntegrationTable' ? 'local' : 'integration',
      });
    }
    return this.result(jobs);
  }

  /** Set Up Coupling, as workflows/set-up-coupling.ts runs it. */
  private async setUp(op: Extract<Operation, { op: 'setUpCoupling' }>): Promise<StepResult> {
    const jobId = randomUUID();
    const localId = this.world.actualId('local', op.localId);
    const start = await this.run(this.acts.startCouplingJob, {
      mapping: MAPPING_NAME,
      jobId,
      type: 'Coupling',
      workflowId: 'model',
      runId: 'model-run',
      syncAfter: op.syncAfter ?? false,
    });
    const coupling = await this.run(this.acts.setUpCoupling, {
      mapping: MAPPING_NAME,
      jobId,
      localId,
      integrationId: this.world.actualId('integration', op.integrationId),
    });
    await this.run(this.acts.finishCouplingJob, { mapping: MAPPING_NAME, jobId, counters: coupling.counters, status: 'succeeded', message: null });
    const jobs: { job: JobSummary; sourceSide: Side }[] = [
      { job: { jobId, type: 'Coupling', direction: null, status: 'succeeded', counters: coupling.counters }, sourceSide: 'local' },
    ];
    if (start.sync) {
      const sync = start.sync;
      const result = await this.run(this.acts.syncBatch, {
        mapping: MAPPING_NAME,
        direction: sync.direction,
        jobId: sync.jobId,
        selection: { kind: 'ids', ids: [localId], side: 'local' },
        options: { force: true },
        maxAttempts: MAX_ATTEMPTS,
      });
      await this.run(this.acts.finishCouplingJob, { mapping: MAPPING_NAME, jobId: sync.jobId, counters: result.counters, status: 'succeeded', message: null });
      jobs.push({
        job: { jobId: sync.jobId, type: 'Synchronization', direction: sync.direction, status: 'succeeded', counters: result.counters },
        sourceSide: sync.direction === 'ToIntegrationTable' ? 'local' : 'integration',
      });
    }
    return this.result(jobs);
  }

  observe() {
    return this.world.observe();
  }

  async close(): Promise<void> {
    await this.world.close();
  }
}

/** Runs `work` over `items` with at most `limit` at once (as workflows/run-pool does). */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}
