/**
 * The commands that start runs on Temporal and follow them: sync, bulk, match,
 * couple, uncouple, restore, delete-record and retry (each a workflow, so it
 * is durable and visible in the Web UI).
 */
import { Command, Option } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import type { CouplingSyncClient } from '../client';
import { MAX_BATCH_SIZE } from '../common/constants';
import type { MatchBasedCouplingInput } from '../common/inputs';
import { SYNC_DIRECTIONS, type SyncDirection } from '../common/types';
import { UserFacingError } from '../support/user-facing-error';

export interface RunCommandDeps {
  sync(): Promise<CouplingSyncClient>;
  runAndReport(start: () => Promise<WorkflowHandle>, wait: boolean): Promise<void>;
  list(value: string): string[];
  wholeNumber(option: string, min: number, max: number): (value: string) => number;
  directionOption(): Option;
}

class RunOptionsError extends UserFacingError {
  override readonly name: string = 'RunOptionsError';
}

interface BulkOptions {
  direction?: SyncDirection;
  full?: boolean;
  ids?: string[];
  side?: 'local' | 'integration';
  includeSkipped?: boolean;
  winner?: SyncDirection;
  batchSize?: number;
  inFlight?: number;
  wait: boolean;
}

/** An option's value as a JSON array (its items are checked where the run's input is). */
function jsonArray(option: string): (value: string) => unknown[] {
  return (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new RunOptionsError(
        `Option "${option}": not JSON (${JSON.stringify(value.slice(0, 80))}); give a list such as [{"field":"city","op":"eq","value":"Seattle"}].`,
      );
    }
    if (!Array.isArray(parsed)) throw new RunOptionsError(`Option "${option}": give a JSON list of conditions, not ${typeof parsed}.`);
    return parsed as unknown[];
  };
}

