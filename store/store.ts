/**
 * The coupling store: mappings, couplings, sync jobs and their error rows,
 * through Knex on SQLite or PostgreSQL. Every write is safe to repeat: inserts
 * ignore or merge on the unique keys, so a retried activity changes nothing twice.
 */
import knexFactory, { type Knex } from 'knex';
import type { FilterCondition, JobCounters, JobStatus, JobType, Side, SyncDirection } from '../common/types';
import { COUNTER_NAMES } from '../common/types';
import { chunk } from '../common/collections';
import { knexConfigFromUrl, isPostgres, type StoreConnectionOptions } from './database-url';
import { migrationSource } from './migrations';
import { TABLES } from './tables';
import { toJob, toJobError, type JobErrorRow, type JobRow } from './job-rows';
import { countCouplingsMadeBy, countUncoupledBy, jobTallies, removeCouplings } from './coupling-removals';
import { claimCreations, creationsOf, noteCreations, type CreationEntry } from './creation-ledger';
import { insertRows } from './multi-row-insert';
import { listUnmappedOptions, noteUnmappedOptions, type UnmappedOptionRow } from './unmapped-options';
import { isStillUnmapped, type UnmappedOption } from '../domain/option-mapping';

export type { UnmappedOptionRow } from './unmapped-options';
import { readDependencies, refuseDependencyCycle } from './mapping-dependencies';

export type { CreationEntry, CreationOutcome } from './creation-ledger';
import { acquireLease, leaseOf, releaseLease, renewLease, type Lease } from './leases';

export type { Lease } from './leases';
import type { DependencyNode } from '../domain/dependency-order';
import {
  InvalidMappingError,
  mappingDependencies,
  parseMappingDefinition,
  type FieldMapping,
  type MappingDefinition,
  type StoredMapping,
} from '../domain/mapping';
import {
  directionColumns,
  newCouplingRow,
  onRecordIndex,
  toCoupling,
  COUPLING_COLUMNS,
  toUncoupledFailure,
  updateCouplingsWhereUnchanged,
  type Coupling,
  type CouplingUpdate,
  type MappingRef,
  type NewCoupling,
  type UncoupledFailure,
} from './couplings';

export * from './couplings';

export * from './job-rows';

type Row = Record<string, unknown>;

const systemClock = (): string => new Date().toISOString();
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Whether any row matches: one probe of an index's prefix, cheaper than a read per id when most often none does. */
async function hasRows(db: Knex | Knex.Transaction, table: string, where: Record<string, string>): Promise<boolean> {
  return (await db(table).where(where).select(db.raw('1 as present')).first()) !== undefined;
}

/**
 * Couplings name their records' system and table (uniqueness across mappings):
 * a mapping that still has couplings cannot point at other tables.
 */
async function refuseMovingCoupledTables(trx: Knex.Transaction, mapping: MappingRef): Promise<void> {
  const existing: Row | undefined = await trx(TABLES.mappings).where('name', mapping.name).first();
  if (!existing) return;
  const moved =
    existing.local_system !== mapping.local.system ||
    existing.local_table !== mapping.local.table ||
    existing.integration_system !== mapping.integration.system ||
    existing.integration_table !== mapping.integration.table;
  if (!moved) return;
  const row: Row | undefined = await trx(TABLES.couplings).where('mapping_name', mapping.name).count({ n: '*' }).first();
  const couplings = Number(row?.n ?? 0);
  if (couplings > 0) {
    throw new InvalidMappingError(
      `Mapping ${mapping.name} has ${couplings} couplings between ${existing.local_system}.${existing.local_table} and ${existing.integration_system}.${existing.integration_table}; uncouple them (uncouple all) before pointing it at other tables.`,
    );
  }
}

export class UnknownMappingError extends Error {
  override readonly name = 'UnknownMappingError';
}

export interface StoreOptions {
  /** The clock of job starts and row stamps. @default () => new Date().toISOString() */
  now?: () => string;
}

export class Store {
  readonly knex: Knex;
  private readonly maxParams: number;
  private readonly now: () => string;

  constructor(knex: Knex, options: StoreOptions = {}) {
    this.knex = knex;
    this.maxParams = isPostgres(knex) ? 60_000 : 30_000;
    this.now = options.now ?? systemClock;
  }

