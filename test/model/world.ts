/**
 * The small world the model-based tests run in, and the contract between the
 * reference model and the engine under test. Both sides of the contract speak
 * in this module's terms only: the model never imports `domain/`, and the
 * engine adapters translate the engine's state into an `Observed` value.
 */
import { createHash } from 'node:crypto';

export type Side = 'local' | 'integration';
export type SyncDirection = 'ToIntegrationTable' | 'FromIntegrationTable';
export type MappingDirection = SyncDirection | 'Bidirectional';

/** The columns of each table besides its id and modified-on (the Knex tables of the tests). */
export const COLUMNS = {
  local: ['name', 'email', 'phone', 'city'],
  integration: ['name', 'emailaddress1', 'telephone1', 'address1_city'],
} as const;

export const LOCAL_TABLE = 'customer';
export const INTEGRATION_TABLE = 'account';
export const MAPPING_NAME = 'MODEL';

/**
 * A value holding this character cannot be written by the engine to a guarded
 * column (a CHECK constraint): the write fails permanently. User edits never
 * put it into a guarded column, so only a synchronization can.
 */
export const POISON = '!';
export const GUARDED: Readonly<Record<Side, string>> = { local: 'city', integration: 'name' };

/** Record values: every column is text or null. */
export type Values = Record<string, string | null>;

/** One field mapping of the world's mapping (pairs of columns at the same index of COLUMNS). */
export interface FieldSetting {
  /** Index into COLUMNS.local / COLUMNS.integration. */
  column: number;
  direction: MappingDirection;
  /** Upper-cases the value on its way in this direction (both when 'Bidirectional'); none when absent. */
  uppercase?: MappingDirection;
  /** Use for match-based coupling at this priority (0 first); not used when absent. */
  matchPriority?: number;
}

/** One condition of a table filter: the column (of that side) must not equal the value. */
export interface FilterSetting {
  column: number;
  notEqual: string;
}

export interface MappingSettings {
  direction: MappingDirection;
  syncOnlyCoupledRecords: boolean;
  updateConflictResolution: 'None' | 'SendToIntegration' | 'GetFromIntegration';
  deletionConflictResolution: 'None' | 'RemoveCoupling' | 'RestoreRecords';
  sourceDeletion: 'KeepCoupling' | 'RemoveCoupling' | 'DeleteCounterpart';
  fields: FieldSetting[];
  tableFilter: FilterSetting[];
  integrationTableFilter: FilterSetting[];
}

/** A record at the start: id and values (modified-on is the step it was written in). */
export interface SeedRecord {
  id: string;
  values: Values;
}

/** What a run step asks for. Batch settings never change the outcome; only the engine uses them. */
export interface BatchSettings {
  batchSize: number;
  maxBatchesInFlight: number;
}

export type Operation =
  | { op: 'edit'; side: Side; id: string; values: Values }
  | { op: 'create'; side: Side; id: string; values: Values }
  | { op: 'delete'; side: Side; id: string }
  | ({ op: 'bulkSync'; direction?: SyncDirection; fullSync?: boolean; recordIds?: string[]; side?: Side } & BatchSettings)
  | { op: 'singleSync'; recordId: string; side: Side; direction?: SyncDirection }
  | { op: 'retryFailed'; includeSkipped?: boolean; direction?: SyncDirection }
  | ({ op: 'matchBasedCoupling'; recordIds?: string[]; createNewIfNoMatch?: boolean; syncAfterCoupling?: boolean } & BatchSettings)
  | { op: 'setUpCoupling'; localId: string; integrationId: string; syncAfter?: boolean }
  | { op: 'uncouple'; recordIds: string[]; side: Side }
  | { op: 'uncoupleAll' };

export type Counters = Record<'inserted' | 'modified' | 'deleted' | 'unchanged' | 'skipped' | 'failed' | 'coupled' | 'uncoupled' | 'unmatched', number>;

export interface ObservedJob {
  type: 'Synchronization' | 'Coupling' | 'Uncoupling';
  direction: SyncDirection | null;
  counters: Counters;
}

