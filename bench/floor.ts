/**
 * The floor: a plain script (no Temporal, no activities, no connector) doing
 * the reads, mapping and writes a bulk sync of the BENCH mapping needs, with
 * the best set-based statement for each (bench/set-sql.ts). Per page of
 * source records, in keyset order:
 *
 * - reads: the page, its couplings, and the coupled destination rows;
 * - mapping: the mapping's own functions (planFields, mapValues, diffValues),
 *   and the same change tests (source changed since its last sync, destination
 *   not changed since);
 * - writes: uncoupled records as one multi-row insert into the destination and
 *   one into the couplings; changed ones as one `update ... from (values ...)`
 *   per set of changed columns, guarded by the destination's modified-on, then
 *   one coupling update guarded by the coupling's version.
 *
 * A bulk sync does more (leases, job rows, failure states, lookups, a replay's
 * bookkeeping); the floor is what any design must at least do.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { diffValues, mapValues, planFields, type FieldPlan } from '../domain/field-plan';
import { parseMappingDefinition, type IntegrationTableMapping } from '../domain/mapping';
import { creationKey } from '../domain/record-key';
import { newCouplingRow } from '../store/couplings';
import { TABLES } from '../store/tables';
import { benchMapping, FIELDS, type BenchEnv } from './fixtures';
import { insertRows, withValues, type SqlValue, type ValuesColumn } from './set-sql';

/** Records per page, as the measured bulk syncs use (batchSize 1000). */
export const FLOOR_PAGE = 1000;

type Row = Record<string, unknown>;

interface FloorContext {
  env: BenchEnv;
  mapping: IntegrationTableMapping;
  plan: FieldPlan;
  jobId: string;
}