export function runCommands(deps: RunCommandDeps): Command[] {
  const { runAndReport, list, wholeNumber, directionOption } = deps;
  const temporal = async (): Promise<{ sync: CouplingSyncClient }> => ({ sync: await deps.sync() });
  const c0 = new Command('sync')
    .description('synchronize one record now (BC: Synchronize Now)')
    .argument('<mapping>')
    .argument('<recordId>')
    .addOption(new Option('--side <side>', 'which side the id is on').choices(['local', 'integration']).default('local'))
    .addOption(directionOption())
    .action(async (mapping: string, recordId: string, o: { side: 'local' | 'integration'; direction?: SyncDirection }) => {
      const { sync } = await temporal();
      await runAndReport(() => sync.startSingleSync({ mapping, recordId, side: o.side, direction: o.direction }), true);
    });

  const c1 = new Command('bulk')
    .description('synchronize every changed record of a mapping (or the given ids, or all with --full)')
    .argument('<mapping>')
    .addOption(directionOption())
    .option('--full', 'all records, regardless of watermarks')
    .option('--ids <ids>', 'comma-separated record ids', list)
    .addOption(new Option('--side <side>', 'which side the --ids are on').choices(['local', 'integration']))
    .option('--include-skipped', 'with --ids: retry them even when skipped (the flag is cleared)')
    .addOption(
      new Option('--winner <direction>', "with --ids: the side that wins their conflicts; every direction runs (BC's Synchronize)").choices([
        ...SYNC_DIRECTIONS,
      ]),
    )
    .option('--batch-size <n>', 'records per batch', wholeNumber('batch-size', 1, MAX_BATCH_SIZE))
    .option('--in-flight <n>', 'batches in flight at once', wholeNumber('in-flight', 1, 32))
    .option('--no-wait', 'start and return the workflow id')
    .action(async (mapping: string, o: BulkOptions) => {
      const { sync } = await temporal();
      await runAndReport(
        () =>
          sync.startBulkSync({
            mapping,
            direction: o.direction,
            fullSync: o.full,
            recordIds: o.ids,
            side: o.side,
            includeSkipped: o.includeSkipped,
            winner: o.winner,
            batchSize: o.batchSize,
            maxBatchesInFlight: o.inFlight,
          }),
        o.wait,
      );
    });

  const c2 = new Command('match')
    .description('couple uncoupled records to matching ones on the other side')
    .argument('<mapping>')
    .option('--ids <ids>', 'comma-separated local record ids', list)
    .option('--filter <json>', 'only local records within these conditions, as JSON: [{"field":"city","op":"eq","value":"Seattle"}]', jsonArray('filter'))
    .option('--create-new', 'create the record on the integration side when nothing matches')
    .option('--sync-after', 'synchronize the newly coupled records')
    .option('--batch-size <n>', 'records per batch', wholeNumber('batch-size', 1, MAX_BATCH_SIZE))
    .option('--in-flight <n>', 'batches in flight at once', wholeNumber('in-flight', 1, 32))
    .option('--no-wait', 'start and return the workflow id')
    .action(
      async (
        mapping: string,
        o: { ids?: string[]; filter?: unknown[]; createNew?: boolean; syncAfter?: boolean; batchSize?: number; inFlight?: number; wait: boolean },
      ) => {
        const { sync } = await temporal();
        await runAndReport(
          () =>
            sync.startMatchBasedCoupling({
              mapping,
              recordIds: o.ids,
              filter: o.filter as MatchBasedCouplingInput['filter'],
              createNewIfNoMatch: o.createNew,
              syncAfterCoupling: o.syncAfter,
              batchSize: o.batchSize,
              maxBatchesInFlight: o.inFlight,
            }),
          o.wait,
        );
      },
    );

  const c3 = new Command('couple')
    .description('couple one local record to one integration record (BC: Set Up Coupling)')
    .argument('<mapping>')
    .argument('<localId>')
    .argument('<integrationId>')
    .option('--sync-after', 'synchronize the pair right away')
    .action(async (mapping: string, localId: string, integrationId: string, o: { syncAfter?: boolean }) => {
      const { sync } = await temporal();
      await runAndReport(() => sync.startSetUpCoupling({ mapping, localId, integrationId, syncAfter: o.syncAfter }), true);
    });

  const c4 = new Command('uncouple')
    .description('delete couplings (the records stay)')
    .argument('<mapping>')
    .option('--ids <ids>', 'comma-separated record ids', list)
    .addOption(new Option('--side <side>', 'which side the ids are on').choices(['local', 'integration']).default('local'))
    .option('--all', 'every coupling of the mapping')
    .action(async (mapping: string, o: { ids?: string[]; side: 'local' | 'integration'; all?: boolean }) => {
      const { sync } = await temporal();
      await runAndReport(() => sync.startUncouple({ mapping, recordIds: o.ids, side: o.side, all: o.all ? true : undefined }), true);
    });

  const c5 = new Command('restore')
    .description('create deleted counterparts again and couple them (BC: Restore records, for records coupled to a deleted record)')
    .argument('<mapping>')
    .requiredOption('--ids <ids>', 'comma-separated record ids whose counterparts were deleted', list)
    .addOption(new Option('--side <side>', 'which side the ids are on').choices(['local', 'integration']).default('local'))
    .action(async (mapping: string, o: { ids: string[]; side: 'local' | 'integration' }) => {
      const { sync } = await temporal();
      await runAndReport(() => sync.startBulkSync({ mapping, recordIds: o.ids, side: o.side, restoreDeleted: true, includeSkipped: true }), true);
    });

  const c6 = new Command('delete-record')
    .description('delete records whose counterpart was deleted, and their couplings (BC: Delete records, for records coupled to a deleted record)')
    .argument('<mapping>')
    .requiredOption('--ids <ids>', 'comma-separated record ids; one whose counterpart still exists is left as it is, with an error row', list)
    .addOption(new Option('--side <side>', 'which side the ids are on').choices(['local', 'integration']).default('local'))
    .action(async (mapping: string, o: { ids: string[]; side: 'local' | 'integration' }) => {
      const { sync } = await temporal();
      await runAndReport(() => sync.startUncouple({ mapping, recordIds: o.ids, side: o.side, deleteRecords: true }), true);
    });

  const c7 = new Command('retry')
    .description('re-run the records whose last sync failed (BC: Coupled Data Synchronization Errors, Retry)')
    .argument('<mapping>')
    .option('--include-skipped', 'also the skipped records (their flag is cleared); always so with --ids')
    .option('--ids <ids>', "only these records (comma-separated), as the console's Retry: a bulk sync of them, skipped ones included", list)
    .addOption(new Option('--side <side>', 'which side the --ids are on').choices(['local', 'integration']).default('local'))
    .addOption(directionOption())
    .action(async (mapping: string, o: { includeSkipped?: boolean; ids?: string[]; side: 'local' | 'integration'; direction?: SyncDirection }) => {
      const { sync } = await temporal();
      if (o.ids) {
        const ids = o.ids;
        await runAndReport(() => sync.startBulkSync({ mapping, recordIds: ids, side: o.side, includeSkipped: true, direction: o.direction }), true);
        return;
      }
      await runAndReport(() => sync.startRetryFailed({ mapping, includeSkipped: o.includeSkipped, direction: o.direction }), true);
    });
  return [c0, c1, c2, c3, c4, c5, c6, c7];
}
