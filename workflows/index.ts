/**
 * The workflow-only entry point: safe for a workflow bundle (no Knex, no
 * connectors, no Node APIs). Teams that run our workflows in their own worker
 * re-export this module from their workflows file.
 */
export { singleSyncWorkflow } from './single-sync';
export { bulkSyncWorkflow } from './bulk-sync';
export { retryFailedWorkflow } from './retry-failed';
export { describeMappingWorkflow } from './describe-mapping';
export { matchBasedCouplingWorkflow } from './match-based-coupling';
export { setUpCouplingWorkflow } from './set-up-coupling';
export { uncoupleWorkflow } from './uncouple';
export { fullSynchronizationWorkflow } from './full-synchronization';
export { liveSyncWorkflow } from './live-sync';
export { logRetentionWorkflow } from './log-retention';