/** The page of source rows after `after` in (modified_on, id) order: one range of that index. */
async function readPage(db: Knex, after: { modifiedOn: string; id: string } | null): Promise<Row[]> {
  const query = db('src')
    .select(['id', 'modified_on', ...FIELDS])
    .orderBy([{ column: 'modified_on' }, { column: 'id' }])
    .limit(FLOOR_PAGE);
  if (after) query.whereRaw('(modified_on, id) > (?, ?)', [after.modifiedOn, after.id]);
  return query;
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

async function insertPage(ctx: FloorContext, rows: readonly Row[], now: string): Promise<void> {
  const { env, mapping, plan, jobId } = ctx;
  const destinationColumns = ['id', 'modified_on', ...FIELDS];
  const created = rows.map((r) => {
    const values = mapValues(plan, r);
    return { source: r, key: creationKey(mapping.name, 'local', String(r.id)), values };
  });
  await insertRows(
    env.integration,
    'dst',
    destinationColumns,
    created.map((c) => [c.key, now, ...FIELDS.map((f) => text(c.values[f]))]),
  );
  const couplingRows = created.map((c) =>
    newCouplingRow(
      mapping,
      'ToIntegrationTable',
      jobId,
      {
        localId: String(c.source.id),
        integrationId: c.key,
        lastSyncedLocalModifiedOn: text(c.source.modified_on),
        lastSyncedIntegrationModifiedOn: now,
        action: `insert@${jobId}`,
      },
      now,
    ),
  );
  const columns = Object.keys(couplingRows[0] ?? {});
  await insertRows(
    env.store.knex,
    TABLES.couplings,
    columns,
    couplingRows.map((r) => columns.map((c) => r[c] as SqlValue)),
  );
}

async function updatePage(ctx: FloorContext, rows: readonly Row[], couplings: ReadonlyMap<string, Row>, now: string): Promise<void> {
  const { env, plan, jobId } = ctx;
  const destinationIds = rows.map((r) => String(couplings.get(String(r.id))?.integration_id));
  const current = new Map<string, Row>();
  for (const d of (await env
    .integration('dst')
    .select(['id', 'modified_on', ...FIELDS])
    .whereIn('id', destinationIds)) as Row[])
    current.set(String(d.id), d);
  // Grouped by the set of columns that changed: one statement per group and chunk.
  const groups = new Map<string, { columns: string[]; rows: { sourceId: string; destinationId: string; expected: string; values: SqlValue[] }[] }>();
  for (const r of rows) {
    const coupling = couplings.get(String(r.id));
    const destination = coupling && current.get(String(coupling.integration_id));
    if (!coupling || !destination) continue;
    const sourceChanged = String(r.modified_on) > String(coupling.last_synced_local_modified_on ?? '');
    const destinationChanged = String(destination.modified_on) !== String(coupling.last_synced_integration_modified_on ?? '');
    if (!sourceChanged || destinationChanged) continue;
    const changes = diffValues(mapValues(plan, r), destination);
    const columns = Object.keys(changes).sort();
    if (columns.length === 0) continue;
    const signature = columns.join(',');
    const group = groups.get(signature) ?? { columns, rows: [] };
    group.rows.push({
      sourceId: String(r.id),
      destinationId: String(destination.id),
      expected: String(destination.modified_on),
      values: columns.map((c) => text(changes[c])),
    });
    groups.set(signature, group);
  }
  const landed = new Set<string>();
  for (const group of groups.values()) {
    const columns: ValuesColumn[] = [{ name: 'id' }, { name: 'expected' }, ...group.columns.map((name) => ({ name }))];
    const returned = await withValues(
      env.integration,
      columns,
      group.rows.map((g) => [g.destinationId, g.expected, ...g.values]),
      `update dst set ${group.columns.map((c) => `${c} = v.${c}`).join(', ')}, modified_on = ? from v where dst.id = v.id and dst.modified_on = v.expected returning dst.id`,
      [now],
    );
    for (const r of returned) landed.add(String(r.id));
  }
  const synced = rows.flatMap((r) => {
    const coupling = couplings.get(String(r.id));
    return coupling && landed.has(String(coupling.integration_id))
      ? [[String(r.id), String(coupling.integration_id), Number(coupling.version), text(r.modified_on), now]]
      : [];
  });
  await withValues(
    env.store.knex,
    [{ name: 'local_id' }, { name: 'integration_id' }, { name: 'version', type: 'integer' }, { name: 'l' }, { name: 'i' }],
    synced,
    `update ${TABLES.couplings} set last_synced_local_modified_on = v.l, last_synced_integration_modified_on = v.i,
       last_to_integration_result = 'Success', last_to_integration_job_id = ?, last_to_integration_action = ?,
       to_integration_failure_count = 0, to_integration_last_error = null, to_integration_pending = ?,
       version = ${TABLES.couplings}.version + 1, updated_at = ?
     from v where ${TABLES.couplings}.mapping_name = ? and ${TABLES.couplings}.local_id = v.local_id
       and ${TABLES.couplings}.integration_id = v.integration_id and ${TABLES.couplings}.version = v.version`,
    [jobId, `modify@${jobId}`, false, now, ctx.mapping.name],
  );
}

/** One pass over every source record: creates the uncoupled ones, updates the changed coupled ones. */
export async function floorPass(env: BenchEnv): Promise<void> {
  const mapping = parseMappingDefinition(benchMapping());
  const ctx: FloorContext = { env, mapping, plan: planFields(mapping, 'ToIntegrationTable'), jobId: `floor-${randomUUID()}` };
  let after: { modifiedOn: string; id: string } | null = null;
  for (;;) {
    const rows = await readPage(env.local, after);
    if (rows.length === 0) return;
    const now = new Date().toISOString();
    const couplings = new Map<string, Row>();
    const coupled: Row[] = await env.store
      .knex(TABLES.couplings)
      .select(['local_id', 'integration_id', 'version', 'last_synced_local_modified_on', 'last_synced_integration_modified_on'])
      .where('mapping_name', mapping.name)
      .whereIn(
        'local_id',
        rows.map((r) => String(r.id)),
      );
    for (const c of coupled) couplings.set(String(c.local_id), c);
    const uncoupled = rows.filter((r) => !couplings.has(String(r.id)));
    if (uncoupled.length > 0) await insertPage(ctx, uncoupled, now);
    const toUpdate = rows.filter((r) => couplings.has(String(r.id)));
    if (toUpdate.length > 0) await updatePage(ctx, toUpdate, couplings, now);
    const last = rows[rows.length - 1];
    after = { modifiedOn: String(last.modified_on), id: String(last.id) };
  }
}
