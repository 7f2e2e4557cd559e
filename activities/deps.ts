/** What activities need from the worker: the store and the systems (connectors) by name. */
import type { Connector } from '../connectors/connector';
import type { Store } from '../store/store';

/** Connectors by system name, as mappings refer to them ("local", "dataverse", ...). */
export type Systems = Record<string, Connector>;

export interface ActivityDeps {
  store: Store;
  systems: Systems;
  /** How long a run's lease on its mapping lasts without renewal. @default RUN_LOCK_TTL_MS (10 minutes) */
  leaseTtlMs?: number;
  /** A plain sink for one line per job closed, beside the SDK's activity logger (the demo prints them). @default none */
  log?: (line: string) => void;
}
