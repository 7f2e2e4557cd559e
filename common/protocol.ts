/**
 * The protocol between workflows and activities: every input and result that
 * crosses the boundary, in one place. Workflows carry what is here (ids,
 * cursors, counters, leases), never record contents or credentials; the
 * activities in activities/ implement it. Types only: safe in the workflow
 * bundle.
 */
import type { BulkContinuation, MatchState } from './inputs';
import type { FilterCondition, JobCounters, JobStatus, JobType, MappingDirection, RecordKey, Side, SyncDirection } from './types';
import type { DecisionOptions } from '../domain/sync-decision';

export type { RecordKey } from './types';
export type { DecisionOptions } from '../domain/sync-decision';

// ---- Shared by every run

/** Takes or releases a mapping's lease for a run chain. */
export interface RunLockInput {
  mapping: string;
  /** The run chain holding the lease: workflow id and first run id. */
  holder: string;
}

/** Who holds a mapping's lease, and the token of that holding: what a batch of a leased run carries, checked before it writes. */
export interface RunLease {
  /** The run chain: workflow id and first run id. */
  holder: string;
  /** Rises with every new holding; a write under an older token is refused. */
  token: number;
}

/** A batch's share of a keyset scan: the records after `after` through `through`, in (modifiedOn, id) order. */
export interface KeyRange {
  /** Exclusive start; null for the beginning of the table. */
  after: RecordKey | null;
  /** Inclusive end. */
  through: RecordKey;
  /** Records in the range when it was planned (for match-based coupling: uncoupled ones). */
  size: number;
}

// ---- Synchronization passes (activities/sync)

/** Opens a synchronization pass: validates the mapping for the direction and creates the job row. */
export interface StartPassInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  type: JobType;
  workflowId: string;
  runId: string;
  /** Read all records instead of those past the watermark. */
  fullSync: boolean;
  /** A run for given ids: resolved to source ids when the pass starts (see GivenIds). */
  given?: { side: Side; ids: string[] };
}

/**
 * Given ids as a pass takes them, resolved before it writes anything, so that
 * what one batch creates cannot change what another batch's ids name: ids of
 * the destination side become the source ids they are coupled to, and those
 * neither coupled nor existing are `absent`.
 */
export interface GivenIds {
  /** The pass's source side, which `sourceIds` are on. */
  side: Side;
  sourceIds: string[];
  absent: string[];
}

/** What a pass starts from. */
export interface StartPassResult {
  jobId: string;
  /** Watermark to read past; null for a full sync. */
  since: string | null;
  startedAt: string;
  /** The mapping's source-deletion rule asks every pass to check its couplings' source records still exist. */
  sweep: boolean;
  /** Set when the input's given ids are on the destination side. */
  given?: GivenIds;
}

/** Asks for the boundaries of the next `count` batches of a pass's keyset scan. */
export interface PlanBatchesInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  since: string | null;
  after: RecordKey | null;
  batchSize: number;
  count: number;
  /** Counters so far, saved on the job row so the store shows progress. */
  counters: JobCounters;
  /** The run's lease on the mapping: checked and renewed with every round. */
  lease?: RunLease;
}

/** The next batches of a pass, as key ranges (never record contents). */
export interface PlanBatchesResult {
  ranges: KeyRange[];
  /** No records past the last range. */
  exhausted: boolean;
}

/** Which source records a batch covers. */
export type BatchSelection =
  | { kind: 'range'; since: string | null; after: RecordKey | null; through: RecordKey }
  /** `absent`: ids of the destination side that neither existed nor were coupled when the pass started (refused as notFound). */
  | { kind: 'ids'; ids: string[]; side: Side; absent?: string[] }
  /** Couplings that need the pass's direction (failed or pending), after a coupling id. */
  | { kind: 'retry'; afterId: number; limit: number; includeSkipped: boolean }
  /** Failed uncoupled records of the source side, after an entry id. */
  | { kind: 'retryUncoupled'; afterId: number; limit: number; includeSkipped: boolean }
  /** Couplings whose source records the deletion sweep checks, after a coupling id. */
  | { kind: 'sweep'; afterId: number; limit: number }
  /** Couplings a match-based coupling job matched ("synchronize after coupling"), after a coupling id. */
  | { kind: 'matchedBy'; jobId: string; afterId: number; limit: number };

