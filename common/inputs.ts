/**
 * Workflow inputs: one plain JSON object per workflow, the shape a person types
 * in the Web UI's Start Workflow form. The same zod schemas validate on the
 * client and as the first step of each workflow, so a bad input fails at once
 * with the field named. Imported by workflow code: keep it pure.
 */
import { z } from 'zod';
import { MAX_BATCH_SIZE, MAX_FULL_SYNC_MAPPINGS, MAX_MAPPINGS_IN_FLIGHT, MAX_RECORD_IDS } from './constants';
import { FILTER_OPERATORS, SYNC_DIRECTIONS } from './types';
import { DURATION_PATTERN } from './idle-backoff';
import { filterValueProblem, MAX_FILTER_CONDITIONS, MAX_FILTER_LIST, MAX_FILTER_TEXT } from './filter-grammar';

/** A RegExp of this module's own: zod writes `lastIndex`, and the shared one is frozen in workflow code. */
const duration = (): RegExp => new RegExp(DURATION_PATTERN.source, DURATION_PATTERN.flags);

const mappingName = z
  .string()
  .trim()
  .min(1, 'must name an integration table mapping, e.g. "CUSTOMER"')
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may hold only letters, digits, "_", "." and "-"');

/**
 * PostgreSQL text cannot hold a NUL character, so an id or filter value with one
 * would pass here and then fail every attempt of a batch with a driver error;
 * no system of record has such ids, so it is refused up front, naming the field.
 */
const withoutNul = (text: string): boolean => !text.includes('\u0000');
const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';

const recordId = z.string().min(1, 'must not be empty').max(200).refine(withoutNul, NUL_MESSAGE);
const recordIds = z.array(recordId).min(1).max(MAX_RECORD_IDS, `at most ${MAX_RECORD_IDS} ids per run; use a filter for more`);
const side = z.enum(['local', 'integration']);
const syncDirection = z.enum(SYNC_DIRECTIONS);

const scalar = z.union([z.string().max(MAX_FILTER_TEXT).refine(withoutNul, NUL_MESSAGE), z.number().finite(), z.boolean(), z.null()]);
/** One condition; which value each operator takes is the filter grammar's (common/filter-grammar.ts). */
export const filterConditionSchema = z
  .strictObject({
    field: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a column name (letters, digits, "_")'),
    op: z.enum(FILTER_OPERATORS),
    value: z.union([scalar, z.array(scalar).max(MAX_FILTER_LIST)]).optional(),
  })
  .superRefine((condition, ctx) => {
    const problem = filterValueProblem(condition);
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });
export const filterSchema = z.array(filterConditionSchema).max(MAX_FILTER_CONDITIONS);

/** Optional override of the activity retry policy (tests and impatient operators use short ones). */
const retryOverride = z.strictObject({
  maximumAttempts: z.number().int().min(1).max(100).optional(),
  initialIntervalMs: z.number().int().min(10).max(3_600_000).optional(),
  /** How soon an activity whose worker died is handed to another worker. @default 120000 for batches, 10000 for control activities */
  heartbeatTimeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
});

