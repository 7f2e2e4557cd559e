export { CouplingSyncPlugin, WORKFLOWS_PATH, WORKFLOW_BUNDLER_OPTIONS, type CouplingSyncPluginOptions } from './coupling-sync-plugin';
