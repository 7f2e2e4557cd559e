/**
 * Types shared by the client, the workflows and the activities. Pure types and
 * constants only: this module is imported by workflow code.
 */

/** A side of a table mapping: local = the table side (BC), integration = the integration table side (Dataverse). */
export type Side = 'local' | 'integration';

/** Position of a record in the (modifiedOn, id) order used for keyset paging. */
export interface RecordKey {
  modifiedOn: string;
  id: string;
}

/** Direction of a table mapping, as in BC's "Integration Table Mapping". */
export type MappingDirection = 'ToIntegrationTable' | 'FromIntegrationTable' | 'Bidirectional';
export const MAPPING_DIRECTIONS = ['ToIntegrationTable', 'FromIntegrationTable', 'Bidirectional'] as const;

/** Direction of one synchronization pass. */
export type SyncDirection = 'ToIntegrationTable' | 'FromIntegrationTable';
export const SYNC_DIRECTIONS = ['ToIntegrationTable', 'FromIntegrationTable'] as const;

/** Which side wins when both changed since the last sync. */
export type UpdateConflictResolution = 'None' | 'SendToIntegration' | 'GetFromIntegration';
export const UPDATE_CONFLICT_RESOLUTIONS = ['None', 'SendToIntegration', 'GetFromIntegration'] as const;

/** What to do when a changed record's coupled counterpart no longer exists. */
export type DeletionConflictResolution = 'None' | 'RemoveCoupling' | 'RestoreRecords';
export const DELETION_CONFLICT_RESOLUTIONS = ['None', 'RemoveCoupling', 'RestoreRecords'] as const;

/** What to do when a coupled record is deleted on a pass's source side: keep the coupling (BC), remove it, or delete the counterpart too. */
export type SourceDeletion = 'KeepCoupling' | 'RemoveCoupling' | 'DeleteCounterpart';
export const SOURCE_DELETIONS = ['KeepCoupling', 'RemoveCoupling', 'DeleteCounterpart'] as const;

export const FILTER_OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'notIn', 'contains', 'startsWith', 'isNull', 'isNotNull'] as const;
/** Operator of a structured filter condition; never raw SQL. */
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** A scalar a filter or constant may hold. */
export type Scalar = string | number | boolean | null;

/** One condition of a table filter; conditions are combined with AND. */
export interface FilterCondition {
  /** Column (field) name on that side's table. */
  field: string;
  /** Comparison operator. */
  op: FilterOperator;
  /** Value to compare with; a list for in/notIn; absent for isNull/isNotNull. */
  value?: Scalar | Scalar[];
}

/** Kinds of run, also the values of the CouplingRunKind search attribute. */
export type RunKind =
  | 'singleSync'
  | 'bulkSync'
  | 'retryFailed'
  | 'matchBasedCoupling'
  | 'setUpCoupling'
  | 'uncouple'
  | 'describeMapping'
  | 'fullSynchronization'
  | 'liveSync'
  | 'logRetention';

/** Type of a sync job row, as in BC's "Integration Synch. Job". */
export type JobType = 'Synchronization' | 'Coupling' | 'Uncoupling';

/** Status of a sync job row. */
/** `abandoned`: the run that opened it ended without closing it (terminated); closed by the next run of the mapping. */
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned';

/** Counters of a job; every run adds to the ones that apply to it. */
export interface JobCounters {
  /** Records created on the destination side (by sync, restore or create-if-no-match). */
  inserted: number;
  /** Destination records updated. */
  modified: number;
  /** Destination records deleted. */
  deleted: number;
  /** Records read that needed no write. */
  unchanged: number;
  /** Records excluded because their coupling is marked skipped. */
  skipped: number;
  /** Records that failed (with an error row). */
  failed: number;
  /** Couplings created. */
  coupled: number;
  /** Couplings removed. */
  uncoupled: number;
  /** Records match-based coupling could not match (each also has an error row unless created). */
  unmatched: number;
}

export const COUNTER_NAMES: readonly (keyof JobCounters)[] = [
  'inserted',
  'modified',
  'deleted',
  'unchanged',
  'skipped',
  'failed',
  'coupled',
  'uncoupled',
  'unmatched',
];

export function emptyCounters(): JobCounters {
  return { inserted: 0, modified: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0, coupled: 0, uncoupled: 0, unmatched: 0 };
}

