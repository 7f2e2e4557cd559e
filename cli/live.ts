/**
 * `coupling-sync live ...`: a mapping's live sync from a terminal or a script
 * (a receiver of another system's notifications can call `live notify`).
 */
import { Command, Option } from 'commander';
import type { LiveSync } from '../client/live-sync';
import type { LiveSyncState } from '../common/types';

export interface LiveCommandDeps {
  live(): Promise<LiveSync>;
  print(value: unknown, human: () => string): void;
  line(strings: TemplateStringsArray, ...values: unknown[]): string;
  list(value: string): string[];
  wholeNumber(option: string, min: number, max: number): (value: string) => number;
}

function describe(line: LiveCommandDeps['line'], s: LiveSyncState): string {
  const pending = `${s.pending.local} local, ${s.pending.integration} integration${s.pending.many.length ? `, many on ${s.pending.many.join(' and ')}` : ''}`;
  const last = s.lastRun ? line`; last run ${s.lastRun.workflowId}: ${s.lastRun.status}${s.lastRun.message ? ` (${s.lastRun.message})` : ''}` : '';
  return line`${s.mapping}: ${s.phase}, ${s.runs} runs, pending ${pending}, ${s.notifications} notifications (${s.refused} refused, ${s.ignored} ignored)${last}`;
}

export function liveCommand(deps: LiveCommandDeps): Command {
  const { print, line } = deps;
  const live = new Command('live').description('live sync: changes told of by notifications, synchronized within about a second');
  live
    .command('notify')
    .description('tell a mapping that records changed (starts its live sync when none runs)')
    .argument('<mapping>')
    .addOption(new Option('--side <side>', 'which side changed').choices(['local', 'integration']).default('local'))
    .option('--ids <ids>', 'comma-separated ids of the records that changed', deps.list)
    .option('--many', 'many records changed: an incremental run reads them')
    .option('--debounce-ms <n>', 'when this starts it: how long notifications are coalesced', deps.wholeNumber('debounce-ms', 0, 60_000))
    .action(async (mapping: string, o: { side: 'local' | 'integration'; ids?: string[]; many?: boolean; debounceMs?: number }) => {
      const handle = await (
        await deps.live()
      ).notify(mapping, { side: o.side, ids: o.ids, many: o.many ? true : undefined }, o.debounceMs === undefined ? {} : { debounceMs: o.debounceMs });
      print({ workflowId: handle.workflowId, mapping, side: o.side, ids: o.ids?.length ?? 0, many: o.many === true }, () =>
        o.many
          ? line`Told ${handle.workflowId}: many changed on the ${o.side} side`
          : line`Told ${handle.workflowId}: ${o.ids?.length ?? 0} changed on the ${o.side} side`,
      );
    });
  live
    .command('start')
    .description('start a mapping live sync (or find the one running)')
    .argument('<mapping>')
    .option('--debounce-ms <n>', 'how long notifications are coalesced before a run', deps.wholeNumber('debounce-ms', 0, 60_000))
    .option('--max-batch <n>', 'record ids per run', deps.wholeNumber('max-batch', 1, 10_000))
    .option('--paused', 'start paused')
    .action(async (mapping: string, o: { debounceMs?: number; maxBatch?: number; paused?: boolean }) => {
      const handle = await (await deps.live()).start({ mapping, debounceMs: o.debounceMs, maxBatch: o.maxBatch, paused: o.paused });
      print({ workflowId: handle.workflowId }, () => line`Live sync ${handle.workflowId} is running`);
    });
  for (const [name, verb] of [
    ['pause', 'Paused'],
    ['resume', 'Resumed'],
  ] as const) {
    live
      .command(name)
      .argument('<mapping>')
      .action(async (mapping: string) => {
        await (await deps.live())[name](mapping);
        print({ mapping, [name]: true }, () => line`${verb} the live sync of ${mapping}`);
      });
  }
  live
    .command('stop')
    .description('finish the run in flight and end (pending changes are left to the next scheduled run)')
    .argument('<mapping>')
    .action(async (mapping: string) => {
      const state = await (await deps.live()).stop(mapping);
      print(state, () => describe(line, state));
    });
  live
    .command('status')
    .argument('<mapping>')
    .action(async (mapping: string) => {
      const state = await (await deps.live()).state(mapping);
      print(state, () => describe(line, state));
    });
  return live;
}
