/**
 * What a full-synchronization test needs: several mappings in one store, each
 * on a table pair of its own (a customer-like local table, an account-like
 * integration table) in the two test systems, and a worker on a task queue of
 * the test's own.
 */
import type { Systems } from '../../activities';
import type { MappingDefinition } from '../../domain/mapping';
import type { Store } from '../../store/store';
import { createAccountTable, createCustomerTable } from '../../worker/demo/demo-data';
import { FaultyConnector, type Faults } from './faulty-connector';
import { sqliteDialect } from './stores';
import { customer, openTestSystems, testMapping, type TestSystems } from './systems';
import { withWorker, type TestTemporal, type WorkerHarness } from './temporal';

export const localTable = (mapping: string): string => `cust_${mapping.toLowerCase()}`;
export const integrationTable = (mapping: string): string => `acct_${mapping.toLowerCase()}`;

export interface FullSyncWorld {
  store: Store;
  sys: TestSystems;
  run<T>(fn: (h: WorkerHarness) => Promise<T>): Promise<T>;
  /** Adds `count` customers C<from>.. to the mapping's local table. */
  addCustomers(mapping: string, count: number, from?: number, extra?: (i: number) => Record<string, unknown>): Promise<void>;
  count(mapping: string, side: 'local' | 'integration'): Promise<number>;
  rows(mapping: string, side: 'local' | 'integration'): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** The mapping `name` on its own tables; `overrides` as for testMapping. */
export function mappingOn(name: string, overrides: Partial<MappingDefinition> = {}): MappingDefinition {
  return testMapping({
    name,
    local: { system: 'local', table: localTable(name) },
    integration: { system: 'integration', table: integrationTable(name) },
    ...overrides,
  });
}

export async function openFullSyncWorld(temporal: TestTemporal, mappings: MappingDefinition[], faults: { integration?: Faults } = {}): Promise<FullSyncWorld> {
  const { store, cleanup } = await sqliteDialect.open();
  const sys = await openTestSystems();
  const systems: Systems = { ...sys.systems };
  if (faults.integration) systems.integration = new FaultyConnector(sys.systems.integration, faults.integration);
  for (const mapping of mappings) {
    await createCustomerTable(sys.local, mapping.local.table);
    await createAccountTable(sys.integration, mapping.integration.table);
    await store.saveMapping(mapping);
  }
  const table = (mapping: string, side: 'local' | 'integration') =>
    side === 'local' ? sys.local(localTable(mapping)) : sys.integration(integrationTable(mapping));
  return {
    store,
    sys,
    run: (fn) => withWorker(temporal, { store, systems }, fn),
    addCustomers: async (mapping, count, from = 0, extra = () => ({})) => {
      const rows = Array.from({ length: count }, (_, i) => customer(from + i, extra(from + i)));
      for (let i = 0; i < rows.length; i += 200) await table(mapping, 'local').insert(rows.slice(i, i + 200));
    },
    count: async (mapping, side) => Number((await table(mapping, side).count({ n: '*' }).first())?.n ?? 0),
    rows: (mapping, side) => table(mapping, side).select().orderBy('id'),
    close: async () => {
      await sys.close();
      await cleanup();
    },
  };
}
