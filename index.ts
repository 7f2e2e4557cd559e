/**
 * Worker-side entry point: the plugin, the activity factory, the store, the
 * connector contract and the connectors (Knex tables, Dataverse, Business Central). Workflow code must import
 * `temporal-coupling-sync/workflows` instead; clients `temporal-coupling-sync/client`.
 */
export { CouplingSyncPlugin, WORKFLOWS_PATH, WORKFLOW_BUNDLER_OPTIONS, type CouplingSyncPluginOptions } from './plugin';
export { createActivities, type Activities, type ActivityDeps, type Systems } from './activities';
export { Store, type Coupling, type JobRow, type JobErrorRow } from './store/store';
export { knexConfigFromUrl } from './store/database-url';
export { verifyConnector, ThrottledError, type Connector, type SourceRecord, type WriteResult } from './connectors/connector';
export {
  KnexTableConnector,
  ensureMatchIndexes,
  matchIndexStatements,
  type KnexTableConnectorOptions,
  type MatchIndexField,
} from './connectors/knex-table-connector';
export { DataverseConnector, type DataverseConnectorOptions, type DataverseCredentials, type DataverseTableOptions } from './connectors/dataverse';
export {
  BusinessCentralConnector,
  type BusinessCentralConnectorOptions,
  type BusinessCentralCredentials,
  type BusinessCentralTableOptions,
} from './connectors/business-central';
export { entraTokenUrl, ClientCredentialsTokenProvider, type TokenProvider } from './connectors/http/token-client';
export { openSystems, systemsFromFile, type SystemsFile } from './worker/systems-config';
export { matchIndexFields } from './domain/matching';
export { parseMappingDefinition, type MappingDefinition } from './domain/mapping';
export { createWorker, type CreateWorkerOptions } from './worker/create-worker';
export { TASK_QUEUE } from './common/constants';
export * from './common/types';
