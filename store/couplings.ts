/**
 * Couplings ("CRM Integration Record") and failed uncoupled records as the
 * store holds them: the row types, how rows become objects, and the writes
 * the engine makes. Every coupling write is conditional on the version read,
 * so a write never lands on a coupling another run changed, removed or
 * re-pointed in between: the caller learns which ones lost and re-reads them.
 */
import type { Knex } from 'knex';
import type { Side, SyncDirection } from '../common/types';
import { isPostgres } from './database-url';
import { sqliteValuesCte } from './sqlite-json-rows';
import { TABLES } from './tables';

export type SyncResult = 'Success' | 'Failure';

/**
 * Narrows a query on the couplings to one mapping's records on one side by a
 * path SQLite and PostgreSQL search by id: the local side by the mapping's
 * (mapping, local id) index; the integration side by the record index
 * (system, table, id), its only index on integration ids (migration 013), with
 * the mapping's system and table as constant subqueries on its row. A mapping's
 * tables cannot move while it has couplings, so its couplings always carry them.
 */
export function onRecordIndex(db: Knex | Knex.Transaction, query: Knex.QueryBuilder, mappingName: string, side: Side): Knex.QueryBuilder {
  query.where(`${TABLES.couplings}.mapping_name`, mappingName);
  if (side === 'local') return query;
  const ofMapping = (column: string): Knex.QueryBuilder => db(TABLES.mappings).select(column).where('name', mappingName);
  return query
    .where(`${TABLES.couplings}.integration_system`, ofMapping('integration_system'))
    .where(`${TABLES.couplings}.integration_table`, ofMapping('integration_table'));
}

/**
 * What a job did with a coupled record, stored with the coupling so a retry of
 * an attempt that wrote but never reported can count it exactly once.
 */
/** 'found': match-based coupling's create named a record already there (created again after an uncoupling) and coupled it. */
export type CouplingAction = 'insert' | 'restore' | 'modify' | 'unchanged' | 'deferred' | 'fail' | 'matched' | 'created' | 'found';

/** A coupling: one local record tied to one integration record, with the sync state of each direction. */
export interface Coupling {
  id: number;
  mappingName: string;
  localId: string;
  integrationId: string;
  /** Raised by every write; writes are conditional on the version read. */
  version: number;
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  lastToIntegrationResult: SyncResult | null;
  lastToIntegrationJobId: string | null;
  /** What the last job of each direction did to the record, as "<CouplingAction>@<batch>". */
  lastToIntegrationAction: string | null;
  toIntegrationFailureCount: number;
  toIntegrationLastError: string | null;
  /** A change this direction has not carried yet: the next pass of this direction visits the record. */
  toIntegrationPending: boolean;
  lastFromIntegrationResult: SyncResult | null;
  lastFromIntegrationJobId: string | null;
  lastFromIntegrationAction: string | null;
  fromIntegrationFailureCount: number;
  fromIntegrationLastError: string | null;
  fromIntegrationPending: boolean;
  /** The job that created the coupling, whether it matched or created the integration record, and at which match priority. */
  coupledByJobId: string | null;
  coupledAction: CouplingAction | null;
  coupledLevel: number | null;
  skipped: boolean;
}

/** One direction's state of a coupling. */
export interface DirectionState {
  result: SyncResult | null;
  jobId: string | null;
  action: string | null;
  failureCount: number;
  lastError: string | null;
  pending: boolean;
}

export function otherDirection(direction: SyncDirection): SyncDirection {
  return direction === 'ToIntegrationTable' ? 'FromIntegrationTable' : 'ToIntegrationTable';
}

export function directionState(coupling: Coupling, direction: SyncDirection): DirectionState {
  return direction === 'ToIntegrationTable'
    ? {
        result: coupling.lastToIntegrationResult,
        jobId: coupling.lastToIntegrationJobId,
        action: coupling.lastToIntegrationAction,
        failureCount: coupling.toIntegrationFailureCount,
        lastError: coupling.toIntegrationLastError,
        pending: coupling.toIntegrationPending,
      }
    : {
        result: coupling.lastFromIntegrationResult,
        jobId: coupling.lastFromIntegrationJobId,
        action: coupling.lastFromIntegrationAction,
        failureCount: coupling.fromIntegrationFailureCount,
        lastError: coupling.fromIntegrationLastError,
        pending: coupling.fromIntegrationPending,
      };
}

/** A coupling to create. */
export interface NewCoupling {
  localId: string;
  integrationId: string;
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  /** Created by a pass (a sync create or restore): "<CouplingAction>@<batch>", and that direction's result is Success. */
  action?: string;
  /** Created by coupling (match, Set Up Coupling): 'matched' or 'created'. */
  coupledAction?: 'matched' | 'created' | 'found';
  /** Directions that still have to synchronize the pair (never synced). */
  pending?: { toIntegration: boolean; fromIntegration: boolean };
  /** Match priority the pair was matched at. */
  level?: number;
}