  /** Opens a store from DATABASE_URL-style options (SQLite file by default). */
  static open(options: StoreConnectionOptions & StoreOptions = {}): Store {
    return new Store(knexFactory(knexConfigFromUrl(options)), { now: options.now });
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
    const now = this.now();
    await this.knex.transaction(async (trx) => {
      await refuseMovingCoupledTables(trx, mapping);
      await refuseDependencyCycle(trx, { name: mapping.name, dependsOn: mappingDependencies(mapping) });
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
        source_deletion: mapping.sourceDeletion,
        create_new_if_no_match: mapping.createNewIfNoMatch,
        sync_after_bulk_coupling: mapping.syncAfterBulkCoupling,
        depends_on: JSON.stringify(mapping.dependsOn),
        templates: JSON.stringify(mapping.templates),
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
          lookup: f.lookup ? JSON.stringify(f.lookup) : null,
          option_mapping: f.optionMapping ? JSON.stringify(f.optionMapping) : null,
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
      lookup: f.lookup ? (JSON.parse(String(f.lookup)) as FieldMapping['lookup']) : undefined,
      optionMapping: f.option_mapping ? (JSON.parse(String(f.option_mapping)) as FieldMapping['optionMapping']) : undefined,
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
      sourceDeletion: String(row.source_deletion ?? 'KeepCoupling') as StoredMapping['sourceDeletion'],
      createNewIfNoMatch: Boolean(row.create_new_if_no_match),
      syncAfterBulkCoupling: Boolean(row.sync_after_bulk_coupling),
      dependsOn: JSON.parse(String(row.depends_on)) as string[],
      fields,
      templates: row.templates ? (JSON.parse(String(row.templates)) as StoredMapping['templates']) : [],
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

  /** Every stored mapping's name and what it depends on (`dependsOn`), in name order. */
  async listMappingDependencies(): Promise<DependencyNode[]> {
    return readDependencies(this.knex);
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
      .update({ [side === 'local' ? 'local_watermark' : 'integration_watermark']: value, updated_at: this.now() });
  }

  // --- couplings ----------------------------------------------------------

  async getCouplings(mappingName: string, side: Side, ids: readonly string[]): Promise<Coupling[]> {
    const column = side === 'local' ? 'local_id' : 'integration_id';
    const out: Coupling[] = [];
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      const rows: Row[] = await onRecordIndex(this.knex, this.knex(TABLES.couplings).select(COUPLING_COLUMNS), mappingName, side).whereIn(column, part);
      out.push(...rows.map(toCoupling));
    }
    return out;
  }

  /** Couplings of these records of one system and table, in any mapping (a record is coupled at most once per table). */
  async getRecordCouplings(record: { system: string; table: string }, side: Side, ids: readonly string[]): Promise<Coupling[]> {
    const prefix = side === 'local' ? 'local' : 'integration';
    const out: Coupling[] = [];
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      const rows: Row[] = await this.knex(TABLES.couplings)
        .select(COUPLING_COLUMNS)
        .where(`${prefix}_system`, record.system)
        .andWhere(`${prefix}_table`, record.table)
        .whereIn(`${prefix}_id`, part);
      out.push(...rows.map(toCoupling));
    }
    return out;
  }

  /**
   * Inserts new couplings; one that clashes with an existing coupling of either
   * record (in any mapping of its table) is left out, never duplicated: read
   * them back to learn which landed.
   */
  /** Inserts couplings, leaving any that conflict with one there already; returns the local ids of those inserted. */
  async insertCouplings(mapping: MappingRef, direction: SyncDirection | null, jobId: string, couplings: readonly NewCoupling[]): Promise<Set<string>> {
    if (couplings.length === 0) return new Set();
    return this.insertCouplingRows(this.knex, mapping, direction, jobId, couplings);
  }

  /**
   * Replaces couplings in one transaction (a restore: the deleted counterpart's
   * coupling gives way to the restored record's), so a failure in between can
   * never leave the record uncoupled.
   */
  async replaceCouplings(
    mapping: MappingRef,
    direction: SyncDirection,
    jobId: string,
    replaced: readonly { localId: string; integrationId: string }[],
    couplings: readonly NewCoupling[],
  ): Promise<Set<string>> {
    return this.knex.transaction(async (trx) => {
      for (const part of chunk(replaced, Math.floor((this.maxParams - 10) / 2))) {
        await trx(TABLES.couplings)
          .where('mapping_name', mapping.name)
          .whereIn(
            ['local_id', 'integration_id'],
            part.map((p) => [p.localId, p.integrationId]),
          )
          .delete();
      }
      return couplings.length > 0 ? this.insertCouplingRows(trx, mapping, direction, jobId, couplings) : new Set<string>();
    });
  }

  private async insertCouplingRows(
    db: Knex | Knex.Transaction,
    mapping: MappingRef,
    direction: SyncDirection | null,
    jobId: string,
    couplings: readonly NewCoupling[],
  ): Promise<Set<string>> {
    const now = this.now();
    const rows = couplings.map((c) => newCouplingRow(mapping, direction, jobId, c, now));
    const inserted = await insertRows(db, TABLES.couplings, rows, { onConflict: [], returning: ['local_id'] });
    // A coupled record has no failed create left to retry, on either side. Most mappings have none to look for.
    if (!(await hasRows(db, TABLES.uncoupledFailures, { mapping_name: mapping.name }))) return new Set(inserted.map((r) => String(r.local_id)));
    for (const side of ['local', 'integration'] as const) {
      const column = side === 'local' ? 'local_id' : 'integration_id';
      for (const part of chunk(
        couplings.map((c) => (side === 'local' ? c.localId : c.integrationId)),
        this.maxParams - 10,
      )) {
        await db(TABLES.uncoupledFailures)
          .where({ mapping_name: mapping.name, side })
          .whereIn('record_id', onRecordIndex(db, db(TABLES.couplings).select(column), mapping.name, side).whereIn(column, part))
          .delete();
      }
    }
    return new Set(inserted.map((r) => String(r.local_id)));
  }

  /**
   * Writes the new state of one direction of these couplings, each only while
   * the coupling still has the version, local id and integration id it was
   * read with. Returns the local ids whose write lost (the coupling was changed,
   * removed or re-pointed meanwhile): re-read them, never overwrite.
   */
  async updateCouplings(mappingName: string, direction: SyncDirection, jobId: string, updates: readonly CouplingUpdate[]): Promise<string[]> {
    if (updates.length === 0) return [];
    const updated = await updateCouplingsWhereUnchanged(this.knex, mappingName, direction, jobId, updates, this.now());
    return updates.filter((u) => !updated.has(u.localId)).map((u) => u.localId);
  }

  /** Deletes couplings by ids on one side; returns how many were removed. `byJobId`: the job removing them, which counts them. */
  async deleteCouplings(mappingName: string, side: Side, ids: readonly string[], byJobId: string | null = null): Promise<number> {
    const column = side === 'local' ? 'local_id' : 'integration_id';
    let removed = 0;
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      removed += await removeCouplings(this.knex, (q) => onRecordIndex(this.knex, q, mappingName, side).whereIn(column, part), byJobId);
    }
    return removed;
  }

