/** Query and signal definitions shared by the workflows and the client. */
import { defineQuery } from '@temporalio/workflow';
import type { RunProgress } from './types';

/** Counters and phase of a run so far. */
export const progressQuery = defineQuery<RunProgress>('progress');
