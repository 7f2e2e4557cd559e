/** Query and signal definitions shared by the workflows and the client. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { FullSynchronizationProgress, LiveSyncState, RunProgress } from './types';

/** Counters and phase of a run so far. */
export const progressQuery = defineQuery<RunProgress>('progress');

/** Where each mapping of a full synchronization stands (the same query name as every run's, so `progress` answers for any run). */
export const fullSynchronizationProgressQuery = defineQuery<FullSynchronizationProgress>('progress');

/** Records changed on one side (or many did): live sync coalesces these and synchronizes them. A `LiveChange`. */
export const liveChangesSignal = defineSignal<[unknown]>('changes');
/** Live sync keeps the changes it is told of and runs nothing until resumed. */
export const livePauseSignal = defineSignal('pause');
export const liveResumeSignal = defineSignal('resume');
/** Live sync finishes the run in flight and ends; changes still pending are left to the next scheduled run. */
export const liveStopSignal = defineSignal('stop');
/** Where a live sync stands (the same query name as every run's). */
export const liveSyncStateQuery = defineQuery<LiveSyncState>('progress');