  /**
   * Deletes these couplings only where they still pair the same two records
   * (a coupling re-pointed meanwhile stays); returns how many were removed.
   */
  async deleteCouplingPairs(mappingName: string, pairs: readonly { localId: string; integrationId: string }[], byJobId: string | null = null): Promise<number> {
    let removed = 0;
    for (const part of chunk(pairs, Math.floor((this.maxParams - 10) / 2))) {
      removed += await removeCouplings(
        this.knex,
        (q) =>
          q.where('mapping_name', mappingName).whereIn(
            ['local_id', 'integration_id'],
            part.map((p) => [p.localId, p.integrationId]),
          ),
        byJobId,
      );
    }
    return removed;
  }

  /** The couplings a job made, counted exactly: those still there and those removed since. */
  async countCouplingsMadeBy(mappingName: string, jobId: string): Promise<number> {
    return countCouplingsMadeBy(this.knex, mappingName, jobId);
  }

  /** What a job made and removed, counted exactly over all its attempts, in one round trip. */
  async jobTallies(mappingName: string, jobId: string): Promise<{ made: number; uncoupled: number }> {
    return jobTallies(this.knex, mappingName, jobId);
  }

  /** The creation ledger's entries for these creation keys. */
  async creationsOf(mappingName: string, keys: readonly string[]): Promise<Map<string, CreationEntry>> {
    return creationsOf(this.knex, this.maxParams, mappingName, keys);
  }

