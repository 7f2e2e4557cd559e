/**
 * The model's world built from the real parts: two SQLite tables behind the
 * Knex connector (with CHECK constraints where POISON must fail), a SQLite
 * store, one clock for every write and job start (step k is second k), and the
 * translation between the engine's ids and the model's canonical ones. Shared
 * by the adapter that drives the activities and the one that runs workflows.
 */
import knexFactory, { type Knex } from 'knex';
import type { Systems } from '../../activities';
import { KnexTableConnector } from '../../connectors/knex-table-connector';
import type { FieldMappingDefinition, MappingDefinition } from '../../domain/mapping';
import { creationKey } from '../../domain/record-key';
import { sqliteConfig } from '../../store/database-url';
import { Store, type JobErrorRow } from '../../store/store';
import {
  COLUMNS,
  GUARDED,
  INTEGRATION_TABLE,
  LOCAL_TABLE,
  MAPPING_NAME,
  POISON,
  createdId,
  errorKind,
  type FilterSetting,
  type MappingSettings,
  type Observed,
  type ObservedCoupling,
  type ObservedError,
  type SeedRecord,
  type Side,
  type Values,
} from './world';

const TABLE: Record<Side, string> = { local: LOCAL_TABLE, integration: INTEGRATION_TABLE };
const BASE = Date.UTC(2030, 0, 1);

export function stepTime(step: number): string {
  return new Date(BASE + step * 1000).toISOString();
}

async function createTable(knex: Knex, side: Side): Promise<void> {
  const columns = COLUMNS[side].map((c) => (c === GUARDED[side] ? `${c} text check (${c} is null or instr(${c}, '${POISON}') = 0)` : `${c} text`));
  await knex.raw(`create table ${TABLE[side]} (id text primary key, ${columns.join(', ')}, modified_on text not null)`);
  await knex.raw(`create index ${TABLE[side]}_keyset on ${TABLE[side]} (modified_on, id)`);
}

function toFilter(side: Side, filter: FilterSetting[]): MappingDefinition['tableFilter'] {
  return filter.map((f) => ({ field: COLUMNS[side][f.column], op: 'ne' as const, value: f.notEqual }));
}

export function mappingOf(settings: MappingSettings): MappingDefinition {
  const fields: FieldMappingDefinition[] = settings.fields.map((f) => ({
    localField: COLUMNS.local[f.column],
    integrationField: COLUMNS.integration[f.column],
    direction: f.direction,
    ...(f.uppercase ? { transformation: [{ type: 'uppercase' as const }], transformationDirection: f.uppercase } : {}),
    ...(f.matchPriority !== undefined ? { useForMatching: true, matchPriority: f.matchPriority } : {}),
  }));
  return {
    name: MAPPING_NAME,
    local: { system: 'local', table: LOCAL_TABLE },
    integration: { system: 'integration', table: INTEGRATION_TABLE },
    direction: settings.direction,
    syncOnlyCoupledRecords: settings.syncOnlyCoupledRecords,
    updateConflictResolution: settings.updateConflictResolution,
    deletionConflictResolution: settings.deletionConflictResolution,
    sourceDeletion: settings.sourceDeletion,
    tableFilter: toFilter('local', settings.tableFilter),
    integrationTableFilter: toFilter('integration', settings.integrationTableFilter),
    fields,
  };
}

/** The engine's half of a world: databases, store, connectors and the step clock. */
export class EngineWorld {
  readonly knex: Record<Side, Knex>;
  readonly store: Store;
  readonly systems: Systems;
  private now = stepTime(0);
  /** Actual id -> canonical id, per side, for records the engine created. */
  private readonly canonical: Record<Side, Map<string, string>> = { local: new Map(), integration: new Map() };

  constructor() {
    const clock = (): string => this.now;
    this.knex = { local: knexFactory(sqliteConfig(':memory:')), integration: knexFactory(sqliteConfig(':memory:')) };
    this.store = new Store(knexFactory(sqliteConfig(':memory:')), { now: clock });
    this.systems = {
      local: new KnexTableConnector({ name: 'local', knex: this.knex.local, tables: { [LOCAL_TABLE]: {} }, now: clock }),
      integration: new KnexTableConnector({ name: 'integration', knex: this.knex.integration, tables: { [INTEGRATION_TABLE]: {} }, now: clock }),
    };
  }

  async open(settings: MappingSettings, seed: { local: SeedRecord[]; integration: SeedRecord[] }): Promise<void> {
    await this.store.migrate();
    for (const side of ['local', 'integration'] as const) {
      await createTable(this.knex[side], side);
      if (seed[side].length) await this.knex[side](TABLE[side]).insert(seed[side].map((r) => ({ id: r.id, ...r.values, modified_on: this.now })));
    }
    await this.store.saveMapping(mappingOf(settings));
  }

