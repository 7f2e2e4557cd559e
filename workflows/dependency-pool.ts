/**
 * Runs work items in dependency order: an item starts once every item it
 * depends on succeeded, at most `limit` at once; an item whose dependency
 * failed or was not started is not started either. Plain promises, no
 * Temporal API: deterministic in workflow code (which item starts next depends
 * only on the order of the items and on which finished), and testable alone.
 */

export interface PoolItem {
  name: string;
  /** Names of items of the same pool this one waits for. */
  dependsOn: readonly string[];
}

export interface DependencyPoolHooks {
  /** Does the item's work; resolves true when it succeeded, false when it failed. A rejection fails the whole pool. */
  run(name: string): Promise<boolean>;
  /** The item will not start: these of its dependencies failed or were not started. */
  notStarted(name: string, blockedBy: string[]): void;
  /** No item starts once this says so (the run was cancelled); those still waiting are left as they are. */
  stopped(): boolean;
}

type Status = 'waiting' | 'running' | 'succeeded' | 'failed' | 'notStarted';

/** Resolves when nothing runs and nothing more can start; the items are started in their given order among the ready ones. */
export function runInDependencyOrder(items: readonly PoolItem[], limit: number, hooks: DependencyPoolHooks): Promise<void> {
  const status = new Map<string, Status>(items.map((item) => [item.name, 'waiting']));
  let running = 0;
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const pump = (): void => {
      if (failed) return;
      // Settle the items that can never start first, so one blocked deep in a chain is reported at once.
      for (let changed = true; changed;) {
        changed = false;
        for (const item of items) {
          if (status.get(item.name) !== 'waiting') continue;
          const blockedBy = item.dependsOn.filter((d) => status.get(d) === 'failed' || status.get(d) === 'notStarted');
          if (blockedBy.length === 0) continue;
          status.set(item.name, 'notStarted');
          hooks.notStarted(item.name, blockedBy);
          changed = true;
        }
      }
      for (const item of items) {
        if (running >= limit || hooks.stopped()) break;
        if (status.get(item.name) !== 'waiting' || !item.dependsOn.every((d) => status.get(d) === 'succeeded')) continue;
        status.set(item.name, 'running');
        running++;
        hooks.run(item.name).then(
          (ok) => {
            status.set(item.name, ok ? 'succeeded' : 'failed');
            running--;
            pump();
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
      }
      if (running === 0) resolve();
    };
    pump();
  });
}