  /** Notes 'pending' for this batch against the keys no entry names; returns the entries the others had. */
  async claimCreations(mappingName: string, keys: readonly string[], batchToken: string): Promise<Map<string, CreationEntry>> {
    return keys.length ? claimCreations(this.knex, this.maxParams, mappingName, keys, batchToken) : new Map();
  }

  /** Notes which batch creates (or created, or wrote over) the records these keys name. */
  async noteCreations(mappingName: string, entries: readonly CreationEntry[]): Promise<void> {
    if (entries.length > 0) await noteCreations(this.knex, mappingName, entries);
  }

  /** Adds a batch's unmapped option values to the list, in one upsert per chunk (never one per record). */
  async noteUnmappedOptions(mappingName: string, jobId: string, entries: readonly UnmappedOption[]): Promise<void> {
    if (entries.length > 0) await noteUnmappedOptions(this.knex, mappingName, jobId, this.now(), entries);
  }

  /** The unmapped option values collected, by mapping, side and field, the most recently seen first. */
  async listUnmappedOptions(mappingName?: string, options: { limit?: number } = {}): Promise<UnmappedOptionRow[]> {
    return listUnmappedOptions(this.knex, { mappingName, limit: options.limit });
  }

  /**
   * The collected values an administrator still has to map: those the current
   * mapping has no pair for (a value mapped since, or a field whose option
   * mapping is gone, is left out). An unknown mapping name is refused.
   */
  async listOpenUnmappedOptions(mappingName?: string, options: { limit?: number } = {}): Promise<UnmappedOptionRow[]> {
    if (mappingName) await this.requireMapping(mappingName);
    const rows = await this.listUnmappedOptions(mappingName, options);
    const mappings = new Map<string, StoredMapping | null>();
    for (const name of new Set(rows.map((r) => r.mappingName))) mappings.set(name, await this.getMapping(name));
    return rows.filter((r) => {
      const mapping = mappings.get(r.mappingName);
      return mapping ? isStillUnmapped(mapping, r) : false;
    });
  }

  /** How many couplings a job removed, counted in the transactions that removed them. */
  async countUncoupledBy(jobId: string): Promise<number> {
    return countUncoupledBy(this.knex, jobId);
  }

  /**
   * Couplings after `afterId` (by coupling id), to page through a mapping.
   * `needs`: only those the next pass of that direction must visit (failed or
   * pending; with includeSkipped, every skipped one too).
   */
  async pageCouplings(
    mappingName: string,
    options: {
      afterId: number;
      limit: number;
      needs?: SyncDirection;
      includeSkipped?: boolean;
      onlySkipped?: boolean;
      coupledByJobId?: string;
      coupledAction?: 'matched' | 'created';
    },
  ): Promise<Coupling[]> {
    const query = this.knex(TABLES.couplings).select(COUPLING_COLUMNS).where('mapping_name', mappingName).andWhere('id', '>', options.afterId);
    if (options.needs) {
      // Retrying skipped records visits every skipped coupling, in each direction of the run.
      const columns = directionColumns(options.needs);
      query.andWhere((q) => {
        q.where(columns.result, 'Failure').orWhere(columns.pending, true);
        if (options.includeSkipped) q.orWhere('skipped', true);
      });
    }
    if (options.coupledByJobId) query.andWhere('coupled_by_job_id', options.coupledByJobId);
    if (options.coupledAction) query.andWhere('coupled_action', options.coupledAction);
    if (options.onlySkipped) query.andWhere('skipped', true);
    else if (options.includeSkipped === false || (options.needs && !options.includeSkipped)) query.andWhere('skipped', false);
    const rows: Row[] = await query.orderBy('id').limit(options.limit);
    return rows.map(toCoupling);
  }

