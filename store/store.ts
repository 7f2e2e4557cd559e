/**
 * The coupling store: mappings, couplings, sync jobs and their error rows,
 * through Knex on SQLite or PostgreSQL. Every write is safe to repeat: inserts
 * ignore or merge on the unique keys, so a retried activity changes nothing twice.
 */
import knexFactory, { type Knex } from 'knex';
import type { FilterCondition, JobCounters, JobStatus, JobType, Side, SyncDirection } from '../common/types';
import { COUNTER_NAMES, emptyCounters } from '../common/types';
import { knexConfigFromUrl, isPostgres, rowsPerInsert, type StoreConnectionOptions } from './database-url';
import { migrationSource } from './migrations';
import { TABLES } from './tables';
import { parseMappingDefinition, type FieldMapping, type MappingDefinition, type StoredMapping } from '../domain/mapping';

export type SyncResult = 'Success' | 'Failure';

/** A coupling ("CRM Integration Record"): one local record tied to one integration record. */
export interface Coupling {
  id: number;
  mappingName: string;
  localId: string;
  integrationId: string;
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  lastToIntegrationResult: SyncResult | null;
  lastToIntegrationJobId: string | null;
  lastFromIntegrationResult: SyncResult | null;
  lastFromIntegrationJobId: string | null;
  /** What the last job of each direction did to the record, as "<CouplingAction>@<batch>". */
  lastToIntegrationAction: string | null;
  lastFromIntegrationAction: string | null;
  /** The job that created the coupling, and whether it matched or created the integration record. */
  coupledByJobId: string | null;
  coupledAction: CouplingAction | null;
  skipped: boolean;
  failureCount: number;
  lastErrorMessage: string | null;
}

/**
 * What a job did with a coupled record, stored with the coupling so a retry of
 * an attempt that wrote but never reported can count it exactly once.
 */
export type CouplingAction = 'insert' | 'restore' | 'modify' | 'unchanged' | 'fail' | 'matched' | 'created';

/** The columns of a coupling the sync engine writes after a record was handled. */
export interface CouplingWrite {
  localId: string;
  integrationId: string;
  lastSyncedLocalModifiedOn: string | null;
  lastSyncedIntegrationModifiedOn: string | null;
  result: SyncResult;
  skipped: boolean;
  failureCount: number;
  lastErrorMessage: string | null;
  /** A sync pass: "<CouplingAction>@<batch>"; match-based coupling: 'matched' or 'created'. */
  action?: string;
}

export interface JobRow {
  id: string;
  mappingName: string;
  type: JobType;
  direction: SyncDirection | null;
  workflowId: string | null;
  runId: string | null;
  status: JobStatus;
  startedAt: string;
  finishedAt: string | null;
  message: string | null;
  counters: JobCounters;
}

export interface JobErrorRow {
  id?: number;
  jobId: string;
  mappingName: string;
  sourceRecordId: string;
  destinationRecordId: string | null;
  message: string;
  fullMessage: string | null;
  attempts: number;
  createdAt?: string;
}

type Row = Record<string, unknown>;

const nowIso = (): string => new Date().toISOString();
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toCoupling(r: Row): Coupling {
  return {
    id: Number(r.id),
    mappingName: String(r.mapping_name),
    localId: String(r.local_id),
    integrationId: String(r.integration_id),
    lastSyncedLocalModifiedOn: str(r.last_synced_local_modified_on),
    lastSyncedIntegrationModifiedOn: str(r.last_synced_integration_modified_on),
    lastToIntegrationResult: str(r.last_to_integration_result) as SyncResult | null,
    lastToIntegrationJobId: str(r.last_to_integration_job_id),
    lastFromIntegrationResult: str(r.last_from_integration_result) as SyncResult | null,
    lastFromIntegrationJobId: str(r.last_from_integration_job_id),
    lastToIntegrationAction: str(r.last_to_integration_action),
    lastFromIntegrationAction: str(r.last_from_integration_action),
    coupledByJobId: str(r.coupled_by_job_id),
    coupledAction: str(r.coupled_action) as CouplingAction | null,
    skipped: Boolean(r.skipped),
    failureCount: Number(r.failure_count),
    lastErrorMessage: str(r.last_error_message),
  };
}

