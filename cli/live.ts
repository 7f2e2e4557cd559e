/**
 * `coupling-sync live ...`: a mapping's live sync from a terminal or a script
 * (a receiver of another system's notifications can call `live notify`).
 */
import type { CliOutput } from './output';
import { Command, Option } from 'commander';
import type { LiveSync } from '../client/live-sync';
import type { LiveSyncState } from '../common/types';
import knexFactory from 'knex';
import { DEFAULT_CHANGE_CHANNEL, installChangeTrigger, removeChangeTrigger } from '../connectors/knex-change-trigger';
import { knexConfigFromUrl } from '../store/database-url';

export interface LiveCommandDeps extends CliOutput {
  live(): Promise<LiveSync>;
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
  const trigger = live.command('pg-trigger').description("a PostgreSQL table's change trigger, which the worker LISTENs to (LIVE_SYNC_LISTEN)");
  for (const [name, verb] of [
    ['install', 'Installed'],
    ['remove', 'Removed'],
  ] as const) {
    trigger
      .command(name)
      .description(name === 'install' ? 'add (or replace) the trigger; safe to run again' : 'drop the trigger and its function')
      .argument('<table>')
      .requiredOption('--database-url <url>', 'the PostgreSQL database that holds the table (postgres://...)')
      .option('--schema <name>', 'the schema that holds the table (default: the search path)')
      .option('--id-column <column>', "the table's id column", 'id')
      .option('--channel <name>', 'the channel it notifies', DEFAULT_CHANGE_CHANNEL)
      .action(async (table: string, o: { databaseUrl: string; schema?: string; idColumn: string; channel: string }) => {
        const knex = knexFactory(knexConfigFromUrl({ databaseUrl: o.databaseUrl, schema: o.schema }));
        try {
          await (name === 'install' ? installChangeTrigger : removeChangeTrigger)(knex, { table, idColumn: o.idColumn, channel: o.channel });
        } finally {
          await knex.destroy();
        }
        print({ table, [name]: true, channel: o.channel }, () => line`${verb} the change trigger of ${table} (channel ${o.channel})`);
      });
  }
  return live;
}
