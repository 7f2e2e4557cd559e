/**
 * The raw limit: the rows a bulk sync of the BENCH mapping writes (the
 * destination rows and their couplings), built in memory before the clock
 * starts and written with no reads and no mapping, one transaction per batch
 * of FLOOR_PAGE records on each database. No design that writes these rows to
 * these databases can go faster; the floor and the sync are read against it.
 */
import { randomUUID } from 'node:crypto';
import { parseMappingDefinition } from '../domain/mapping';
import { creationKey } from '../domain/record-key';
import { newCouplingRow } from '../store/couplings';
import { TABLES } from '../store/tables';
import { benchMapping, FIELDS, row, type BenchEnv } from './fixtures';
import { FLOOR_PAGE } from './floor';
import { insertRows, withValues, type SqlValue } from './set-sql';
import { timed } from './stats';

export interface RawLimitSeconds {
  inserts: number;
  updates: number;
}

/** Writes `count` new destination rows and couplings, then updates one column of each, timing both. */
export async function rawLimitRun(env: BenchEnv, count: number): Promise<RawLimitSeconds> {
  const mapping = parseMappingDefinition(benchMapping());
  const jobId = `raw-${randomUUID()}`;
  const stamp = new Date(Date.now() - 60_000).toISOString();
  const now = new Date().toISOString();
  const destinationColumns = ['id', 'modified_on', ...FIELDS];
  const destinationRows: SqlValue[][] = [];
  const couplingRows: SqlValue[][] = [];
  let couplingColumns: string[] = [];
  for (let i = 0; i < count; i++) {
    const source = row(i, stamp);
    const key = creationKey(mapping.name, 'local', source.id);
    destinationRows.push([key, now, ...FIELDS.map((f) => source[f])]);
    const coupling = newCouplingRow(
      mapping,
      'ToIntegrationTable',
      jobId,
      { localId: source.id, integrationId: key, lastSyncedLocalModifiedOn: stamp, lastSyncedIntegrationModifiedOn: now, action: `insert@${jobId}` },
      now,
    );
    if (couplingColumns.length === 0) couplingColumns = Object.keys(coupling);
    couplingRows.push(couplingColumns.map((c) => coupling[c] as SqlValue));
  }
  const inserts = await timed(async () => {
    for (let start = 0; start < count; start += FLOOR_PAGE) {
      await env.integration.transaction((trx) => insertRows(trx, 'dst', destinationColumns, destinationRows.slice(start, start + FLOOR_PAGE)));
      await env.store.knex.transaction((trx) => insertRows(trx, TABLES.couplings, couplingColumns, couplingRows.slice(start, start + FLOOR_PAGE)));
    }
  });

  const later = new Date().toISOString();
  const f3 = destinationColumns.indexOf('f3');
  const changed = destinationRows.map((r) => [r[0], `${String(r[f3])}-changed`]);
  const synced = destinationRows.map((r, i) => [row(i, stamp).id, later, later]);
  const updates = await timed(async () => {
    for (let start = 0; start < count; start += FLOOR_PAGE) {
      await env.integration.transaction((trx) =>
        withValues(
          trx,
          [{ name: 'id' }, { name: 'f3' }],
          changed.slice(start, start + FLOOR_PAGE),
          'update dst set f3 = v.f3, modified_on = ? from v where dst.id = v.id',
          [later],
        ),
      );
      await env.store.knex.transaction((trx) =>
        withValues(
          trx,
          [{ name: 'local_id' }, { name: 'l' }, { name: 'i' }],
          synced.slice(start, start + FLOOR_PAGE),
          `update ${TABLES.couplings} set last_synced_local_modified_on = v.l, last_synced_integration_modified_on = v.i,
             last_to_integration_job_id = ?, version = ${TABLES.couplings}.version + 1, updated_at = ?
           from v where ${TABLES.couplings}.mapping_name = ? and ${TABLES.couplings}.local_id = v.local_id`,
          [jobId, later, mapping.name],
        ),
      );
    }
  });
  return { inserts, updates };
}