/** One batch of a pass: which source records, how to decide, how many attempts before error rows. */
export interface SyncBatchInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  selection: BatchSelection;
  options: DecisionOptions;
  /** Attempts after which a record that keeps failing gets an error row. */
  maxAttempts: number;
  /** The run's lease on the mapping, when it holds one: the batch writes nothing once another run took it. */
  lease?: RunLease;
}

/** What a batch did. */
export interface SyncBatchResult {
  counters: JobCounters;
  /** Source records read. */
  scanned: number;
  /** For paged selections (retry, retryUncoupled, sweep): where the next page starts, or null at the end. */
  nextAfterId: number | null;
}

/** A batch whose retries were exhausted: each record it would have handled gets an error row. */
export interface FailBatchInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  selection: BatchSelection;
  message: string;
  lease?: RunLease;
}

/** Closes a pass's job row and moves its watermark. */
export interface FinishPassInput {
  mapping: string;
  direction: SyncDirection;
  jobId: string;
  counters: JobCounters;
  status: JobStatus;
  message: string | null;
  /** Move the source side's watermark: the largest modified-on scanned and the job's start. */
  watermark: { largestScanned: string | null; startedAt: string } | null;
  /** Moving the watermark needs the run's lease still held. */
  lease?: RunLease;
}

/** Which way a single-record sync goes (see SingleDirection). */
export interface ChooseDirectionInput {
  mapping: string;
  recordId: string;
  side: Side;
  /** The caller's direction; null lets the mapping and the changes decide. */
  direction: SyncDirection | null;
  jobId: string;
  workflowId: string;
  runId: string;
}

/** Synchronize Now for one record, in one activity: the direction as chooseSingleDirection picks it, then the record. */
export interface SyncSingleRecordInput extends ChooseDirectionInput {
  /** Attempts after which the record, if it keeps failing, gets an error row. */
  maxAttempts: number;
}

/** The direction chosen for a single-record sync, its source record, and whether both sides changed with no winner. */
export interface SingleDirection {
  direction: SyncDirection;
  sourceId: string;
  conflict: boolean;
}

// ---- Coupling jobs, Set Up Coupling and uncoupling (activities/coupling)

/** Opens a coupling or uncoupling job (and the synchronization job that may follow it). */
export interface StartCouplingJobInput {
  mapping: string;
  jobId: string;
  type: 'Coupling' | 'Uncoupling';
  workflowId: string;
  runId: string;
  /** For match-based coupling: the criteria, the caller's filter and create-new are checked before any batch. */
  matchBased?: { filter: FilterCondition[]; createNewIfNoMatch?: boolean };
  /** Open a synchronization job for the records coupled; absent: the mapping's "sync after bulk coupling" for match-based, else no. */
  syncAfter?: boolean;
}

/** The synchronization job that follows the coupling ("Synchronize after coupling"). */
export interface SyncAfterJob {
  jobId: string;
  direction: SyncDirection;
  /** Counters stored so far: a continued run carries on from them. */
  counters: JobCounters;
}

/** What a coupling job starts from (a continued run finds its counters again). */
export interface StartCouplingJobResult {
  jobId: string;
  startedAt: string;
  /** Counters stored so far on the job row. */
  counters: JobCounters;
  /** The caller's choice, or the mapping's default. */
  createNewIfNoMatch: boolean;
  /** Match-based coupling: how many rounds (match priorities) it runs. */
  levels: number;
  sync: SyncAfterJob | null;
}

/** Set Up Coupling: couple these two records. */
export interface SetUpCouplingActivityInput {
  mapping: string;
  jobId: string;
  localId: string;
  integrationId: string;
}

/** What Set Up Coupling did. */
export interface SetUpCouplingResult {
  counters: JobCounters;
  /** The two records were already coupled to each other: nothing to do. */
  alreadyCoupled: boolean;
}

/** Which couplings an uncouple batch removes. */
/** `deleteRecords`: the records too, those whose counterpart no longer exists (activities/coupling/delete-orphans.ts). */
export type UncoupleSelection = { kind: 'ids'; ids: string[]; side: Side; deleteRecords?: boolean } | { kind: 'all'; maxCouplings: number };

/** One batch of uncoupling. */
export interface UncoupleBatchInput {
  mapping: string;
  jobId: string;
  selection: UncoupleSelection;
  /** Uncoupling a whole mapping holds its lease: nothing is removed once another run took it. */
  lease?: RunLease;
}

/** What an uncouple batch did. */
export interface UncoupleBatchResult {
  counters: JobCounters;
  /** For 'all': no coupling of the mapping is left. */
  done: boolean;
}