  /** Clears the skipped flag and the failure counts so records are synchronized again ("retry" on the errors page). */
  async clearSkipped(mappingName: string, localIds: readonly string[]): Promise<void> {
    for (const part of chunk([...new Set(localIds)], this.maxParams - 10)) {
      await this.knex(TABLES.couplings)
        .where('mapping_name', mappingName)
        .whereIn('local_id', part)
        .update({
          skipped: false,
          to_integration_failure_count: 0,
          from_integration_failure_count: 0,
          version: this.knex.raw('version + 1'),
          updated_at: this.now(),
        });
    }
  }

  /** How many couplings a coupling job made, by what it did (matched or created) and at which match priority. */
  async countCoupledBy(mappingName: string, jobId: string): Promise<{ matched: number; created: number; byLevel: Map<number, number> }> {
    const rows: Row[] = await this.knex(TABLES.couplings)
      .where({ mapping_name: mappingName, coupled_by_job_id: jobId })
      .groupBy('coupled_action', 'coupled_level')
      .select('coupled_action', 'coupled_level')
      .count({ n: '*' });
    const totals = { matched: 0, created: 0, byLevel: new Map<number, number>() };
    for (const r of rows) {
      const n = Number(r.n);
      if (r.coupled_action === 'created') totals.created += n;
      else totals.matched += n;
      if (r.coupled_level !== null && r.coupled_level !== undefined)
        totals.byLevel.set(Number(r.coupled_level), (totals.byLevel.get(Number(r.coupled_level)) ?? 0) + n);
    }
    return totals;
  }

  async countCouplings(mappingName: string): Promise<number> {
    const row: Row | undefined = await this.knex(TABLES.couplings).where('mapping_name', mappingName).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  // --- failed uncoupled records -------------------------------------------

  async getUncoupledFailures(mappingName: string, side: Side, ids: readonly string[]): Promise<UncoupledFailure[]> {
    const out: UncoupledFailure[] = [];
    // A mapping most often has no failed creates: one probe of the unique key's prefix instead of one per id.
    if (ids.length > 1 && !(await hasRows(this.knex, TABLES.uncoupledFailures, { mapping_name: mappingName, side }))) return out;
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      const rows: Row[] = await this.knex(TABLES.uncoupledFailures).where({ mapping_name: mappingName, side }).whereIn('record_id', part);
      out.push(...rows.map(toUncoupledFailure));
    }
    return out;
  }

  /** Failed uncoupled records of one side after `afterId`, to retry them; skipped ones only with includeSkipped. */
  async pageUncoupledFailures(
    mappingName: string,
    side: Side,
    options: { afterId: number; limit: number; includeSkipped?: boolean },
  ): Promise<UncoupledFailure[]> {
    const query = this.knex(TABLES.uncoupledFailures).where({ mapping_name: mappingName, side }).andWhere('id', '>', options.afterId);
    if (!options.includeSkipped) query.andWhere('skipped', false);
    const rows: Row[] = await query.orderBy('id').limit(options.limit);
    return rows.map(toUncoupledFailure);
  }

  /** The failed uncoupled records of a mapping (or of all), waiting to be retried: for the errors view. */
  async listUncoupledFailures(mappingName?: string, options: { limit?: number } = {}): Promise<UncoupledFailure[]> {
    const query = this.knex(TABLES.uncoupledFailures)
      .orderBy('id')
      .limit(options.limit ?? 1000);
    if (mappingName) query.where('mapping_name', mappingName);
    return (await query).map(toUncoupledFailure);
  }

  /** Records the latest failure of each record (insert or replace). */
  async saveUncoupledFailures(
    mappingName: string,
    side: Side,
    jobId: string,
    failures: readonly { recordId: string; failureCount: number; lastError: string; skipped: boolean }[],
  ): Promise<void> {
    if (failures.length === 0) return;
    const now = this.now();
    const rows = failures.map((f) => ({
      mapping_name: mappingName,
      side,
      record_id: f.recordId,
      failure_count: f.failureCount,
      last_error: f.lastError,
      skipped: f.skipped,
      last_job_id: jobId,
      created_at: now,
      updated_at: now,
    }));
    await insertRows(this.knex, TABLES.uncoupledFailures, rows, {
      onConflict: ['mapping_name', 'side', 'record_id'],
      merge: ['failure_count', 'last_error', 'skipped', 'last_job_id', 'updated_at'],
    });
  }