function toJob(r: Row): JobRow {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = Number(r[name] ?? 0);
  return {
    id: String(r.id),
    mappingName: String(r.mapping_name),
    type: String(r.type) as JobType,
    direction: str(r.direction) as SyncDirection | null,
    workflowId: str(r.workflow_id),
    runId: str(r.run_id),
    status: String(r.status) as JobStatus,
    startedAt: String(r.started_at),
    finishedAt: str(r.finished_at),
    message: str(r.message),
    counters,
  };
}

function toJobError(r: Row): JobErrorRow {
  return {
    id: Number(r.id),
    jobId: String(r.job_id),
    mappingName: String(r.mapping_name),
    sourceRecordId: String(r.source_record_id),
    destinationRecordId: str(r.destination_record_id),
    message: String(r.message),
    fullMessage: str(r.full_message),
    attempts: Number(r.attempts),
    createdAt: String(r.created_at),
  };
}

/** Result columns of a coupling for a pass direction. */
function resultColumns(direction: SyncDirection): { result: string; jobId: string; action: string } {
  return direction === 'ToIntegrationTable'
    ? { result: 'last_to_integration_result', jobId: 'last_to_integration_job_id', action: 'last_to_integration_action' }
    : { result: 'last_from_integration_result', jobId: 'last_from_integration_job_id', action: 'last_from_integration_action' };
}

export class UnknownMappingError extends Error {
  override readonly name = 'UnknownMappingError';
}

export class Store {
  readonly knex: Knex;
  private readonly maxParams: number;

  constructor(knex: Knex) {
    this.knex = knex;
    this.maxParams = isPostgres(knex) ? 60_000 : 30_000;
  }

  /** Opens a store from DATABASE_URL-style options (SQLite file by default). */
  static open(options: StoreConnectionOptions = {}): Store {
    return new Store(knexFactory(knexConfigFromUrl(options)));
  }

  async migrate(): Promise<void> {
    const schema = this.knex.client.config.searchPath as string[] | string | undefined;
    const schemaName = Array.isArray(schema) ? schema[0] : schema;
    if (schemaName && isPostgres(this.knex)) await this.knex.raw('create schema if not exists ??', [schemaName]);
    await this.knex.migrate.latest({ migrationSource, tableName: TABLES.migrations, schemaName });
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }

  // --- mappings -----------------------------------------------------------

  /** Validates and stores a mapping (insert or replace), keeping its watermarks. */
  async saveMapping(definition: MappingDefinition): Promise<StoredMapping> {
    const mapping = parseMappingDefinition(definition);
    const now = nowIso();
    await this.knex.transaction(async (trx) => {
      const row = {
        name: mapping.name,
        local_system: mapping.local.system,
        local_table: mapping.local.table,
        integration_system: mapping.integration.system,
        integration_table: mapping.integration.table,
        direction: mapping.direction,
        table_filter: JSON.stringify(mapping.tableFilter),
        integration_table_filter: JSON.stringify(mapping.integrationTableFilter),
        sync_only_coupled_records: mapping.syncOnlyCoupledRecords,
        update_conflict_resolution: mapping.updateConflictResolution,
        deletion_conflict_resolution: mapping.deletionConflictResolution,
        create_new_if_no_match: mapping.createNewIfNoMatch,
        sync_after_bulk_coupling: mapping.syncAfterBulkCoupling,
        depends_on: JSON.stringify(mapping.dependsOn),
        created_at: now,
        updated_at: now,
      };
      const { created_at: _createdAt, ...changed } = row;
      await trx(TABLES.mappings).insert(row).onConflict('name').merge(Object.keys(changed));
      await trx(TABLES.fieldMappings).where('mapping_name', mapping.name).delete();
      await trx(TABLES.fieldMappings).insert(
        mapping.fields.map((f, position) => ({
          mapping_name: mapping.name,
          position,
          local_field: f.localField ?? null,
          integration_field: f.integrationField ?? null,
          direction: f.direction,
          constant_value: f.constantValue === undefined ? null : JSON.stringify(f.constantValue),
          enabled: f.enabled,
          transformation: f.transformation ? JSON.stringify(f.transformation) : null,
          transformation_direction: f.transformationDirection ?? null,
          use_for_matching: f.useForMatching,
          case_sensitive_matching: f.caseSensitiveMatching,
          match_priority: f.matchPriority,
        })),
      );
    });
    const stored = await this.getMapping(mapping.name);
    if (!stored) throw new UnknownMappingError(`Mapping ${mapping.name} vanished while it was saved.`);
    return stored;
  }

