/**
 * The raw limit: the rows a bulk sync of the BENCH mapping writes (the
 * destination rows and their couplings), written with no reads and no
 * mapping, one transaction per batch of FLOOR_PAGE records on each database.
 * Each batch's rows are built from the seed's formula before its writes and
 * off the clock, which times the writes alone, and stamped with the time of
 * its batch, as the connector stamps each write: one stamp for all would put
 * every row of the (modified_on, id) index in the order of the hashed keys,
 * a random place in the whole index for each. No design that
 * writes these rows to these databases can go faster; the floor and the sync
 * are read against it.
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

/** Writes `count` new destination rows and couplings, then updates one column of each, timing the writes of both. */
export async function rawLimitRun(env: BenchEnv, count: number): Promise<RawLimitSeconds> {
  const mapping = parseMappingDefinition(benchMapping());
  const jobId = `raw-${randomUUID()}`;
  const stamp = new Date(Date.now() - 60_000).toISOString();
  const destinationColumns = ['id', 'modified_on', ...FIELDS];
  const couplingColumns = Object.keys(
    newCouplingRow(
      mapping,
      'ToIntegrationTable',
      jobId,
      { localId: '', integrationId: '', lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null },
      stamp,
    ),
  );
  const sources = (start: number): Record<string, string>[] => {
    const out: Record<string, string>[] = [];
    for (let i = start; i < Math.min(count, start + FLOOR_PAGE); i++) out.push(row(i, stamp));
    return out;
  };
  const keyOf = (source: Record<string, string>): string => creationKey(mapping.name, 'local', source.id);

  let inserts = 0;
  for (let start = 0; start < count; start += FLOOR_PAGE) {
    const batch = sources(start);
    const now = new Date().toISOString();
    const destinationRows: SqlValue[][] = batch.map((s) => [keyOf(s), now, ...FIELDS.map((f) => s[f])]);
    const couplingRows: SqlValue[][] = batch.map((s) => {
      const coupling = newCouplingRow(
        mapping,
        'ToIntegrationTable',
        jobId,
        { localId: s.id, integrationId: keyOf(s), lastSyncedLocalModifiedOn: stamp, lastSyncedIntegrationModifiedOn: now, action: `insert@${jobId}` },
        now,
      );
      return couplingColumns.map((c) => coupling[c] as SqlValue);
    });
    inserts += await timed(async () => {
      await env.integration.transaction((trx) => insertRows(trx, 'dst', destinationColumns, destinationRows));
      await env.store.knex.transaction((trx) => insertRows(trx, TABLES.couplings, couplingColumns, couplingRows));
    });
  }

  let updates = 0;
  for (let start = 0; start < count; start += FLOOR_PAGE) {
    const batch = sources(start);
    const later = new Date().toISOString();
    const changed = batch.map((s) => [keyOf(s), `${s.f3}-changed`]);
    const synced = batch.map((s) => [s.id, later, later]);
    updates += await timed(async () => {
      await env.integration.transaction((trx) =>
        withValues(trx, [{ name: 'id' }, { name: 'f3' }], changed, 'update dst set f3 = v.f3, modified_on = ? from v where dst.id = v.id', [later]),
      );
      await env.store.knex.transaction((trx) =>
        withValues(
          trx,
          [{ name: 'local_id' }, { name: 'l' }, { name: 'i' }],
          synced,
          `update ${TABLES.couplings} set last_synced_local_modified_on = v.l, last_synced_integration_modified_on = v.i,
             last_to_integration_job_id = ?, version = ${TABLES.couplings}.version + 1, updated_at = ?
           from v where ${TABLES.couplings}.mapping_name = ? and ${TABLES.couplings}.local_id = v.local_id`,
          [jobId, later, mapping.name],
        ),
      );
    });
  }
  return { inserts, updates };
}