  async deleteUncoupledFailures(mappingName: string, side: Side, ids: readonly string[]): Promise<void> {
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      await this.knex(TABLES.uncoupledFailures).where({ mapping_name: mappingName, side }).whereIn('record_id', part).delete();
    }
  }

  async clearUncoupledSkipped(mappingName: string, side: Side, ids: readonly string[]): Promise<void> {
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      await this.knex(TABLES.uncoupledFailures)
        .where({ mapping_name: mappingName, side, skipped: true })
        .whereIn('record_id', part)
        .update({ skipped: false, failure_count: 0, updated_at: this.now() });
    }
  }

  // --- records a pass uncoupled --------------------------------------------

  /** Notes the source records a pass removed the coupling of, so the same job does not meet them again as uncoupled. */
  async rememberUncoupled(jobId: string, side: Side, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = [...new Set(ids)].map((id) => ({ job_id: jobId, side, record_id: id }));
    await insertRows(this.knex, TABLES.passUncoupled, rows, { onConflict: [] });
  }

  async uncoupledBy(jobId: string, side: Side, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    // Most jobs uncouple nothing: one probe of the key's prefix instead of one per id.
    if (ids.length > 1 && !(await hasRows(this.knex, TABLES.passUncoupled, { job_id: jobId, side }))) return out;
    for (const part of chunk([...new Set(ids)], this.maxParams - 10)) {
      const rows: Row[] = await this.knex(TABLES.passUncoupled).where({ job_id: jobId, side }).whereIn('record_id', part).select('record_id');
      for (const r of rows) out.add(String(r.record_id));
    }
    return out;
  }

  async forgetUncoupled(jobId: string): Promise<void> {
    await this.knex(TABLES.passUncoupled).where('job_id', jobId).delete();
  }

  // --- match claims --------------------------------------------------------

  /**
   * Claims candidates for a match round: one claim per candidate, held by the
   * smallest local id (code-point order) whatever order the claims arrive in.
   */
  async claimCandidates(jobId: string, level: number, claims: readonly { integrationId: string; localId: string }[]): Promise<void> {
    if (claims.length === 0) return;
    const smaller = isPostgres(this.knex)
      ? `least(${TABLES.matchClaims}.local_id collate "C", excluded.local_id collate "C")`
      : `min(${TABLES.matchClaims}.local_id, excluded.local_id)`;
    const rows = claims.map((c) => ({ job_id: jobId, level, integration_id: c.integrationId, local_id: c.localId }));
    await insertRows(this.knex, TABLES.matchClaims, rows, { onConflict: ['job_id', 'level', 'integration_id'], merge: [{ column: 'local_id', sql: smaller }] });
  }

  /** The winning claims of a round, by candidate id. */
  async pageClaims(
    jobId: string,
    level: number,
    options: { afterIntegrationId: string | null; limit: number },
  ): Promise<{ integrationId: string; localId: string }[]> {
    const query = this.knex(TABLES.matchClaims).where({ job_id: jobId, level });
    if (options.afterIntegrationId !== null) query.andWhere('integration_id', '>', options.afterIntegrationId);
    const rows: Row[] = await query.orderBy('integration_id').limit(options.limit);
    return rows.map((r) => ({ integrationId: String(r.integration_id), localId: String(r.local_id) }));
  }

  async deleteClaims(jobId: string): Promise<void> {
    await this.knex(TABLES.matchClaims).where('job_id', jobId).delete();
  }

  // --- run leases ---------------------------------------------------------

  /** Takes or renews a mapping's lease (see store/leases.ts); returns who holds it now and the holding's token. */
  async acquireRunLock(mappingName: string, holder: string, ttlMs: number, replaces?: string): Promise<Lease> {
    return acquireLease(this.knex, mappingName, holder, ttlMs, replaces);
  }

  /** Renews the lease while this holding still has it; false when another run took it. */
  async renewRunLock(mappingName: string, lease: Lease, ttlMs: number): Promise<boolean> {
    return renewLease(this.knex, mappingName, lease, ttlMs);
  }

  async releaseRunLock(mappingName: string, holder: string): Promise<void> {
    await releaseLease(this.knex, mappingName, holder);
  }

  async runLockOf(mappingName: string): Promise<Lease | null> {
    return leaseOf(this.knex, mappingName);
  }

  // --- jobs ---------------------------------------------------------------

  /** Creates the job row once; a repeat with the same id returns the existing row. */
  async createJob(job: {
    id: string;
    mappingName: string;
    type: JobType;
    direction: SyncDirection | null;
    workflowId: string | null;
    runId: string | null;
  }): Promise<JobRow & { openedNow: boolean }> {
    const [inserted] = await insertRows(
      this.knex,
      TABLES.jobs,
      [
        {
          id: job.id,
          mapping_name: job.mappingName,
          type: job.type,
          direction: job.direction,
          workflow_id: job.workflowId,
          run_id: job.runId,
          status: 'running',
          started_at: this.now(),
        },
      ],
      { onConflict: ['id'], returning: ['*'] },
    );
    // Read back only when an earlier attempt opened it: a retry continues that job, counters and all.
    const row = inserted ? toJob(inserted) : await this.getJob(job.id);
    if (!row) throw new Error(`Job ${job.id} could not be created.`);
    // openedNow: no earlier attempt wrote anything under this job, so this attempt's own counts are the job's.
    return { ...row, openedNow: !!inserted };
  }

  async getJob(id: string): Promise<JobRow | null> {
    const row: Row | undefined = await this.knex(TABLES.jobs).where('id', id).first();
    return row ? toJob(row) : null;
  }

  /** Where a running job's run stands when it continues as new (JSON), read back by the next run only. */
  async getJobContinuation(id: string): Promise<unknown> {
    const row: Row | undefined = await this.knex(TABLES.jobs).where('id', id).select('continuation').first();
    return row?.continuation ? JSON.parse(String(row.continuation)) : null;
  }

  async updateJob(
    id: string,
    update: { counters?: JobCounters; status?: JobStatus; message?: string | null; finished?: boolean; continuation?: unknown },
  ): Promise<void> {
    const patch: Row = {};
    if (update.continuation !== undefined) patch.continuation = JSON.stringify(update.continuation);
    if (update.counters) for (const name of COUNTER_NAMES) patch[name] = update.counters[name];
    if (update.status) patch.status = update.status;
    if (update.message !== undefined) patch.message = update.message;
    if (update.finished) patch.finished_at = this.now();
    await this.knex(TABLES.jobs).where('id', id).update(patch);
  }

  async listJobs(options: { mappingName?: string; status?: JobStatus; limit?: number } = {}): Promise<JobRow[]> {
    const query = this.knex(TABLES.jobs)
      .orderBy([
        { column: 'started_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit ?? 50);
    if (options.mappingName) query.where('mapping_name', options.mappingName);
    if (options.status) query.where('status', options.status);
    return (await query).map(toJob);
  }

  // --- errors -------------------------------------------------------------

  /** Writes error rows; a repeat for the same job and record replaces the earlier row. */
  async insertErrors(errors: readonly JobErrorRow[]): Promise<void> {
    if (errors.length === 0) return;
    const now = this.now();
    const rows = errors.map((e) => ({
      job_id: e.jobId,
      mapping_name: e.mappingName,
      source_record_id: e.sourceRecordId,
      destination_record_id: e.destinationRecordId,
      message: e.message,
      full_message: e.fullMessage,
      attempts: e.attempts,
      severity: e.severity ?? 'error',
      created_at: now,
    }));
    await insertRows(this.knex, TABLES.jobErrors, rows, {
      onConflict: ['job_id', 'source_record_id'],
      merge: ['destination_record_id', 'message', 'full_message', 'attempts', 'created_at'],
    });
  }

  async listErrors(options: { mappingName?: string; jobId?: string; recordId?: string; limit?: number } = {}): Promise<JobErrorRow[]> {
    const query = this.knex(TABLES.jobErrors)
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100);
    if (options.mappingName) query.where('mapping_name', options.mappingName);
    if (options.jobId) query.where('job_id', options.jobId);
    if (options.recordId !== undefined) query.andWhere((q) => q.where('source_record_id', options.recordId).orWhere('destination_record_id', options.recordId));
    return (await query).map(toJobError);
  }
}