export function addCounters(a: JobCounters, b: Partial<JobCounters>): JobCounters {
  const sum = { ...a };
  for (const name of COUNTER_NAMES) sum[name] += b[name] ?? 0;
  return sum;
}

/** A job as reported to callers: ids and counts only. */
export interface JobSummary {
  /** Id of the sync job row. */
  jobId: string;
  /** Job type. */
  type: JobType;
  /** Pass direction, for synchronization jobs. */
  direction: SyncDirection | null;
  /** Final status. */
  status: JobStatus;
  /** Counters of the job. */
  counters: JobCounters;
}

/** Result of every workflow: the jobs it wrote. */
export interface RunResult {
  /** Mapping the run worked on. */
  mapping: string;
  /** Job rows written by the run, in order. */
  jobs: JobSummary[];
}

/** What the `progress` query answers while a run is going. */
export interface RunProgress {
  /** Mapping the run works on. */
  mapping: string;
  /** Current phase. */
  phase: 'starting' | 'running' | 'finishing' | 'done' | 'cancelled' | 'failed';
  /** Direction of the pass under way, for sync runs. */
  direction: SyncDirection | null;
  /** Job row of the pass under way. */
  jobId: string | null;
  /** Counters of the pass under way so far. */
  counters: JobCounters;
  /** Jobs already finished by this run. */
  finishedJobs: JobSummary[];
  /** Records read so far in the pass under way. */
  recordsScanned: number;
  /** Batches completed so far in the pass under way. */
  batchesCompleted: number;
  /** Batch activities currently running. */
  batchesInFlight: number;
}

/**
 * Where one mapping of a full synchronization stands: waiting for what it
 * depends on, reviewing its tables, coupling by match fields, syncing, done or
 * failed; notStarted when a mapping it depends on did not finish (or the run
 * was cancelled first); cancelled when the run was cancelled while it ran.
 */
export type MappingRunState = 'waiting' | 'reviewing' | 'coupling' | 'syncing' | 'done' | 'failed' | 'notStarted' | 'cancelled';

/** What the review of a mapping counted (see domain/full-sync-review.ts). */
export interface MappingReview {
  /** Local records within the table filter, counted only as far as the decision needs (`countedUpTo`). */
  localRecords: number;
  /** Integration records within the integration table filter, counted the same way. */
  integrationRecords: number;
  /** Couplings of the mapping. */
  couplings: number;
  /** Each side was counted up to this many records. */
  countedUpTo: number;
  /** Both sides hold records and few are coupled: match-based coupling before syncing. */
  needsCoupling: boolean;
}

/** One mapping of a full synchronization, as its progress and result report it: ids and counts only. */
export interface MappingRunProgress {
  mapping: string;
  /** The mappings of this run it waits for. */
  dependsOn: string[];
  state: MappingRunState;
  /** Why it failed or was not started; null otherwise. */
  reason: string | null;
  review: MappingReview | null;
  /** Child workflows started for it, in order (match-based coupling, then bulk sync). */
  workflowIds: string[];
  /** Jobs its finished child workflows wrote. */
  jobs: JobSummary[];
  /** Their counters added up. */
  counters: JobCounters;
}

/** What a full synchronization's `progress` query answers. */
export interface FullSynchronizationProgress {
  phase: 'planning' | 'running' | 'done' | 'cancelled' | 'failed';
  /** Every mapping of the run, in dependency order. */
  mappings: MappingRunProgress[];
}

/** Result of a full synchronization: `incomplete` when a mapping failed or was not started (each says why). */
export interface FullSynchronizationResult {
  status: 'succeeded' | 'incomplete';
  mappings: MappingRunProgress[];
}

/** What a live sync's `progress` query answers. */
export interface LiveSyncState {
  mapping: string;
  phase: 'waiting' | 'coalescing' | 'running' | 'paused' | 'stopped';
  paused: boolean;
  /** Record ids waiting for a run, per side; the sides where many changed (an incremental run). */
  pending: { local: number; integration: number; many: Side[] };
  /** Runs so far, over every workflow run of this live sync. */
  runs: number;
  /** Notifications received by this workflow run, and those refused (not a valid change; logged). */
  notifications: number;
  refused: number;
  /** Changes on a side the mapping does not read from (nothing to synchronize). */
  ignored: number;
  /** The last run: its child workflow and jobs. */
  lastRun: { workflowId: string; status: 'succeeded' | 'failed' | 'busy'; jobs: JobSummary[]; message: string | null } | null;
}