/** The kind of an error row, told from its message by `errorKind`. */
export type ErrorKind =
  | 'conflict'
  | 'deletedCounterpart'
  | 'sourceDeleted'
  | 'counterpartChanged'
  | 'write'
  | 'coupledElsewhere'
  | 'outsideFilter'
  | 'notFound'
  | 'noMatch'
  | 'other';

export interface ObservedError {
  /** Index of the job (in the order of `ObservedStep.jobs`) that wrote it. */
  job: number;
  sourceId: string;
  kind: ErrorKind;
}

export interface ObservedCoupling {
  localId: string;
  integrationId: string;
  skipped: boolean;
  toIntegration: { result: 'Success' | 'Failure' | null; pending: boolean };
  fromIntegration: { result: 'Success' | 'Failure' | null; pending: boolean };
}

/** The state of both systems and the store after a step. Ids of records the engine created are canonical (see `createdId`). */
export interface Observed {
  local: Record<string, Values>;
  integration: Record<string, Values>;
  couplings: ObservedCoupling[];
  /** Failed uncoupled records: side and id, and whether skipped. */
  uncoupledFailures: { side: Side; id: string; skipped: boolean }[];
}

/** What a step returned: the jobs it wrote and their error rows, or a refusal (a run that failed at once, non-retryable). */
export type StepResult = { jobs: ObservedJob[]; errors: ObservedError[] } | { refused: true };

/**
 * The canonical id of a record the engine created on `side` from source record
 * `sourceId` of the other side, e.g. I(C3) for the account created from
 * customer C3 and L(I(C3)) for a customer created from that account.
 */
export function createdId(side: Side, sourceId: string): string {
  return side === 'integration' ? `I(${sourceId})` : `L(${sourceId})`;
}

/**
 * The id the engine gives a record it creates, written down from the documented
 * contract (README, "Idempotent creates": a UUID in the version-5 layout over
 * SHA-1 of "coupling-sync", the mapping, the source side and the source id,
 * NUL-separated), recursively for created ids. Match-based coupling breaks ties
 * by the engine's ids, so the model needs them to break ties the same way.
 */
export function engineId(side: Side, id: string): string {
  const created = /^([IL])\((.*)\)$/.exec(id);
  if (!created || (created[1] === 'I') !== (side === 'integration')) return id;
  const sourceSide: Side = side === 'integration' ? 'local' : 'integration';
  const hash = createHash('sha1')
    .update(`coupling-sync\u0000${MAPPING_NAME}\u0000${sourceSide}\u0000${engineId(sourceSide, created[2])}`)
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Code-point order of the engine's ids of two local records: who wins a contested candidate. */
export function compareLocalIds(a: string, b: string): number {
  const x = [...engineId('local', a)].map((ch) => ch.codePointAt(0) as number);
  const y = [...engineId('local', b)].map((ch) => ch.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

const ERROR_PATTERNS: readonly [ErrorKind, RegExp][] = [
  ['conflict', /changed on both sides/i],
  ['deletedCounterpart', /coupled to a deleted record/i],
  ['counterpartChanged', /counterpart (was )?changed/i],
  ['sourceDeleted', /no longer exists/i],
  ['write', /constraint/i],
  ['coupledElsewhere', /coupled in mapping/i],
  ['outsideFilter', /outside .*filter/i],
  ['notFound', /does not exist/i],
  ['noMatch', /no unique uncoupled matching record/i],
];

/** The kind of an error row's message. */
export function errorKind(message: string): ErrorKind {
  for (const [kind, pattern] of ERROR_PATTERNS) if (pattern.test(message)) return kind;
  return 'other';
}

/** The engine (or the model) as the property tests drive it: one call per step, then what can be observed. */
export interface System {
  /** Starts a world with this mapping and these records (written in step 0). */
  open(settings: MappingSettings, seed: { local: SeedRecord[]; integration: SeedRecord[] }): Promise<void>;
  /** Applies one operation as step number `step` (1, 2, ...): every write in the step is stamped with that step's time. */
  apply(step: number, operation: Operation): Promise<StepResult>;
  observe(): Promise<Observed>;
  close(): Promise<void>;
}
