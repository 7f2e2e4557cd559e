/** Query and signal definitions shared by the workflows and the client. */
import { defineQuery } from '@temporalio/workflow';
import type { FullSynchronizationProgress, RunProgress } from './types';

/** Counters and phase of a run so far. */
export const progressQuery = defineQuery<RunProgress>('progress');

/** Where each mapping of a full synchronization stands (the same query name as every run's, so `progress` answers for any run). */
export const fullSynchronizationProgressQuery = defineQuery<FullSynchronizationProgress>('progress');
