/** What activities need from the worker: the store and the systems (connectors) by name. */
import type { Connector } from '../connectors/connector';
import type { Store } from '../store/store';

/** Connectors by system name, as mappings refer to them ("local", "dataverse", ...). */
export type Systems = Record<string, Connector>;

export interface ActivityDeps {
  store: Store;
  systems: Systems;
  /** Where activities write one-line progress notes. @default none */
  log?: (line: string) => void;
}
