/**
 * What a workflow test of synchronization needs: a fresh store with the test
 * mapping, the two test systems (optionally wrapped to inject faults), and a
 * worker on a task queue of the test's own.
 */
import type { Systems } from '../../activities';
import type { MappingDefinition } from '../../domain/mapping';
import type { Store } from '../../store/store';
import { FaultyConnector, type Faults } from './faulty-connector';
import { sqliteDialect } from './stores';
import { openTestSystems, testMapping, type TestSystems } from './systems';
import { withWorker, type TestTemporal, type WorkerHarness } from './temporal';

export interface SyncContext {
  store: Store;
  sys: TestSystems;
  systems: Systems;
  faulty: { integration?: FaultyConnector; local?: FaultyConnector };
  run<T>(fn: (h: WorkerHarness) => Promise<T>): Promise<T>;
  rows(side: 'local' | 'integration'): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function openSyncContext(
  temporal: TestTemporal,
  mapping: Partial<MappingDefinition> = {},
  faults: { integration?: Faults; local?: Faults } = {},
): Promise<SyncContext> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  const faulty: SyncContext['faulty'] = {};
  const systems: Systems = { ...sys.systems };
  if (faults.integration) systems.integration = faulty.integration = new FaultyConnector(sys.systems.integration, faults.integration);
  if (faults.local) systems.local = faulty.local = new FaultyConnector(sys.systems.local, faults.local);
  await store.saveMapping(testMapping(mapping));
  return {
    store,
    sys,
    systems,
    faulty,
    run: (fn) => withWorker(temporal, { store, systems }, fn),
    rows: async (side) => (side === 'local' ? sys.local('customer') : sys.integration('account')).select().orderBy('id'),
    close: async () => {
      await sys.close();
      await cleanup();
    },
  };
}
