/**
 * Names and defaults shared by the worker, the client and the workflows.
 * Defined once so a task queue or attribute name is never spelled out twice.
 */

/** Task queue of the dedicated coupling & sync worker. @default 'coupling-sync' */
export const TASK_QUEUE = 'coupling-sync';

/** Custom search attributes the workflows set so runs can be filtered in the Web UI. */
export const SEARCH_ATTRIBUTE_MAPPING = 'CouplingMapping';
export const SEARCH_ATTRIBUTE_RUN_KIND = 'CouplingRunKind';

/** Records per batch activity. @default 500 */
export const DEFAULT_BATCH_SIZE = 500;
/** Upper bound a caller may ask for, so one activity result stays small. */
export const MAX_BATCH_SIZE = 5000;
/** Batch activities running at once for one run. @default 4 */
export const DEFAULT_MAX_BATCHES_IN_FLIGHT = 4;
/** Batches a run processes before it continues as new, keeping each history bounded. @default 200 */
export const DEFAULT_BATCHES_PER_RUN = 200;
/** Ids a person or service may pass in one input; more belongs in a filter. */
export const MAX_RECORD_IDS = 10_000;
/** Mappings a full synchronization runs at once, among those whose dependencies are done. @default 4 */
export const DEFAULT_MAX_MAPPINGS_IN_FLIGHT = 4;
export const MAX_MAPPINGS_IN_FLIGHT = 32;
/**
 * Mappings one full synchronization may cover: its history grows by about a
 * dozen events per mapping and its result by about a kilobyte, so it stays
 * far below Temporal's limits without continuing as new.
 */
export const MAX_FULL_SYNC_MAPPINGS = 500;

/** Activity retry policy used unless an input overrides it. */
export const DEFAULT_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
} as const;

/** Failure types used for non-retryable ApplicationFailures, so callers can tell them apart. */
export const FAILURE_TYPES = {
  invalidInput: 'InvalidInput',
  unknownMapping: 'UnknownMapping',
  invalidMapping: 'InvalidMapping',
  couplingRefused: 'CouplingRefused',
  throttled: 'Throttled',
  recordsFailed: 'RecordsFailed',
  mappingBusy: 'MappingBusy',
  leaseLost: 'LeaseLost',
  authentication: 'AuthenticationFailed',
} as const;

/** Live sync windows up to this long wait in the worker (activities/live-wait.ts); longer ones are timers, whose lateness is small beside them. */
export const WORKER_WAIT_MAX_MS = 2_000;