  async getMapping(name: string): Promise<StoredMapping | null> {
    const row: Row | undefined = await this.knex(TABLES.mappings).where('name', name).first();
    if (!row) return null;
    const fieldRows: Row[] = await this.knex(TABLES.fieldMappings).where('mapping_name', name).orderBy('position');
    const fields: FieldMapping[] = fieldRows.map((f) => ({
      localField: str(f.local_field) ?? undefined,
      integrationField: str(f.integration_field) ?? undefined,
      direction: String(f.direction) as FieldMapping['direction'],
      constantValue: f.constant_value === null ? undefined : (JSON.parse(String(f.constant_value)) as FieldMapping['constantValue']),
      enabled: Boolean(f.enabled),
      transformation: f.transformation ? (JSON.parse(String(f.transformation)) as FieldMapping['transformation']) : undefined,
      transformationDirection: (str(f.transformation_direction) ?? undefined) as FieldMapping['transformationDirection'],
      useForMatching: Boolean(f.use_for_matching),
      caseSensitiveMatching: Boolean(f.case_sensitive_matching),
      matchPriority: Number(f.match_priority),
    }));
    return {
      name: String(row.name),
      local: { system: String(row.local_system), table: String(row.local_table) },
      integration: { system: String(row.integration_system), table: String(row.integration_table) },
      direction: String(row.direction) as StoredMapping['direction'],
      syncOnlyCoupledRecords: Boolean(row.sync_only_coupled_records),
      tableFilter: JSON.parse(String(row.table_filter)) as FilterCondition[],
      integrationTableFilter: JSON.parse(String(row.integration_table_filter)) as FilterCondition[],
      updateConflictResolution: String(row.update_conflict_resolution) as StoredMapping['updateConflictResolution'],
      deletionConflictResolution: String(row.deletion_conflict_resolution) as StoredMapping['deletionConflictResolution'],
      createNewIfNoMatch: Boolean(row.create_new_if_no_match),
      syncAfterBulkCoupling: Boolean(row.sync_after_bulk_coupling),
      dependsOn: JSON.parse(String(row.depends_on)) as string[],
      fields,
      localWatermark: str(row.local_watermark),
      integrationWatermark: str(row.integration_watermark),
    };
  }

  async requireMapping(name: string): Promise<StoredMapping> {
    const mapping = await this.getMapping(name);
    if (mapping) return mapping;
    const known = (await this.listMappingNames()).slice(0, 20);
    throw new UnknownMappingError(
      `Field "mapping": no integration table mapping named "${name}"; known mappings: ${known.length ? known.join(', ') : '(none yet)'}.`,
    );
  }

  async listMappingNames(): Promise<string[]> {
    const rows: Row[] = await this.knex(TABLES.mappings).select('name').orderBy('name');
    return rows.map((r) => String(r.name));
  }

  async deleteMapping(name: string): Promise<void> {
    await this.knex(TABLES.mappings).where('name', name).delete();
  }

  async setWatermark(name: string, side: Side, value: string | null): Promise<void> {
    await this.knex(TABLES.mappings)
      .where('name', name)
      .update({ [side === 'local' ? 'local_watermark' : 'integration_watermark']: value, updated_at: nowIso() });
  }

  // --- couplings ----------------------------------------------------------

