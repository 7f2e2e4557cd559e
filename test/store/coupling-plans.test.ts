/**
 * A batch's coupling statements must stay index lookups however many
 * couplings the table holds: a plan that scans the table once per statement
 * turns a bulk run quadratic (seen when the per-mapping id indexes were
 * dropped: SQLite's planner then scanned every coupling of the table per
 * batch, and a 300,000-record update pass never finished). Asserted on SQLite's
 * plans for batches of 1,000, with no ANALYZE run, as a new store has.
 */
import { sqliteDialect } from '../helpers/stores';
import { testMapping } from '../helpers/systems';
import { recordStatements, sqlitePlan } from '../helpers/query-plans';

const BATCH = 1000;

test("a batch's coupling reads and writes are index lookups, never a scan of the couplings", async () => {
  const { store, cleanup } = await sqliteDialect.open();
  try {
    await store.saveMapping(testMapping());
    const mapping = await store.requireMapping('CUSTOMER');
    const ids = (from: number) => Array.from({ length: BATCH }, (_, i) => from + i);
    for (const b of [0, 1, 2]) {
      await store.insertCouplings(
        mapping,
        'ToIntegrationTable',
        'job-0',
        ids(b * BATCH).map((n) => ({ localId: `C${n}`, integrationId: `A${n}`, lastSyncedLocalModifiedOn: 'x', lastSyncedIntegrationModifiedOn: 'y' })),
      );
    }
    const recording = recordStatements(store.knex);
    const couplings = await store.getCouplings(
      'CUSTOMER',
      'local',
      ids(BATCH).map((n) => `C${n}`),
    );
    await store.getCouplings(
      'CUSTOMER',
      'integration',
      ids(BATCH).map((n) => `A${n}`),
    );
    await store.getRecordCouplings(
      mapping.integration,
      'integration',
      ids(BATCH).map((n) => `A${n}`),
    );
    const lost = await store.updateCouplings(
      'CUSTOMER',
      'ToIntegrationTable',
      'job-1',
      couplings.map((c) => ({
        localId: c.localId,
        integrationId: c.integrationId,
        version: c.version,
        lastSyncedLocalModifiedOn: 'x2',
        lastSyncedIntegrationModifiedOn: 'y2',
        result: 'Success' as const,
        failureCount: 0,
        lastError: null,
        pending: false,
        pendingOther: false,
        skipped: false,
        action: 'modify@job-1',
      })),
    );
    expect(lost).toEqual([]);
    expect(
      await store.deleteCouplings(
        'CUSTOMER',
        'integration',
        ids(2 * BATCH).map((n) => `A${n}`),
      ),
    ).toBe(BATCH);
    const statements = recording.stop().filter((q) => /couplings/.test(q.sql) && !/^(begin|commit|savepoint|release)/i.test(q.sql));
    expect(statements.length).toBeGreaterThanOrEqual(5);
    for (const q of statements) {
      const plan = await sqlitePlan(store.knex, q);
      // Every visit of the couplings finds its rows by record id or rowid: a search on a prefix alone (the mapping,
      // or the table's system and table) visits every coupling of it.
      const scans = plan.filter((line) => /^(SCAN|SEARCH) couplings\b/.test(line) && !/(local_id|integration_id|rowid)=/.test(line));
      expect({ sql: q.sql.slice(0, 80), scans }).toEqual({ sql: q.sql.slice(0, 80), scans: [] });
    }
  } finally {
    await cleanup();
  }
});
