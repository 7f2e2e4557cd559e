/**
 * A connector for any SQL table with an id column and a modified-on column,
 * reached through Knex (SQLite, PostgreSQL, ...). The demo and the tests use it
 * for both sides.
 *
 * Creates are idempotent: the record's id is the idempotency key the engine
 * derives from the source record, and an insert of an existing key merges, so a
 * batch replayed after a crash never adds a second row. Modified-on values are
 * ISO-8601 UTC strings written by this connector (text columns sort them right).
 *
 * One module on purpose: every method is a few statements over the same
 * table settings (columns, id and modified-on columns, filters); split, each
 * part would need all of them.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type {
  Connector,
  CreateRecord,
  KeyColumns,
  FindCandidatesRequest,
  GetManyRequest,
  ReadChangedRequest,
  RecordKey,
  ScanKeysRequest,
  SourceRecord,
  UpdateRecord,
  WriteResult,
} from './connector';
import { applyFilter } from './knex-filter';
import { dbErrorMessage, errorCode, isTransientDbError } from './db-errors';
import { setUpdate, supportsSetUpdate } from './knex-set-update';
import { isPostgres } from '../store/database-url';
import { insertRows } from '../store/multi-row-insert';
import { chunk } from '../common/collections';

export interface KnexTableOptions {
  /** @default 'id' */
  idColumn?: string;
  /** @default 'modified_on' */
  modifiedOnColumn?: string;
}

export interface KnexTableConnectorOptions {
  /** Name used in messages. */
  name: string;
  knex: Knex;
  /** Per-table column names; tables not listed use the defaults. */
  tables?: Record<string, KnexTableOptions>;
  /** Clock for modified-on values this connector writes. @default () => new Date().toISOString() */
  now?: () => string;
}

export const KNEX_TABLE_DEFAULTS: Required<KnexTableOptions> = { idColumn: 'id', modifiedOnColumn: 'modified_on' };

type Row = Record<string, unknown>;

const NON_ASCII = /[^\x00-\x7f]/;

/** A field that findCandidates compares: the integration field of a match criterion. */
export interface MatchIndexField {
  field: string;
  caseSensitive: boolean;
}

/**
 * The expression findCandidates compares a field by, with `??` for the column.
 * A match index is built on this very text: SQLite uses an expression index only
 * for a query expression identical to the index's, and PostgreSQL only for an
 * equal one (same functions, same trim characters).
 */
function matchExpression(postgres: boolean, caseSensitive: boolean): string {
  const trimmed = postgres ? `btrim(??, E' \\t\\r\\n')` : `trim(??, ' ' || char(9, 10, 13))`;
  return caseSensitive ? trimmed : `lower(${trimmed})`;
}

/** The lower-cased ASCII text before a value's first other character, as a half-open range; null when there is none. */
function asciiPrefixRange(value: string): { from: string; to: string } | null {
  const at = value.search(NON_ASCII);
  const prefix = (at < 0 ? value : value.slice(0, at)).toLowerCase();
  if (prefix === '') return null;
  const last = prefix.charCodeAt(prefix.length - 1);
  return { from: prefix, to: prefix.slice(0, -1) + String.fromCharCode(last + 1) };
}

