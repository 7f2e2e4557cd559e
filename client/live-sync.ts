/**
 * Live sync from another service or a receiver: tell a mapping's live-sync
 * workflow of changes (signal-with-start: the first notification starts it),
 * pause, resume or stop it, and read where it stands. Changes are validated
 * here with the workflow's own schema, so a bad notification fails the call,
 * naming the field, and never reaches the workflow.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TASK_QUEUE } from '../common/constants';
import { liveChangesSignal, livePauseSignal, liveResumeSignal, liveStopSignal, liveSyncStateQuery } from '../common/definitions';
import { liveChangeSchema, liveSyncInputSchema, type LiveChange, type LiveSyncInput } from '../common/inputs';
import { MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE } from '../common/search-attributes';
import type { LiveSyncState } from '../common/types';
import { parseInput } from '../common/validate';
import type { liveSyncWorkflow } from '../workflows/live-sync';
import { workflowIds } from './workflow-ids';

/** How a live sync is started when a notification finds none running (its settings stay those it started with). */
export type LiveSyncSettings = Omit<LiveSyncInput, 'mapping' | 'pending' | 'runs'>;

export class LiveSync {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string = TASK_QUEUE,
  ) {}

  private startOptions(input: LiveSyncInput) {
    return {
      taskQueue: this.taskQueue,
      workflowId: workflowIds.liveSync(input.mapping),
      args: [input] as [LiveSyncInput],
      typedSearchAttributes: [
        { key: MAPPING_SEARCH_ATTRIBUTE, value: input.mapping },
        { key: RUN_KIND_SEARCH_ATTRIBUTE, value: 'liveSync' as const },
      ],
      staticSummary: `Live sync of ${input.mapping}`,
    };
  }

  /** Tells the mapping's live sync that records changed, starting it with `settings` when it is not running. */
  async notify(mapping: string, change: LiveChange, settings: LiveSyncSettings = {}): Promise<WorkflowHandle<typeof liveSyncWorkflow>> {
    const valid = parseInput('a live change', liveChangeSchema, change);
    const input = parseInput('liveSync', liveSyncInputSchema, { ...settings, mapping });
    return this.client.workflow.signalWithStart<typeof liveSyncWorkflow, [unknown]>('liveSyncWorkflow', {
      ...this.startOptions(input),
      signal: liveChangesSignal,
      signalArgs: [valid],
    });
  }

  /** Starts the mapping's live sync (without a change), or returns the one running. */
  async start(input: LiveSyncInput): Promise<WorkflowHandle<typeof liveSyncWorkflow>> {
    const valid = parseInput('liveSync', liveSyncInputSchema, input);
    // Starting is signalling nothing: signal-with-start of a pause/resume would change its state.
    const handle = this.client.workflow.getHandle<typeof liveSyncWorkflow>(workflowIds.liveSync(valid.mapping));
    try {
      const running = await handle.describe();
      if (running.status.name === 'RUNNING') return handle;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    return this.client.workflow.start<typeof liveSyncWorkflow>('liveSyncWorkflow', this.startOptions(valid));
  }

  private handle(mapping: string): WorkflowHandle<typeof liveSyncWorkflow> {
    return this.client.workflow.getHandle<typeof liveSyncWorkflow>(workflowIds.liveSync(mapping));
  }

  /** Changes are kept and nothing runs until `resume`. */
  async pause(mapping: string): Promise<void> {
    await this.handle(mapping).signal(livePauseSignal);
  }

  async resume(mapping: string): Promise<void> {
    await this.handle(mapping).signal(liveResumeSignal);
  }

  /** Finishes the run in flight and ends; pending changes are left to the next scheduled run. Resolves with the final state. */
  async stop(mapping: string): Promise<LiveSyncState> {
    const handle = this.handle(mapping);
    await handle.signal(liveStopSignal);
    return handle.result();
  }

  async state(mapping: string): Promise<LiveSyncState> {
    return this.handle(mapping).query(liveSyncStateQuery);
  }
}