  setStep(step: number): void {
    this.now = stepTime(step);
  }

  /** The engine's id of a canonical id: created ids are the creation keys of their source, recursively. */
  actualId(side: Side, id: string): string {
    const created = /^([IL])\((.*)\)$/.exec(id);
    if (!created || (created[1] === 'I') !== (side === 'integration')) return id;
    const sourceSide: Side = side === 'integration' ? 'local' : 'integration';
    const actual = creationKey(MAPPING_NAME, sourceSide, this.actualId(sourceSide, created[2]));
    this.canonical[side].set(actual, id);
    return actual;
  }

  /** A user's edit, create or delete; false when the record is not in the state the operation needs. */
  async userWrite(op: 'edit' | 'create' | 'delete', side: Side, id: string, values: Values = {}): Promise<boolean> {
    const table = this.knex[side](TABLE[side]);
    const actual = this.actualId(side, id);
    const exists = (await this.knex[side](TABLE[side]).where('id', actual).first()) !== undefined;
    if (op === 'create') {
      if (exists) return false;
      await table.insert({ id: actual, ...Object.fromEntries(COLUMNS[side].map((c) => [c, values[c] ?? null])), modified_on: this.now });
      return true;
    }
    if (!exists) return false;
    if (op === 'delete') await table.where('id', actual).delete();
    else await table.where('id', actual).update({ ...values, modified_on: this.now });
    return true;
  }

  /** Learns the canonical ids of records the engine created, from the records of the other side. */
  private async learnIds(): Promise<void> {
    const ids: Record<Side, string[]> = {
      local: (await this.knex.local(LOCAL_TABLE).select('id')).map((r: { id: string }) => r.id),
      integration: (await this.knex.integration(INTEGRATION_TABLE).select('id')).map((r: { id: string }) => r.id),
    };
    const couplings = await this.store.pageCouplings(MAPPING_NAME, { afterId: 0, limit: 100_000 });
    const known: Record<Side, Set<string>> = {
      local: new Set([...ids.local, ...couplings.map((c) => c.localId)]),
      integration: new Set([...ids.integration, ...couplings.map((c) => c.integrationId)]),
    };
    for (let changed = true; changed;) {
      changed = false;
      for (const side of ['local', 'integration'] as const) {
        const other: Side = side === 'local' ? 'integration' : 'local';
        for (const id of known[side]) {
          const key = creationKey(MAPPING_NAME, side, id);
          if (known[other].has(key) && !this.canonical[other].has(key)) {
            this.canonical[other].set(key, createdId(other, this.canonicalId(side, id)));
            changed = true;
          }
        }
      }
    }
  }

  canonicalId(side: Side, actual: string): string {
    return this.canonical[side].get(actual) ?? actual;
  }

  async observe(): Promise<Observed> {
    await this.learnIds();
    const rows = async (side: Side): Promise<Record<string, Values>> => {
      const all: Record<string, unknown>[] = await this.knex[side](TABLE[side]).select();
      return Object.fromEntries(
        all.map((r) => [this.canonicalId(side, String(r.id)), Object.fromEntries(COLUMNS[side].map((c) => [c, (r[c] ?? null) as string | null]))]),
      );
    };
    const couplings = await this.store.pageCouplings(MAPPING_NAME, { afterId: 0, limit: 100_000 });
    const failures = await this.store.listUncoupledFailures(MAPPING_NAME, { limit: 100_000 });
    return {
      local: await rows('local'),
      integration: await rows('integration'),
      couplings: couplings.map((c): ObservedCoupling => ({
        localId: this.canonicalId('local', c.localId),
        integrationId: this.canonicalId('integration', c.integrationId),
        skipped: c.skipped,
        toIntegration: { result: c.lastToIntegrationResult, pending: c.toIntegrationPending },
        fromIntegration: { result: c.lastFromIntegrationResult, pending: c.fromIntegrationPending },
      })),
      uncoupledFailures: failures.map((f) => ({ side: f.side, id: this.canonicalId(f.side, f.recordId), skipped: f.skipped })),
    };
  }

  /** The error rows of a job, as the model sees them: the source side of a sync job is its direction's. */
  async errorsOf(jobIndex: number, jobId: string, sourceSide: Side): Promise<ObservedError[]> {
    await this.learnIds();
    const rows: JobErrorRow[] = await this.store.listErrors({ jobId, limit: 100_000 });
    // A given id of the other side (a bulk sync by ids) is named on its own side.
    const other: Side = sourceSide === 'local' ? 'integration' : 'local';
    const canonical = (id: string): string => this.canonical[sourceSide].get(id) ?? this.canonical[other].get(id) ?? id;
    return rows.map((e) => ({ job: jobIndex, sourceId: canonical(e.sourceRecordId), kind: errorKind(e.message) }));
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.knex.local.destroy();
    await this.knex.integration.destroy();
  }
}
