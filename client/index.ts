export { CouplingSyncClient, type CouplingSyncClientOptions } from './coupling-sync-client';
export { workflowIds } from './workflow-ids';