/** Index names are limited (63 bytes in PostgreSQL): long ones keep a readable head and a hash. */
function matchIndexName(table: string, field: MatchIndexField): string {
  const base = `${table.split('.').pop()}_${field.field}_match${field.caseSensitive ? '_cs' : ''}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (base.length <= 60) return base;
  return `${base.slice(0, 50)}_${createHash('sha1').update(base).digest('hex').slice(0, 8)}`;
}

function distinctFields(fields: readonly MatchIndexField[]): MatchIndexField[] {
  const seen = new Map<string, MatchIndexField>();
  for (const f of fields) seen.set(`${f.caseSensitive ? 'cs' : 'ci'}:${f.field}`, { field: f.field, caseSensitive: f.caseSensitive });
  return [...seen.values()];
}

function matchIndexQueries(knex: Knex, table: string, fields: readonly MatchIndexField[]): Knex.Raw[] {
  const postgres = isPostgres(knex);
  return distinctFields(fields).map((f) =>
    knex.raw(`create index if not exists ?? on ?? (${matchExpression(postgres, f.caseSensitive)})`, [matchIndexName(table, f), table, f.field]),
  );
}

/**
 * The CREATE INDEX statements of the match indexes for these fields, for a team
 * that adds them in its own migrations (on a large PostgreSQL table, perhaps
 * with CONCURRENTLY). Without them each candidate query reads the whole table.
 */
export function matchIndexStatements(knex: Knex, table: string, fields: readonly MatchIndexField[]): string[] {
  return matchIndexQueries(knex, table, fields).map((q) => q.toQuery());
}

/**
 * Creates (if missing) an expression index per match field on exactly the
 * expression findCandidates compares (trimmed, lower-cased unless case-sensitive),
 * so a batch's candidate query looks its values up instead of reading the whole
 * table. Returns the index names.
 */
export async function ensureMatchIndexes(knex: Knex, table: string, fields: readonly MatchIndexField[]): Promise<string[]> {
  const names: string[] = [];
  for (const f of distinctFields(fields)) names.push(matchIndexName(table, f));
  for (const q of matchIndexQueries(knex, table, fields)) await q;
  return names;
}

export class KnexTableConnector implements Connector {
  readonly name: string;
  private readonly knex: Knex;
  private readonly tables: Record<string, KnexTableOptions>;
  private readonly now: () => string;
  private readonly columnCache = new Map<string, Promise<string[]>>();
  /** Bound parameters per statement, under SQLite's and PostgreSQL's limits. */
  private readonly maxParams: number;
  /** Row-value comparisons, "(a, b) > (?, ?)": SQLite, PostgreSQL and MySQL have them; SQL Server and Oracle do not. */
  private readonly rowValues: boolean;

  constructor(options: KnexTableConnectorOptions) {
    this.name = options.name;
    this.knex = options.knex;
    this.tables = options.tables ?? {};
    this.now = options.now ?? (() => new Date().toISOString());
    this.maxParams = isPostgres(options.knex) ? 60_000 : 30_000;
    this.rowValues = !/mssql|oracle/i.test(String(options.knex.client.config.client));
  }

  private columns(table: string): Required<KnexTableOptions> {
    // Own keys only: a table named "constructor" is not configured by Object's prototype.
    return { ...KNEX_TABLE_DEFAULTS, ...(Object.hasOwn(this.tables, table) ? this.tables[table] : {}) };
  }

  keyColumns(table: string): KeyColumns {
    const { idColumn, modifiedOnColumn } = this.columns(table);
    return { id: idColumn, modifiedOn: modifiedOnColumn };
  }

  async describeTable(table: string): Promise<string[]> {
    let cached = this.columnCache.get(table);
    if (!cached) {
      cached = this.knex(table)
        .columnInfo()
        .then((info) => Object.keys(info));
      this.columnCache.set(table, cached);
      cached.catch(() => this.columnCache.delete(table));
    }
    return cached;
  }

  private toRecord(table: string, row: Row): SourceRecord {
    const { idColumn, modifiedOnColumn } = this.columns(table);
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (k !== idColumn && k !== modifiedOnColumn) values[k] = v;
    const modifiedOn = String(row[modifiedOnColumn] ?? '');
    return { id: String(row[idColumn]), modifiedOn, version: modifiedOn, values };
  }

  private keysetQuery(table: string, request: ScanKeysRequest & { through?: RecordKey | null }): Knex.QueryBuilder {
    const { idColumn, modifiedOnColumn } = this.columns(table);
    const query = this.knex(table);
    applyFilter(query, request.filter);
    const after = request.after;
    // A key past the watermark implies it; given both, a planner starts at the watermark and reads every row
    // before the key, so each page of a pass would cost as much as all the pages before it.
    if (request.since !== null && !(after && after.modifiedOn > request.since)) query.where(modifiedOnColumn, '>', request.since);
    const through = request.through;
    if (this.rowValues) {
      // A row value is one range of the (modified-on, id) index. Spelt out as "m > a or
      // (m = a and id > b)", SQLite reads every row sharing the key's modified-on, so a
      // page cost as much as the whole table when a bulk load gave all rows one stamp.
      if (after) query.whereRaw('(??, ??) > (?, ?)', [modifiedOnColumn, idColumn, after.modifiedOn, after.id]);
      if (through) query.whereRaw('(??, ??) <= (?, ?)', [modifiedOnColumn, idColumn, through.modifiedOn, through.id]);
    } else {
      if (after) {
        query.where((q) =>
          q.where(modifiedOnColumn, '>', after.modifiedOn).orWhere((q2) => q2.where(modifiedOnColumn, after.modifiedOn).andWhere(idColumn, '>', after.id)),
        );
      }
      if (through) {
        query.where((q) =>
          q
            .where(modifiedOnColumn, '<', through.modifiedOn)
            .orWhere((q2) => q2.where(modifiedOnColumn, through.modifiedOn).andWhere(idColumn, '<=', through.id)),
        );
      }
    }
    return query.orderBy([{ column: modifiedOnColumn }, { column: idColumn }]).limit(request.limit);
  }

  async scanKeys(request: ScanKeysRequest): Promise<RecordKey[]> {
    const { idColumn, modifiedOnColumn } = this.columns(request.table);
    const rows: Row[] = await this.keysetQuery(request.table, request).select(idColumn, modifiedOnColumn);
    return rows.map((r) => ({ id: String(r[idColumn]), modifiedOn: String(r[modifiedOnColumn]) }));
  }

  async readChanged(request: ReadChangedRequest): Promise<SourceRecord[]> {
    const { idColumn, modifiedOnColumn } = this.columns(request.table);
    const rows: Row[] = await this.keysetQuery(request.table, request).select([...new Set([idColumn, modifiedOnColumn, ...request.fields])]);
    return rows.map((r) => this.toRecord(request.table, r));
  }

  async getMany(request: GetManyRequest): Promise<SourceRecord[]> {
    const { idColumn, modifiedOnColumn } = this.columns(request.table);
    const columns = [...new Set([idColumn, modifiedOnColumn, ...request.fields])];
    const out: SourceRecord[] = [];
    for (const ids of chunk(request.ids, Math.max(1, this.maxParams - 10))) {
      const query = this.knex(request.table).select(columns).whereIn(idColumn, ids);
      if (request.filter?.length) applyFilter(query, request.filter);
      const rows: Row[] = await query;
      for (const r of rows) out.push(this.toRecord(request.table, r));
    }
    return out;
  }

  async createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]> {
    if (records.length === 0) return [];
    const { idColumn, modifiedOnColumn } = this.columns(table);
    const modifiedOn = this.now();
    const rows = records.map((r) => ({ ...r.values, [idColumn]: r.key, [modifiedOnColumn]: modifiedOn }));
    const merge = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== idColumn);
    const existed = new Set<string>();
    const result = (key: string): WriteResult => ({ ok: true, id: key, modifiedOn, version: modifiedOn, existed: existed.has(key) });
    try {
      await this.knex.transaction(async (trx) => {
        // Which keys name a record already there (a replay, or a record created again after an uncoupling).
        for (const ids of chunk(
          records.map((r) => r.key),
          Math.max(1, this.maxParams - 10),
        )) {
          for (const row of await trx(table).whereIn(idColumn, ids).select(idColumn)) existed.add(String((row as Record<string, unknown>)[idColumn]));
        }
        await insertRows(trx, table, rows, { onConflict: [idColumn], merge });
      });
      return records.map((r) => result(r.key));
    } catch (error) {
      if (isTransientDbError(error)) throw error;
      // One bad row fails the whole statement: find it, and write the others.
      const results: WriteResult[] = [];
      existed.clear();
      for (const [i, row] of rows.entries()) {
        try {
          if (await this.knex(table).where(idColumn, records[i].key).first(idColumn)) existed.add(records[i].key);
          await this.knex(table).insert(row).onConflict(idColumn).merge();
          results.push(result(records[i].key));
        } catch (rowError) {
          if (isTransientDbError(rowError)) throw rowError;
          results.push({ ok: false, id: null, error: this.toWriteError(rowError) });
        }
      }
      return results;
    }
  }

  async updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]> {
    if (records.length === 0) return [];
    const { idColumn, modifiedOnColumn } = this.columns(table);
    const modifiedOn = this.now();
    const results: WriteResult[] = new Array(records.length);
    const missed: number[] = [];
    const apply = async (db: Knex | Knex.Transaction, index: number): Promise<void> => {
      const record = records[index];
      const query = db(table).where(idColumn, record.id);
      if (record.expectedVersion !== undefined) query.andWhere(modifiedOnColumn, record.expectedVersion);
      const count = await query.update({ ...record.values, [modifiedOnColumn]: modifiedOn });
      if (count === 0) missed.push(index);
      else results[index] = { ok: true, id: record.id, modifiedOn, version: modifiedOn };
    };
    try {
      await this.knex.transaction(async (trx) => {
        if (!supportsSetUpdate(this.knex)) {
          for (let i = 0; i < records.length; i++) await apply(trx, i);
          return;
        }
        // One statement per chunk of rows that write the same columns, each row guarded by its version.
        const updated = await setUpdate(trx, { table, idColumn, modifiedOnColumn, modifiedOn, maxParams: this.maxParams }, records);
        records.forEach((record, i) => {
          if (updated.has(record.id)) results[i] = { ok: true, id: record.id, modifiedOn, version: modifiedOn };
          else missed.push(i);
        });
      });
    } catch (error) {
      if (isTransientDbError(error)) throw error;
      missed.length = 0;
      for (let i = 0; i < records.length; i++) {
        try {
          await apply(this.knex, i);
        } catch (rowError) {
          if (isTransientDbError(rowError)) throw rowError;
          results[i] = { ok: false, id: records[i].id, error: this.toWriteError(rowError) };
        }
      }
    }
    if (missed.length > 0) {
      const existing = new Set(
        (
          await this.knex(table)
            .select(idColumn)
            .whereIn(
              idColumn,
              missed.map((i) => records[i].id),
            )
        ).map((r: Row) => String(r[idColumn])),
      );
      for (const i of missed) {
        const id = records[i].id;
        results[i] = existing.has(id)
          ? { ok: false, id, error: { kind: 'conflict', message: `${table} ${id} was changed since it was read` } }
          : { ok: false, id, error: { kind: 'notFound', message: `${table} ${id} no longer exists` } };
      }
    }
    return results;
  }

  async deleteMany(table: string, ids: string[]): Promise<WriteResult[]> {
    const { idColumn } = this.columns(table);
    const at = this.now();
    for (const part of chunk(ids, this.maxParams - 10)) await this.knex(table).whereIn(idColumn, part).delete();
    return ids.map((id) => ({ ok: true, id, modifiedOn: at }));
  }

  async findCandidates(request: FindCandidatesRequest): Promise<SourceRecord[]> {
    const { idColumn, modifiedOnColumn } = this.columns(request.table);
    const postgres = isPostgres(this.knex);
    const query = this.knex(request.table).select([...new Set([idColumn, modifiedOnColumn, ...request.fields])]);
    applyFilter(query, request.filter);
    const marks = (values: readonly unknown[]): string => values.map(() => '?').join(',');
    for (const condition of request.conditions) {
      const { field } = condition;
      const compared = matchExpression(postgres, condition.caseSensitive);
      // PostgreSQL's lower() folds any letter: one "in" covers every value.
      if (condition.caseSensitive || postgres) {
        query.whereRaw(`${compared} in (${marks(condition.values)})`, [field, ...condition.values]);
        continue;
      }
      // SQLite's lower() folds ASCII only, so values with other letters go through LIKE
      // with "_" in their place (a superset the caller re-checks).
      const ascii = condition.values.filter((v) => !NON_ASCII.test(v));
      const other = condition.values.filter((v) => NON_ASCII.test(v));
      const trimmed = matchExpression(false, true);
      query.where((q) => {
        if (ascii.length > 0) q.orWhereRaw(`${compared} in (${marks(ascii)})`, [field, ...ascii]);
        for (const value of other) {
          const pattern = value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/[^\x00-\x7f]/gu, '_');
          const range = asciiPrefixRange(value);
          // Every row the LIKE accepts has the value's ASCII prefix in the match index's
          // expression: the range lets the index narrow the LIKE instead of a full scan.
          if (range) {
            q.orWhereRaw(`(${compared} >= ? and ${compared} < ? and ${trimmed} like ? escape ?)`, [field, range.from, field, range.to, field, pattern, '\\']);
          } else q.orWhereRaw(`${trimmed} like ? escape ?`, [field, pattern, '\\']);
        }
        if (ascii.length === 0 && other.length === 0) q.whereRaw('1 = 0');
      });
    }
    const rows: Row[] = await query.limit(request.limit);
    return rows.map((r) => this.toRecord(request.table, r));
  }

  /** Creates the match indexes findCandidates uses on this connector's database; see {@link ensureMatchIndexes}. */
  async ensureMatchIndexes(table: string, fields: readonly MatchIndexField[]): Promise<string[]> {
    return ensureMatchIndexes(this.knex, table, fields);
  }

  private toWriteError(error: unknown): { kind: 'permanent'; message: string; code?: string; detail?: string } {
    // The driver's message, without the SQL statement (which carries record values).
    return { kind: 'permanent', message: dbErrorMessage(error), code: errorCode(error) };
  }
}