const cursor = z.strictObject({ modifiedOn: z.string(), id: z.string() });
const counters = z.strictObject({
  inserted: z.number(),
  modified: z.number(),
  deleted: z.number(),
  unchanged: z.number(),
  skipped: z.number(),
  failed: z.number(),
  coupled: z.number(),
  uncoupled: z.number(),
  unmatched: z.number(),
});
const jobSummary = z.strictObject({
  jobId: z.string(),
  type: z.enum(['Synchronization', 'Coupling', 'Uncoupling']),
  direction: syncDirection.nullable(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled', 'abandoned']),
  counters,
});

/**
 * Where a pass stands when its run continues as new. Kept on the pass's job
 * row, never in a workflow input: a start cannot forge a cursor or counters.
 */
export const passStateSchema = z.strictObject({
  passIndex: z.number().int().min(0),
  jobId: z.string(),
  phase: z.enum(['retry', 'retryUncoupled', 'scan', 'sweep']),
  /** Where a paged phase (retry, retryUncoupled, sweep) goes on. */
  afterId: z.number().int().min(0),
  cursor: cursor.nullable(),
  counters,
  recordsScanned: z.number().int(),
  batchesCompleted: z.number().int(),
  finishedJobs: z.array(jobSummary),
  /** Given ids of the destination side as the pass resolved them when it started (common/protocol GivenIds). */
  given: z.strictObject({ side, sourceIds: z.array(z.string()), absent: z.array(z.string()) }).optional(),
});

/** Where a match-based coupling stands when its run continues as new; kept on its job row. */
export const matchStateSchema = z.strictObject({ cursor: z.string(), batchesCompleted: z.number().int().min(0) });

/**
 * What a run that continues as new passes to its next run: the job whose row
 * holds where it stands. Set only by the run itself; a start with one is
 * refused unless the job is this workflow's own, still running.
 */
export const continuationSchema = z.strictObject({ jobId: z.string().min(1).max(64) });

export const singleSyncInputSchema = z.strictObject({
  mapping: mappingName,
  recordId,
  side: side.optional(),
  direction: syncDirection.optional(),
  retry: retryOverride.optional(),
});

export const bulkSyncInputSchema = z
  .strictObject({
    mapping: mappingName,
    direction: syncDirection.optional(),
    recordIds: recordIds.optional(),
    side: side.optional(),
    /**
     * With recordIds: retry these even when skipped (the flag is cleared), and a
     * direction given wins their conflicts (BC's Retry / Synchronize on the
     * errors page). Runs without ids use retryFailed for that.
     */
    includeSkipped: z.boolean().optional(),
    /**
     * With recordIds: the side that wins these records' conflicts, while every
     * direction of the mapping runs (BC's Synchronize on a record changed on
     * both sides): the winner's pass writes, the other's finds them in sync.
     */
    winner: syncDirection.optional(),
    /** With recordIds: a counterpart that was deleted is created again and coupled, whatever deletionConflictResolution says (BC's Restore records). */
    restoreDeleted: z.boolean().optional(),
    fullSync: z.boolean().optional(),
    /** Create uncoupled records even when the mapping syncs only coupled ones (what a full synchronization asks). */
    createUncoupled: z.boolean().optional(),
    batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE).optional(),
    maxBatchesInFlight: z.number().int().min(1).max(32).optional(),
    batchesPerRun: z.number().int().min(1).max(1000).optional(),
    retry: retryOverride.optional(),
    continuation: continuationSchema.optional(),
    /** Set by the Schedule that starts this run: its interval and how far idle runs may lengthen it (see client/schedules). */
    schedule: z
      .strictObject({
        every: z.string().regex(duration(), 'must be a duration such as "30 minutes"'),
        idleUpTo: z.string().regex(duration(), 'must be a duration such as "720 minutes"').optional(),
      })
      .optional(),
  })
  .refine((input) => !input.winner || input.recordIds !== undefined, {
    message: '"winner" goes with "recordIds": the records whose conflicts it decides',
    path: ['winner'],
  })
  .refine((input) => !input.restoreDeleted || input.recordIds !== undefined, {
    message: '"restoreDeleted" goes with "recordIds": the records whose deleted counterparts are created again',
    path: ['restoreDeleted'],
  })
  .refine((input) => !input.includeSkipped || input.recordIds !== undefined, {
    message: '"includeSkipped" goes with "recordIds"; to retry every skipped record of a mapping, run retryFailed with includeSkipped',
    path: ['includeSkipped'],
  });

export const retryFailedInputSchema = z.strictObject({
  mapping: mappingName,
  includeSkipped: z.boolean().optional(),
  direction: syncDirection.optional(),
  retry: retryOverride.optional(),
  continuation: continuationSchema.optional(),
});

export const matchBasedCouplingInputSchema = z.strictObject({
  mapping: mappingName,
  recordIds: recordIds.optional(),
  filter: filterSchema.optional(),
  createNewIfNoMatch: z.boolean().optional(),
  syncAfterCoupling: z.boolean().optional(),
  batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE).optional(),
  maxBatchesInFlight: z.number().int().min(1).max(32).optional(),
  batchesPerRun: z.number().int().min(1).max(1000).optional(),
  retry: retryOverride.optional(),
  continuation: continuationSchema.optional(),
});

export const setUpCouplingInputSchema = z.strictObject({
  mapping: mappingName,
  localId: recordId,
  integrationId: recordId,
  syncAfter: z.boolean().optional(),
  retry: retryOverride.optional(),
});

export const uncoupleInputSchema = z
  .strictObject({
    mapping: mappingName,
    recordIds: recordIds.optional(),
    side: side.optional(),
    all: z.literal(true).optional(),
    /**
     * With recordIds: the given records are deleted too when their counterpart
     * no longer exists (BC's Delete records, for a deletion conflict); one
     * whose counterpart exists is left as it is, with an error row.
     */
    deleteRecords: z.boolean().optional(),
    retry: retryOverride.optional(),
  })
  .refine((v) => (v.recordIds === undefined) !== (v.all === undefined), {
    message: 'give either "recordIds" (a list of ids) or "all": true, not both and not neither',
    path: ['recordIds'],
  })
  .refine((v) => !v.deleteRecords || v.recordIds !== undefined, {
    message: '"deleteRecords" goes with "recordIds": the records coupled to deleted ones',
    path: ['deleteRecords'],
  });

export const describeMappingInputSchema = z.strictObject({ mapping: mappingName });

/**
 * BC's "Run Full Synchronization": every mapping (or these and what they
 * depend on), each after its dependencies. No continuation: the run's history
 * grows by a few events per mapping, and the mappings are bounded.
 */
