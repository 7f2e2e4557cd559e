/**
 * The engine without Temporal: a SQLite store, the two test systems (with
 * payment terms columns on both: BC's code on customer, Dataverse's option
 * value on account) and syncBatch called as the workflows call it, one job
 * per batch, through MockActivityEnvironment.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SyncBatchInput, type SyncBatchResult } from '../../activities';
import type { JobCounters, Side, SyncDirection } from '../../common/types';
import type { DecisionOptions } from '../../common/protocol';
import type { MappingDefinition } from '../../domain/mapping';
import type { Store } from '../../store/store';
import { sqliteDialect } from './stores';
import { openTestSystems, testMapping, type TestSystems } from './systems';

export type AccountRow = Record<string, unknown> & { id: string };

export interface BatchWorld {
  store: Store;
  sys: TestSystems;
  /** Saves the mapping again (with these overrides) and uses fresh activities, which do not hold the old one in their cache. */
  remap(overrides: Partial<MappingDefinition>): Promise<void>;
  /** One syncBatch over given ids, as its own job. */
  batch(direction: SyncDirection, side: Side, ids: string[], options?: DecisionOptions): Promise<{ jobId: string; counters: JobCounters }>;
  /** The integration record the local record is coupled to. */
  accountOf(localId: string): Promise<AccountRow>;
  close(): Promise<void>;
}

export async function openBatchWorld(overrides: Partial<MappingDefinition>): Promise<BatchWorld> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  await sys.local.schema.alterTable('customer', (t) => t.string('payment_terms_code', 20).nullable());
  await sys.integration.schema.alterTable('account', (t) => t.integer('paymenttermscode').nullable());
  await store.saveMapping(testMapping(overrides));
  let acts = createActivities({ store, systems: sys.systems });
  let jobs = 0;
  return {
    store,
    sys,
    async remap(more) {
      await store.saveMapping(testMapping({ ...overrides, ...more }));
      acts = createActivities({ store, systems: sys.systems });
    },
    async batch(direction, side, ids, options = {}) {
      const jobId = `job-${++jobs}`;
      await store.createJob({ id: jobId, mappingName: 'CUSTOMER', type: 'Synchronization', direction, workflowId: 'w', runId: 'r' });
      const input: SyncBatchInput = { mapping: 'CUSTOMER', direction, jobId, selection: { kind: 'ids', ids, side }, options, maxAttempts: 1 };
      const result: SyncBatchResult = await new MockActivityEnvironment().run(acts.syncBatch, input);
      return { jobId, counters: result.counters };
    },
    async accountOf(localId) {
      const [coupling] = await store.getCouplings('CUSTOMER', 'local', [localId]);
      if (!coupling) throw new Error(`${localId} is not coupled`);
      const row: AccountRow | undefined = await sys.integration('account').where('id', coupling.integrationId).first();
      if (!row) throw new Error(`the account of ${localId} does not exist`);
      return row;
    },
    async close() {
      await sys.close();
      await cleanup();
    },
  };
}