/** Closes a coupling or uncoupling job row. */
export interface FinishCouplingJobInput {
  mapping: string;
  jobId: string;
  counters: JobCounters;
  status: JobStatus;
  message: string | null;
  /** Match-based coupling: count coupled and inserted from the couplings the job made (exact after any retry). */
  recount?: boolean;
}

// ---- Match-based coupling (activities/coupling)

/** Asks for the next ranges of uncoupled local records for match-based coupling. */
export interface PlanLocalBatchesInput {
  mapping: string;
  jobId: string;
  /** The caller's filter, on top of the mapping's table filter. */
  filter: FilterCondition[];
  after: RecordKey | null;
  batchSize: number;
  /** Ranges wanted; at most batchSize * count keys are scanned per call. */
  count: number;
  /** Counters so far, saved on the job row so the store shows progress. */
  counters: JobCounters;
  /** The run's lease on the mapping: checked and renewed with every round. */
  lease?: RunLease;
}

/** The next ranges of a match-based coupling. */
export interface PlanLocalBatchesResult {
  ranges: KeyRange[];
  /** Where the next plan starts: the last key scanned. */
  next: RecordKey | null;
  exhausted: boolean;
}

/** Which local records a match batch covers: a keyset range (as planned) or ids given by the caller. */
export type LocalSelection = { kind: 'range'; after: RecordKey | null; through: RecordKey } | { kind: 'ids'; ids: string[] };

/** What every match-based coupling batch carries. */
export interface MatchBatchBase {
  mapping: string;
  jobId: string;
  selection: LocalSelection;
  filter: FilterCondition[];
  createNewIfNoMatch: boolean;
  /** The run's lease on the mapping: a batch writes nothing once another run took it. */
  lease?: RunLease;
}

/** One round's batch: claim candidates at one match priority. */
export interface ClaimBatchInput extends MatchBatchBase {
  /** Index of the round (into the mapping's match priorities, ascending). */
  level: number;
}

/** Resolves one round's claims into couplings. */
export interface ResolveMatchLevelInput {
  mapping: string;
  jobId: string;
  level: number;
  lease?: RunLease;
}

/** The last pass over a batch: create (create-new) or write an error row for what is still uncoupled. */
export interface FinishMatchBatchInput extends MatchBatchBase {
  /** Attempts after which the batch's remaining records get error rows. */
  maxAttempts: number;
}

/** What a match batch did. */
export interface MatchBatchResult {
  counters: JobCounters;
  /** Local records read (coupled ones included). */
  scanned: number;
}

/** Drops a match-based coupling job's claims once it is done. */
export interface ClearMatchClaimsInput {
  jobId: string;
}

// ---- Full synchronization (activities/full-sync.ts)

/** Plans a full synchronization: these mappings (all when absent) and what they depend on. */
export interface PlanFullSynchronizationInput {
  mappings?: string[];
}

/** The mappings of a full synchronization, each after every mapping it depends on; each checked against its tables. */
export interface FullSynchronizationPlan {
  mappings: { name: string; dependsOn: string[]; direction: MappingDirection }[];
}

/** Reviews one mapping before a full synchronization syncs it. */
export interface ReviewMappingInput {
  mapping: string;
}

// ---- Runs that continue as new, and what a person reads first (activities/store-activities)

/** Saves where a run stands before it continues as new. */
export interface SuspendRunInput {
  jobId: string;
  counters: JobCounters;
  /** Where the run stands: a pass's or a match-based coupling's state. */
  state: BulkContinuation | MatchState;
}

/** Reads where a continued run stands, checking the continuation is its own. */
export interface ResumeRunInput {
  /** The job the continuation names. */
  jobId: string;
  workflowId: string;
  /** The first run of this workflow's continue-as-new chain: the run that opened the job. */
  firstRunId: string;
  kind: 'pass' | 'match';
}

/** Where a continued run stands: its counters and its pass's or match's state. */
export interface ResumedRun {
  counters: JobCounters;
  pass: BulkContinuation | null;
  match: MatchState | null;
}

/** Which passes a run makes: the mapping's directions, or the one asked for. */
export interface PlanRunInput {
  mapping: string;
  direction?: SyncDirection;
}

/** What describeMapping answers: a mapping, its coupling count and last job. */
export interface MappingOverview {
  name: string;
  direction: string;
  localTable: string;
  integrationTable: string;
  couplings: number;
  lastJob: { jobId: string; status: string; counters: JobCounters } | null;
}