export const fullSynchronizationInputSchema = z.strictObject({
  mappings: z.array(mappingName).min(1).max(MAX_FULL_SYNC_MAPPINGS).optional(),
  /** Both tables hold records and few are coupled: couple by match fields first, or stop that mapping (and its dependants). @default 'couple' */
  onPopulated: z.enum(['couple', 'stop']).optional(),
  /** Mappings synchronized at once, among those whose dependencies are done. @default 4 */
  maxMappingsInFlight: z.number().int().min(1).max(MAX_MAPPINGS_IN_FLIGHT).optional(),
  batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE).optional(),
  maxBatchesInFlight: z.number().int().min(1).max(32).optional(),
  retry: retryOverride.optional(),
});

/**
 * A change notification for live sync: records changed on one side (their
 * ids), or "many changed" (`many`: read the changes yourself, an incremental
 * run), as BC's `collection` notification says. Ids only, never contents.
 */
export const liveChangeSchema = z
  .strictObject({
    side,
    ids: z.array(recordId).min(1).max(MAX_RECORD_IDS).optional(),
    many: z.literal(true).optional(),
  })
  .refine((v) => (v.ids === undefined) !== (v.many === undefined), {
    message: 'give either "ids" (the records that changed) or "many": true, not both and not neither',
    path: ['ids'],
  });

/** Pending changes carried over continue-as-new: ids per side, and the sides where many changed. */
const livePendingSchema = z.strictObject({
  local: z.array(recordId).max(MAX_RECORD_IDS),
  integration: z.array(recordId).max(MAX_RECORD_IDS),
  many: z.array(side).max(2),
});

/** Live sync of one mapping: change notifications coalesced and synchronized as they arrive (one workflow per mapping). */
export const liveSyncInputSchema = z.strictObject({
  mapping: mappingName,
  /** How long notifications are coalesced before a run. @default 500 */
  debounceMs: z.number().int().min(0).max(60_000).optional(),
  /** Record ids per run; a run starts at once when this many are pending. @default 1000 */
  maxBatch: z.number().int().min(1).max(MAX_RECORD_IDS).optional(),
  /** Runs before the workflow continues as new (its history stays bounded). @default 100 */
  runsPerWorkflow: z.number().int().min(1).max(1000).optional(),
  /** Start paused: notifications are kept, nothing runs until resumed. */
  paused: z.boolean().optional(),
  retry: retryOverride.optional(),
  /** Set by the workflow when it continues as new. */
  pending: livePendingSchema.optional(),
  /** Set by the workflow when it continues as new: runs so far, over all its workflow runs. */
  runs: z.number().int().min(0).optional(),
});

/**
 * Log retention: job and error rows older than `days` are deleted in batches
 * (couplings never). `before` and `deleted` are set by the run itself when it
 * continues as new, so the cutoff stays the one it started with.
 */
export const logRetentionInputSchema = z.strictObject({
  days: z.number().int().min(1).max(36_500),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  /** Batches before the run continues as new. @default 200 */
  batchesPerRun: z.number().int().min(1).max(1000).optional(),
  before: z.iso.datetime().optional(),
  deleted: z.strictObject({ errors: z.number().int().min(0), jobs: z.number().int().min(0) }).optional(),
  retry: retryOverride.optional(),
});

export type LogRetentionInput = z.infer<typeof logRetentionInputSchema>;
export type LiveChange = z.infer<typeof liveChangeSchema>;
export type LivePending = z.infer<typeof livePendingSchema>;
export type LiveSyncInput = z.infer<typeof liveSyncInputSchema>;
export type DescribeMappingInput = z.infer<typeof describeMappingInputSchema>;
export type RetryOverride = z.infer<typeof retryOverride>;
export type BulkContinuation = z.infer<typeof passStateSchema>;
export type MatchState = z.infer<typeof matchStateSchema>;
export type Continuation = z.infer<typeof continuationSchema>;
export type SingleSyncInput = z.infer<typeof singleSyncInputSchema>;
export type BulkSyncInput = z.infer<typeof bulkSyncInputSchema>;
export type RetryFailedInput = z.infer<typeof retryFailedInputSchema>;
export type MatchBasedCouplingInput = z.infer<typeof matchBasedCouplingInputSchema>;
export type SetUpCouplingInput = z.infer<typeof setUpCouplingInputSchema>;
export type UncoupleInput = z.infer<typeof uncoupleInputSchema>;
export type FullSynchronizationInput = z.infer<typeof fullSynchronizationInputSchema>;

export const INPUT_SCHEMAS = {
  singleSync: singleSyncInputSchema,
  bulkSync: bulkSyncInputSchema,
  retryFailed: retryFailedInputSchema,
  matchBasedCoupling: matchBasedCouplingInputSchema,
  setUpCoupling: setUpCouplingInputSchema,
  uncouple: uncoupleInputSchema,
  describeMapping: describeMappingInputSchema,
  fullSynchronization: fullSynchronizationInputSchema,
  liveSync: liveSyncInputSchema,
  logRetention: logRetentionInputSchema,
} as const;