/** The new state of one direction of a coupling, written after a pass handled its record. */
export interface CouplingUpdate {
  localId: string;
  integrationId: string;
  /** The version read: the update applies only while the coupling is still in that state. */
  version: number;
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  result: SyncResult | null;
  failureCount: number;
  lastError: string | null;
  pending: boolean;
  /** The other direction's pending flag. */
  pendingOther: boolean;
  skipped: boolean;
  /** "<CouplingAction>@<batch>". */
  action: string;
}

/** A record whose create failed: retried at the start of every run of its direction until it is created or skipped. */
export interface UncoupledFailure {
  id: number;
  mappingName: string;
  side: Side;
  recordId: string;
  failureCount: number;
  lastError: string | null;
  skipped: boolean;
  lastJobId: string | null;
}

/** The tables a mapping couples, which make a record's coupling unique across mappings. */
export interface MappingRef {
  name: string;
  local: { system: string; table: string };
  integration: { system: string; table: string };
}

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The columns toCoupling reads: a batch reads a thousand couplings, and every column read costs. */
export const COUPLING_COLUMNS = [
  'id',
  'mapping_name',
  'local_id',
  'integration_id',
  'version',
  'last_synced_local_modified_on',
  'last_synced_integration_modified_on',
  'last_to_integration_result',
  'last_to_integration_job_id',
  'last_to_integration_action',
  'to_integration_failure_count',
  'to_integration_last_error',
  'to_integration_pending',
  'last_from_integration_result',
  'last_from_integration_job_id',
  'last_from_integration_action',
  'from_integration_failure_count',
  'from_integration_last_error',
  'from_integration_pending',
  'coupled_by_job_id',
  'coupled_action',
  'coupled_level',
  'skipped',
] as const;

export function toCoupling(r: Row): Coupling {
  return {
    id: Number(r.id),
    mappingName: String(r.mapping_name),
    localId: String(r.local_id),
    integrationId: String(r.integration_id),
    version: Number(r.version ?? 0),
    lastSyncedLocalModifiedOn: str(r.last_synced_local_modified_on),
    lastSyncedIntegrationModifiedOn: str(r.last_synced_integration_modified_on),
    lastToIntegrationResult: str(r.last_to_integration_result) as SyncResult | null,
    lastToIntegrationJobId: str(r.last_to_integration_job_id),
    lastToIntegrationAction: str(r.last_to_integration_action),
    toIntegrationFailureCount: Number(r.to_integration_failure_count ?? 0),
    toIntegrationLastError: str(r.to_integration_last_error),
    toIntegrationPending: Boolean(r.to_integration_pending),
    lastFromIntegrationResult: str(r.last_from_integration_result) as SyncResult | null,
    lastFromIntegrationJobId: str(r.last_from_integration_job_id),
    lastFromIntegrationAction: str(r.last_from_integration_action),
    fromIntegrationFailureCount: Number(r.from_integration_failure_count ?? 0),
    fromIntegrationLastError: str(r.from_integration_last_error),
    fromIntegrationPending: Boolean(r.from_integration_pending),
    coupledByJobId: str(r.coupled_by_job_id),
    coupledAction: str(r.coupled_action) as CouplingAction | null,
    coupledLevel: r.coupled_level === null || r.coupled_level === undefined ? null : Number(r.coupled_level),
    skipped: Boolean(r.skipped),
  };
}

export function toUncoupledFailure(r: Row): UncoupledFailure {
  return {
    id: Number(r.id),
    mappingName: String(r.mapping_name),
    side: String(r.side) as Side,
    recordId: String(r.record_id),
    failureCount: Number(r.failure_count),
    lastError: str(r.last_error),
    skipped: Boolean(r.skipped),
    lastJobId: str(r.last_job_id),
  };
}

/** The columns of one direction's state. */
export function directionColumns(direction: SyncDirection) {
  const prefix = direction === 'ToIntegrationTable' ? 'to_integration' : 'from_integration';
  return {
    result: `last_${prefix}_result`,
    jobId: `last_${prefix}_job_id`,
    action: `last_${prefix}_action`,
    failureCount: `${prefix}_failure_count`,
    lastError: `${prefix}_last_error`,
    pending: `${prefix}_pending`,
  } as const;
}

