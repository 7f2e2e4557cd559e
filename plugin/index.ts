export { CouplingSyncPlugin, WORKFLOWS_PATH, type CouplingSyncPluginOptions } from './coupling-sync-plugin';
