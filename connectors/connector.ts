/**
 * The connector contract: what a system of record implements so records can be
 * coupled and synchronized with it. Every method works on a batch: no
 * per-record round trips. Modified-on values and ids travel as strings, exactly
 * as the system reports them (no rounding), and must sort in the system's order.
 */
import type { FilterCondition, RecordKey } from '../common/types';
import { ConnectorError } from './connector-error';

export type { RecordKey } from '../common/types';

/** A record as read from a system: its id, modified-on, optional concurrency token and the requested fields. */
export interface SourceRecord {
  id: string;
  modifiedOn: string;
  /** Concurrency token (ETag, row version) when the system has one. */
  version?: string;
  values: Record<string, unknown>;
}

export interface ReadChangedRequest {
  table: string;
  /** Fields to return (besides id and modified-on). */
  fields: string[];
  /** Conditions all returned records satisfy. */
  filter: FilterCondition[];
  /** Only records modified after this value; all when null. */
  since: string | null;
  /** Only records after this key (exclusive). */
  after: RecordKey | null;
  /** Only records up to this key (inclusive). */
  through: RecordKey | null;
  limit: number;
}

export type ScanKeysRequest = Omit<ReadChangedRequest, 'fields' | 'through'>;

export interface GetManyRequest {
  table: string;
  ids: string[];
  fields: string[];
  /** Only records that satisfy these conditions too (the same meaning as in readChanged); all when absent. */
  filter?: FilterCondition[];
}

/** A record to create; `key` is an idempotency key: creating the same key twice must yield one record. */
export interface CreateRecord {
  key: string;
  values: Record<string, unknown>;
}

export interface UpdateRecord {
  id: string;
  values: Record<string, unknown>;
  /** Expected concurrency token (or modified-on); a mismatch is a conflict, not an error to retry blindly. */
  expectedVersion?: string;
}

/** Why one record of a batch write failed. */
export interface RecordWriteError {
  message: string;
  /** System error code, when it has one. */
  code?: string;
  /** 'conflict': changed since read; 'notFound': gone; 'transient': retry later; 'permanent': retrying will not help. */
  kind: 'conflict' | 'notFound' | 'transient' | 'permanent';
  /** Detail for the error row (stack, response body), secrets removed. */
  detail?: string;
}

export type WriteResult =
  /** `existed` (createMany only): the key named a record that was already there, so it was written over, not created. */
  { ok: true; id: string; modifiedOn: string; version?: string; existed?: boolean } | { ok: false; id: string | null; error: RecordWriteError };

/** Conditions of one match-priority level: each field must equal one of the values (AND across fields). */
export interface FindCandidatesRequest {
  table: string;
  fields: string[];
  filter: FilterCondition[];
  /** Values are already trimmed, and lower-cased where caseSensitive is false. */
  conditions: { field: string; values: string[]; caseSensitive: boolean }[];
  limit: number;
}

/** The columns a system maintains itself for each record of a table. */
export interface KeyColumns {
  /** The record's id (primary key). */
  id: string;
  /** Its modified-on (or row version). */
  modifiedOn: string;
}

export interface Connector {
  /** Short name for messages, e.g. "dataverse" or "knex:local". */
  readonly name: string;
  /** Columns of a table, to validate mappings before any run. */
  describeTable(table: string): Promise<string[]>;
  /**
   * The table's id and modified-on columns, from configuration alone (no
   * request): a mapping that writes either would rewrite the primary key and
   * leave the coupling dangling, so runs refuse it. Optional: a connector
   * without it is not checked.
   */
  keyColumns?(table: string): KeyColumns;
  /** Keys of records in (modifiedOn, id) order: cheap, for planning batches. */
  scanKeys(request: ScanKeysRequest): Promise<RecordKey[]>;
  /** Records in (modifiedOn, id) order, within a key range. */
  readChanged(request: ReadChangedRequest): Promise<SourceRecord[]>;
  /** Records by id; ids that do not exist are simply absent from the result. */
  getMany(request: GetManyRequest): Promise<SourceRecord[]>;
  /** Results are in request order. */
  createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]>;
  /** Results are in request order. */
  updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]>;
  /** Results are in request order; deleting a missing record succeeds. */
  deleteMany(table: string, ids: string[]): Promise<WriteResult[]>;
  /** A superset of the records matching the conditions is allowed: the caller re-checks exactly. */
  findCandidates(request: FindCandidatesRequest): Promise<SourceRecord[]>;
  /** Release connections. */
  close?(): Promise<void>;
}

const REQUIRED_METHODS = ['describeTable', 'scanKeys', 'readChanged', 'getMany', 'createMany', 'updateMany', 'deleteMany', 'findCandidates'] as const;

/** A system given as a connector that does not implement the contract. */
export class InvalidConnectorError extends ConnectorError {
  override readonly name = 'InvalidConnectorError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

/** Throws a clear error when `candidate` does not implement the contract. */
export function verifyConnector(systemName: string, candidate: unknown): asserts candidate is Connector {
  if (candidate === null || typeof candidate !== 'object') {
    throw new InvalidConnectorError(`System "${systemName}" is not a connector: expected an object, got ${candidate === null ? 'null' : typeof candidate}.`);
  }
  const missing = REQUIRED_METHODS.filter((m) => typeof (candidate as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) {
    throw new InvalidConnectorError(`System "${systemName}" is not a valid connector: missing method(s) ${missing.join(', ')}.`);
  }
}

/** Thrown by a connector when the system asks us to slow down; activities turn it into a retry after `retryAfterMs`. */
export class ThrottledError extends ConnectorError {
  override readonly name = 'ThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    status?: number,
  ) {
    super(message, { kind: 'throttled', status });
  }
}