/** The row of a new coupling. */
export function newCouplingRow(mapping: MappingRef, direction: SyncDirection | null, jobId: string, c: NewCoupling, now: string): Row {
  const columns = direction ? directionColumns(direction) : null;
  return {
    mapping_name: mapping.name,
    local_id: c.localId,
    integration_id: c.integrationId,
    local_system: mapping.local.system,
    local_table: mapping.local.table,
    integration_system: mapping.integration.system,
    integration_table: mapping.integration.table,
    last_synced_local_modified_on: c.lastSyncedLocalModifiedOn,
    last_synced_integration_modified_on: c.lastSyncedIntegrationModifiedOn,
    ...(columns ? { [columns.result]: 'Success', [columns.jobId]: jobId, [columns.action]: c.action ?? null } : {}),
    to_integration_pending: c.pending?.toIntegration ?? false,
    from_integration_pending: c.pending?.fromIntegration ?? false,
    coupled_by_job_id: jobId,
    coupled_action: c.coupledAction ?? null,
    coupled_level: c.level ?? null,
    skipped: false,
    version: 0,
    created_at: now,
    updated_at: now,
  };
}

/** Columns written by an update of one direction, in the order of `updateValues`. */
const UPDATE_FIELDS = [
  'local_id',
  'integration_id',
  'expected_version',
  'l',
  'i',
  'result',
  'job',
  'action',
  'failures',
  'last_error',
  'pending',
  'pending_other',
  'skipped',
] as const;

/** The PostgreSQL types of an update's fields, as the couplings table has them. */
const POSTGRES_UPDATE_TYPES: Record<(typeof UPDATE_FIELDS)[number], string> = {
  local_id: 'text',
  integration_id: 'text',
  expected_version: 'integer',
  l: 'text',
  i: 'text',
  result: 'text',
  job: 'text',
  action: 'text',
  failures: 'integer',
  last_error: 'text',
  pending: 'boolean',
  pending_other: 'boolean',
  skipped: 'boolean',
};

/**
 * One statement per chunk: the new states as a VALUES list joined to the
 * couplings they were read from (same local id, integration id and version).
 * Returns the local ids that were updated.
 */
export async function updateCouplingsWhereUnchanged(
  knex: Knex,
  mappingName: string,
  direction: SyncDirection,
  jobId: string,
  updates: readonly CouplingUpdate[],
  now: string,
): Promise<Set<string>> {
  const columns = directionColumns(direction);
  const other = directionColumns(direction === 'ToIntegrationTable' ? 'FromIntegrationTable' : 'ToIntegrationTable');
  const postgres = isPostgres(knex);
  const updated = new Set<string>();
  // PostgreSQL takes a chunk as one JSON parameter (thousands of bound ones cost it more to plan than to write).
  const perChunk = postgres ? 2_000 : Math.floor(30_000 / UPDATE_FIELDS.length) - 1;
  for (let start = 0; start < updates.length; start += perChunk) {
    const part = updates.slice(start, start + perChunk);
    const values = part.map((u) => [
      u.localId,
      u.integrationId,
      u.version,
      u.lastSyncedLocalModifiedOn,
      u.lastSyncedIntegrationModifiedOn,
      u.result,
      jobId,
      u.action,
      u.failureCount,
      u.lastError,
      u.pending,
      u.pendingOther,
      u.skipped,
    ]);
    // SQLite takes it as one JSON parameter too where JSON carries every value (sqlite-json-rows.ts).
    const sqlite = postgres ? null : sqliteValuesCte(UPDATE_FIELDS, values);
    const source = sqlite
      ? sqlite.sql
      : `v as (select * from jsonb_to_recordset(?::jsonb) as r(${UPDATE_FIELDS.map((f) => `${f} ${POSTGRES_UPDATE_TYPES[f]}`).join(', ')}))`;
    const bindings = (
      sqlite ? sqlite.bindings : [JSON.stringify(values.map((v) => Object.fromEntries(UPDATE_FIELDS.map((f, i) => [f, v[i]]))))]
    ) as Knex.Value[];
    const sql = `with ${source}
      update ${TABLES.couplings} set
        last_synced_local_modified_on = v.l, last_synced_integration_modified_on = v.i,
        ${columns.result} = v.result, ${columns.jobId} = v.job, ${columns.action} = v.action,
        ${columns.failureCount} = v.failures, ${columns.lastError} = v.last_error, ${columns.pending} = v.pending,
        ${other.pending} = v.pending_other, skipped = v.skipped,
        version = ${TABLES.couplings}.version + 1, updated_at = ?
      from v
      where ${TABLES.couplings}.mapping_name = ? and ${TABLES.couplings}.local_id = v.local_id
        and ${TABLES.couplings}.integration_id = v.integration_id and ${TABLES.couplings}.version = v.expected_version
      returning ${TABLES.couplings}.local_id`;
    const result: unknown = await knex.raw(sql, [...bindings, now, mappingName]);
    const rows = (isPostgres(knex) ? (result as { rows: Row[] }).rows : (result as Row[])) ?? [];
    for (const r of rows) updated.add(String(r.local_id));
  }
  return updated;
}
