/**
 * The engine under test through its real workflows on the dev server: each
 * step starts the workflow a person or service would (through the typed
 * client), with a worker of its own on a task queue of its own, over the same
 * world as the activity adapter. A run that fails non-retryable at once is a
 * refusal, as the model has it.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { CouplingSyncClient } from '../../client';
import type { RunResult } from '../../common/types';
import { createWorker } from '../../worker/create-worker';
import type { TestTemporal } from '../helpers/temporal';
import { EngineWorld } from './engine-world';
import { MAPPING_NAME, type MappingSettings, type ObservedError, type Operation, type SeedRecord, type StepResult, type System } from './world';

const RETRY = { maximumAttempts: 3, initialIntervalMs: 10 };

export class WorkflowEngine implements System {
  private readonly world = new EngineWorld();
  private worker: Worker | null = null;
  private running: Promise<void> | null = null;
  private sync: CouplingSyncClient | null = null;

  constructor(private readonly temporal: TestTemporal) {}

  async open(settings: MappingSettings, seed: { local: SeedRecord[]; integration: SeedRecord[] }): Promise<void> {
    await this.world.open(settings, seed);
    const taskQueue = `model-${randomUUID()}`;
    const bundlePath = process.env.TEMPORAL_TEST_BUNDLE;
    if (!bundlePath) throw new Error('TEMPORAL_TEST_BUNDLE is not set: run the tests through jest.');
    this.worker = await createWorker({
      connection: this.temporal.nativeConnection,
      store: this.world.store,
      systems: this.world.systems,
      taskQueue,
      workflowBundle: { codePath: bundlePath },
    });
    this.running = this.worker.run();
    this.sync = new CouplingSyncClient({ client: this.temporal.client, taskQueue });
  }

  async apply(step: number, op: Operation): Promise<StepResult> {
    this.world.setStep(step);
    if (op.op === 'edit' || op.op === 'create' || op.op === 'delete') {
      const done = await this.world.userWrite(op.op, op.side, op.id, op.op === 'delete' ? {} : op.values);
      return done ? { jobs: [], errors: [] } : { refused: true };
    }
    const sync = this.sync;
    if (!sync) throw new Error('open() first');
    let run: RunResult;
    try {
      run = await this.start(sync, op);
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause : null;
      if (cause instanceof ApplicationFailure && cause.nonRetryable) return { refused: true };
      throw error;
    }
    const errors: ObservedError[] = [];
    for (const [i, job] of run.jobs.entries()) {
      errors.push(...(await this.world.errorsOf(i, job.jobId, job.direction === 'FromIntegrationTable' ? 'integration' : 'local')));
    }
    return { jobs: run.jobs.map((j) => ({ type: j.type, direction: j.direction, counters: j.counters })), errors };
  }

  private start(sync: CouplingSyncClient, op: Exclude<Operation, { op: 'edit' | 'create' | 'delete' }>): Promise<RunResult> {
    const mapping = MAPPING_NAME;
    const ids = (side: 'local' | 'integration', list: string[]): string[] => list.map((id) => this.world.actualId(side, id));
    switch (op.op) {
      case 'bulkSync':
        return sync.bulkSync({
          mapping,
          direction: op.direction,
          fullSync: op.fullSync,
          side: op.side,
          recordIds: op.recordIds && ids(op.side ?? 'local', op.recordIds),
          batchSize: op.batchSize,
          maxBatchesInFlight: op.maxBatchesInFlight,
          retry: RETRY,
        });
      case 'singleSync':
        return sync.singleSync({ mapping, recordId: this.world.actualId(op.side, op.recordId), side: op.side, direction: op.direction, retry: RETRY });
      case 'retryFailed':
        return sync.retryFailed({ mapping, includeSkipped: op.includeSkipped, direction: op.direction, retry: RETRY });
      case 'matchBasedCoupling':
        return sync.matchBasedCoupling({
          mapping,
          recordIds: op.recordIds && ids('local', op.recordIds),
          createNewIfNoMatch: op.createNewIfNoMatch,
          syncAfterCoupling: op.syncAfterCoupling,
          batchSize: op.batchSize,
          maxBatchesInFlight: op.maxBatchesInFlight,
          retry: RETRY,
        });
      case 'setUpCoupling':
        return sync.setUpCoupling({
          mapping,
          localId: this.world.actualId('local', op.localId),
          integrationId: this.world.actualId('integration', op.integrationId),
          syncAfter: op.syncAfter,
          retry: RETRY,
        });
      case 'uncouple':
        return sync.uncouple({ mapping, recordIds: ids(op.side, op.recordIds), side: op.side, retry: RETRY });
      case 'uncoupleAll':
        return sync.uncouple({ mapping, all: true, retry: RETRY });
    }
  }

  observe() {
    return this.world.observe();
  }

  async close(): Promise<void> {
    if (this.worker && this.running) {
      this.worker.shutdown();
      await this.running;
    }
    await this.world.close();
  }
}
