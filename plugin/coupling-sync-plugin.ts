/**
 * The Temporal plugin a team adds to its own Worker to get coupling & sync:
 *
 *   Worker.create({ connection, taskQueue: TASK_QUEUE, plugins: [new CouplingSyncPlugin({ store, systems })] })
 *
 * It appends our activities. It registers our workflows only when the worker
 * has none of its own: SimplePlugin would *replace* a team's workflowsPath or
 * bundle, so a team that runs its own workflows on the same worker re-exports
 * ours from its workflows file instead (`export * from 'temporal-coupling-sync/workflows'`).
 */
import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { failureRedaction } from '../activities/failure-redaction';
import { keepAlive } from '../activities/keep-alive';
import { CONTROL_ACTIVITIES } from '../common/activity-groups';
import { registerSecretsFromEnv } from '../support/redact';

/** Path of the workflow-only entry point. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Bundler options for our workflows. Preloaded modules are evaluated once per worker thread
 * and shared, frozen, by every run; without this the reusable V8 context evaluates each of our
 * workflow modules again for every new run (~3 ms of a single-record sync's 25 ms in the
 * worker). Safe because our workflow modules keep no state of their own: per-run state lives
 * in function scope, and zod, which does keep some, is loaded per run and only to validate.
 */
export const WORKFLOW_BUNDLER_OPTIONS = { preloadModules: [WORKFLOWS_PATH] };

export type CouplingSyncPluginOptions = ActivityDeps;

export class CouplingSyncPlugin extends SimplePlugin {
  constructor(options: CouplingSyncPluginOptions) {
    const activities = createActivities(options);
    // Credentials in the worker's environment are masked wherever they would be echoed.
    registerSecretsFromEnv();
    super({
      name: 'coupling-sync',
      activities,
      workerInterceptors: { activity: [failureRedaction(new Set(Object.keys(activities))), keepAlive(new Set<string>(CONTROL_ACTIVITIES))] },
    });
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    if (configured.workflowsPath || configured.workflowBundle) return configured;
    const preloadModules = [...(configured.bundlerOptions?.preloadModules ?? []), ...WORKFLOW_BUNDLER_OPTIONS.preloadModules];
    return { ...configured, workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ...configured.bundlerOptions, preloadModules } };
  }
}