  async getCouplings(mappingName: string, side: Side, ids: readonly string[]): Promise<Coupling[]> {
    const column = side === 'local' ? 'local_id' : 'integration_id';
    const out: Coupling[] = [];
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      const rows: Row[] = await this.knex(TABLES.couplings).where('mapping_name', mappingName).whereIn(column, part);
      out.push(...rows.map(toCoupling));
    }
    return out;
  }

  /** Inserts new couplings; ones that clash with an existing coupling on either side are left out, never duplicated. */
  async insertCouplings(mappingName: string, direction: SyncDirection | null, jobId: string, writes: readonly CouplingWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const now = nowIso();
    const columns = direction ? resultColumns(direction) : null;
    const rows = writes.map((w) => ({
      mapping_name: mappingName,
      local_id: w.localId,
      integration_id: w.integrationId,
      last_synced_local_modified_on: w.lastSyncedLocalModifiedOn,
      last_synced_integration_modified_on: w.lastSyncedIntegrationModifiedOn,
      ...(columns ? { [columns.result]: w.result, [columns.jobId]: jobId, [columns.action]: w.action ?? null } : {}),
      coupled_by_job_id: jobId,
      coupled_action: columns ? null : w.action ?? null,
      skipped: w.skipped,
      failure_count: w.failureCount,
      last_error_message: w.lastErrorMessage,
      created_at: now,
      updated_at: now,
    }));
    for (const part of chunk(rows, rowsPerInsert(this.knex, 17))) {
      await this.knex(TABLES.couplings).insert(part).onConflict().ignore();
    }
  }

  /** Updates existing couplings (matched by local id) after a pass handled their records. */
  async updateCouplings(mappingName: string, direction: SyncDirection, jobId: string, writes: readonly CouplingWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const now = nowIso();
    const columns = resultColumns(direction);
    const rows = writes.map((w) => ({
      mapping_name: mappingName,
      local_id: w.localId,
      integration_id: w.integrationId,
      last_synced_local_modified_on: w.lastSyncedLocalModifiedOn,
      last_synced_integration_modified_on: w.lastSyncedIntegrationModifiedOn,
      [columns.result]: w.result,
      [columns.jobId]: jobId,
      [columns.action]: w.action ?? null,
      skipped: w.skipped,
      failure_count: w.failureCount,
      last_error_message: w.lastErrorMessage,
      created_at: now,
      updated_at: now,
    }));
    const merge = [
      'integration_id', 'last_synced_local_modified_on', 'last_synced_integration_modified_on', columns.result, columns.jobId,
      columns.action, 'skipped', 'failure_count', 'last_error_message', 'updated_at',
    ];
    for (const part of chunk(rows, rowsPerInsert(this.knex, 15))) {
      await this.knex(TABLES.couplings).insert(part).onConflict(['mapping_name', 'local_id']).merge(merge);
    }
  }

  /** Deletes couplings by ids on one side; returns how many were removed. */
  async deleteCouplings(mappingName: string, side: Side, ids: readonly string[]): Promise<number> {
    const column = side === 'local' ? 'local_id' : 'integration_id';
    let removed = 0;
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      removed += await this.knex(TABLES.couplings).where('mapping_name', mappingName).whereIn(column, part).delete();
    }
    return removed;
  }

  /** Local ids of couplings after `afterId` (by coupling id), to page through a mapping. */
  async pageCouplings(mappingName: string, options: { afterId: number; limit: number; onlyFailed?: SyncDirection; includeSkipped?: boolean; onlySkipped?: boolean }): Promise<Coupling[]> {
    const query = this.knex(TABLES.couplings).where('mapping_name', mappingName).andWhere('id', '>', options.afterId);
    if (options.onlyFailed) query.andWhere(resultColumns(options.onlyFailed).result, 'Failure');
    if (options.onlySkipped) query.andWhere('skipped', true);
    else if (options.includeSkipped === false) query.andWhere('skipped', false);
    const rows: Row[] = await query.orderBy('id').limit(options.limit);
    return rows.map(toCoupling);
  }

  /** Clears the skipped flag so records are synchronized again ("retry" on the errors page). */
  async clearSkipped(mappingName: string, localIds: readonly string[]): Promise<void> {
    for (const part of chunk([...new Set(localIds)], this.maxParams - 10)) {
      await this.knex(TABLES.couplings)
        .where('mapping_name', mappingName)
        .whereIn('local_id', part)
        .update({ skipped: false, failure_count: 0, updated_at: nowIso() });
    }
  }

  async countCouplings(mappingName: string): Promise<number> {
    const row: Row | undefined = await this.knex(TABLES.couplings).where('mapping_name', mappingName).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  // --- run locks ----------------------------------------------------------

  /**
   * Takes (or renews) the lease on a mapping for `holder`. Returns the current
   * holder: `holder` itself when taken, another run's id when it is busy. An
   * expired lease (a run that died without releasing it) can be taken over.
   */
  async acquireRunLock(mappingName: string, holder: string, ttlMs: number): Promise<string> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    await this.knex(TABLES.runLocks).insert({ mapping_name: mappingName, holder, expires_at: expiresAt }).onConflict('mapping_name').ignore();
    await this.knex(TABLES.runLocks)
      .where('mapping_name', mappingName)
      .andWhere((q) => q.where('holder', holder).orWhere('expires_at', '<', now.toISOString()))
      .update({ holder, expires_at: expiresAt });
    const row: Row | undefined = await this.knex(TABLES.runLocks).where('mapping_name', mappingName).first();
    return row ? String(row.holder) : holder;
  }

  async releaseRunLock(mappingName: string, holder: string): Promise<void> {
    await this.knex(TABLES.runLocks).where({ mapping_name: mappingName, holder }).delete();
  }

  // --- jobs ---------------------------------------------------------------

  /** Creates the job row once; a repeat with the same id returns the existing row. */
  async createJob(job: { id: string; mappingName: string; type: JobType; direction: SyncDirection | null; workflowId: string | null; runId: string | null }): Promise<JobRow> {
    await this.knex(TABLES.jobs)
      .insert({
        id: job.id,
        mapping_name: job.mappingName,
        type: job.type,
        direction: job.direction,
        workflow_id: job.workflowId,
        run_id: job.runId,
        status: 'running',
        started_at: nowIso(),
      })
      .onConflict('id')
      .ignore();
    const row = await this.getJob(job.id);
    if (!row) throw new Error(`Job ${job.id} could not be created.`);
    return row;
  }

  async getJob(id: string): Promise<JobRow | null> {
    const row: Row | undefined = await this.knex(TABLES.jobs).where('id', id).first();
    return row ? toJob(row) : null;
  }

  async updateJob(id: string, update: { counters?: JobCounters; status?: JobStatus; message?: string | null; finished?: boolean }): Promise<void> {
    const patch: Row = {};
    if (update.counters) for (const name of COUNTER_NAMES) patch[name] = update.counters[name];
    if (update.status) patch.status = update.status;
    if (update.message !== undefined) patch.message = update.message;
    if (update.finished) patch.finished_at = nowIso();
    await this.knex(TABLES.jobs).where('id', id).update(patch);
  }

  async listJobs(options: { mappingName?: string; limit?: number } = {}): Promise<JobRow[]> {
    const query = this.knex(TABLES.jobs).orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(options.limit ?? 50);
    if (options.mappingName) query.where('mapping_name', options.mappingName);
    return (await query).map(toJob);
  }

  // --- errors -------------------------------------------------------------

  /** Writes error rows; a repeat for the same job and record replaces the earlier row. */
  async insertErrors(errors: readonly JobErrorRow[]): Promise<void> {
    if (errors.length === 0) return;
    const now = nowIso();
    const rows = errors.map((e) => ({
      job_id: e.jobId,
      mapping_name: e.mappingName,
      source_record_id: e.sourceRecordId,
      destination_record_id: e.destinationRecordId,
      message: e.message,
      full_message: e.fullMessage,
      attempts: e.attempts,
      created_at: now,
    }));
    for (const part of chunk(rows, rowsPerInsert(this.knex, 9))) {
      await this.knex(TABLES.jobErrors)
        .insert(part)
        .onConflict(['job_id', 'source_record_id'])
        .merge(['destination_record_id', 'message', 'full_message', 'attempts', 'created_at']);
    }
  }

  async listErrors(options: { mappingName?: string; jobId?: string; limit?: number } = {}): Promise<JobErrorRow[]> {
    const query = this.knex(TABLES.jobErrors).orderBy('id', 'desc').limit(options.limit ?? 100);
    if (options.mappingName) query.where('mapping_name', options.mappingName);
    if (options.jobId) query.where('job_id', options.jobId);
    return (await query).map(toJobError);
  }
}
