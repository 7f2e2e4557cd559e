/**
 * What `coupling-sync full-sync` prints: one line per mapping (its state, its
 * counters or why it did not finish), and while it runs, a bar of mappings
 * finished. Apart from cli/main.ts because a full synchronization reports per
 * mapping, not per job.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { SingleBar } from 'cli-progress';
import { fullSynchronizationProgressQuery } from '../common/definitions';
import type { FullSynchronizationResult, MappingRunProgress } from '../common/types';
import { visible } from '../common/visible-text';

const FINISHED = new Set<MappingRunProgress['state']>(['done', 'failed', 'notStarted', 'cancelled']);

function counts(entry: MappingRunProgress): string {
  return (
    Object.entries(entry.counters)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'nothing to do'
  );
}

/** One line per mapping, in the order they ran; names and reasons made visible (they may come from the systems). */
export function summarizeFullSync(result: FullSynchronizationResult): string {
  const lines = result.mappings.map((e) => visible(`${e.mapping}: ${e.state} (${e.state === 'done' ? counts(e) : (e.reason ?? counts(e))})`));
  return [...lines, `Full synchronization ${result.status}.`].join('\n');
}

/** Exit code 2 (as for a run with failed records) when a mapping did not finish or a record failed. */
export function fullSyncExitCode(result: FullSynchronizationResult): number {
  return result.status === 'succeeded' && result.mappings.every((e) => e.counters.failed === 0) ? 0 : 2;
}

/** Waits for the run, drawing mappings finished out of all from the progress query when `showBar`. */
export async function followFullSync(handle: WorkflowHandle, showBar: boolean): Promise<FullSynchronizationResult> {
  const bar = showBar ? new SingleBar({ format: '{phase} | {value}/{total} mappings finished | {running}', hideCursor: true }, undefined) : null;
  let timer: NodeJS.Timeout | null = null;
  if (bar) {
    bar.start(0, 0, { phase: 'planning', running: '' });
    timer = setInterval(() => {
      handle.query(fullSynchronizationProgressQuery).then(
        (p) => {
          const running = p.mappings.filter((e) => e.state !== 'waiting' && !FINISHED.has(e.state));
          bar.setTotal(p.mappings.length);
          bar.update(p.mappings.filter((e) => FINISHED.has(e.state)).length, {
            phase: p.phase,
            running: visible(running.map((e) => `${e.mapping} ${e.state}`).join(', ')),
          });
        },
        () => undefined,
      );
    }, 500);
  }
  try {
    return (await handle.result()) as FullSynchronizationResult;
  } finally {
    if (timer) clearInterval(timer);
    bar?.stop();
  }
}
