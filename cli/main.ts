/**
 * `coupling-sync`: start and watch runs, manage schedules, and read jobs and
 * error rows from a terminal or a script. Every command takes --json; failures
 * end with one sentence and a non-zero exit code.
 */
import { Command, Option } from 'commander';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { SingleBar } from 'cli-progress';
import { CouplingSyncClient } from '../client';
import { SyncSchedules } from '../client/schedules';
import { SYNC_DIRECTIONS, type RunResult } from '../common/types';
import { MAX_BATCH_SIZE, MAX_MAPPINGS_IN_FLIGHT } from '../common/constants';
import { InvalidInputError } from '../common/validate';
import { progressQuery } from '../common/definitions';
import { Store } from '../store/store';
import { temporalConfigFromEnv } from '../worker/config';
import { checkMappingAgainstSystems, readSystemsFile } from '../worker/systems-config';
import { mappingDependencies, parseMappingDefinition } from '../domain/mapping';
import { describeCycle, findCycle } from '../domain/dependency-order';
import { readJsonFile } from '../worker/json-file';
import { codecDataConverterFromEnv } from '../codec/aes-gcm-codec';
import { describeFatal } from '../support/fatal';
import { visible, visibleJson } from '../common/visible-text';
import { followFullSync, fullSyncExitCode, summarizeFullSync } from './full-sync';
import { liveCommand } from './live';
import { indexesCommand } from './indexes';
import { adminCommands, MAX_LIST_LIMIT } from './admin';
import { runCommands } from './runs';
import { retentionCommand } from './retention';
import { RetentionSchedule } from '../client/retention-schedule';

interface GlobalOptions {
  json?: boolean;
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

class CliError extends Error {
  override readonly name = 'CliError';
}

const program = new Command('coupling-sync')
  .description('Couple and synchronize records between two systems of record, on Temporal.')
  .option('--json', 'print machine-readable JSON')
  .option('--address <host:port>', 'Temporal frontend (TEMPORAL_ADDRESS)')
  .option('--namespace <name>', 'Temporal namespace (TEMPORAL_NAMESPACE)')
  .option('--task-queue <name>', 'task queue of the coupling-sync worker (TEMPORAL_TASK_QUEUE)')
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const directionOption = (): Option => new Option('--direction <direction>', 'pass direction').choices([...SYNC_DIRECTIONS]);
const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** An option's value as a whole number from `min` to `max` (digits only: not "1e3", "0x10", "-1" or "10abc"). */
function wholeNumber(option: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
    if (!(n >= min && n <= max)) throw new CliError(`Option "${option}": ${JSON.stringify(value)} is not a whole number from ${min} to ${max}.`);
    return n;
  };
}

let connection: Connection | null = null;
let store: Store | null = null;

async function temporal(): Promise<{ client: Client; sync: CouplingSyncClient; schedules: SyncSchedules }> {
  const g = globals();
  // --address is checked as TEMPORAL_ADDRESS is (an API key in clear text only to a loopback address).
  const config = temporalConfigFromEnv(g.address ? { ...process.env, TEMPORAL_ADDRESS: g.address } : process.env);
  // Lazy: input is validated before the first call reaches the server.
  connection ??= Connection.lazy({ address: config.address, tls: config.tls, apiKey: config.apiKey });
  // Results of workers that encrypt payloads are readable only with the same codec.
  const client = new Client({ connection, namespace: g.namespace ?? config.namespace, dataConverter: codecDataConverterFromEnv() });
  const taskQueue = g.taskQueue ?? config.taskQueue;
  return { client, sync: new CouplingSyncClient({ client, taskQueue }), schedules: new SyncSchedules(client, taskQueue) };
}

async function openStore(): Promise<Store> {
  store ??= Store.open({ databaseUrl: process.env.DATABASE_URL });
  return store;
}

/**
 * Prints a result. Ids and messages come from the systems and may hold terminal escape sequences:
 * human output builds its lines with `line`, JSON has what JSON.stringify leaves raw escaped too.
 */
function print(value: unknown, human: () => string): void {
  console.log(globals().json ? visibleJson(JSON.stringify(value, null, 2)) : human());
}

/** One line for the terminal: every interpolated value with its control characters (line feeds too) shown as \uXXXX. */
function line(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, text, i) => `${out}${visible(String(values[i - 1]))}${text}`);
}

function summarize(result: RunResult): string {
  return result.jobs
    .map((j) => {
      const counts =
        Object.entries(j.counters)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'nothing to do';
      return line`${result.mapping} ${j.direction ?? j.type}: ${j.status} (${counts}) job ${j.jobId}`;
    })
    .join('\n');
}

/** Waits for a run, drawing a progress bar from the progress query when a person is watching. */
async function follow(handle: WorkflowHandle): Promise<RunResult> {
  const showBar = !globals().json && process.stderr.isTTY;
  const bar = showBar
    ? new SingleBar(
        { format: '{phase} {direction} | {value} records read | inserted {inserted} modified {modified} failed {failed}', hideCursor: true },
        undefined,
      )
    : null;
  let timer: NodeJS.Timeout | null = null;
  if (bar) {
    bar.start(0, 0, { phase: 'starting', direction: '', inserted: 0, modified: 0, failed: 0 });
    timer = setInterval(() => {
      handle.query(progressQuery).then(
        (p) => {
          bar.setTotal(Math.max(p.recordsScanned, 1));
          bar.update(p.recordsScanned, {
            phase: p.phase,
            direction: p.direction ?? '',
            inserted: p.counters.inserted,
            modified: p.counters.modified,
            failed: p.counters.failed,
          });
        },
        () => undefined,
      );
    }, 500);
  }
  const check = setTimeout(() => void warnIfNoWorker(handle), NO_WORKER_CHECK_MS);
  try {
    return (await handle.result()) as RunResult;
  } finally {
    clearTimeout(check);
    if (timer) clearInterval(timer);
    bar?.stop();
  }
}

/** How long a run may wait for its first workflow task before the CLI looks for a worker. */
const NO_WORKER_CHECK_MS = Number(process.env.COUPLING_SYNC_NO_WORKER_CHECK_MS ?? 3000);

/** A run no worker has picked up: says whether any worker polls its task queue, instead of waiting silently. */
async function warnIfNoWorker(handle: WorkflowHandle): Promise<void> {
  try {
    const described = await handle.describe();
    if (described.historyLength > 2) return; // a workflow task was taken
    const namespace = handle.client.options.namespace;
    const { pollers } = await handle.client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: described.taskQueue },
      taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((pollers ?? []).length === 0)
      console.error(
        line`No worker polls task queue "${described.taskQueue}" (namespace ${namespace}): ${handle.workflowId} waits there until one starts (npm run worker, with TEMPORAL_TASK_QUEUE=${described.taskQueue}).`,
      );
  } catch {
    // Only a hint: the run itself is unaffected.
  }
}

async function runAndReport(start: () => Promise<WorkflowHandle>, wait: boolean): Promise<void> {
  const handle = await start();
  if (!wait) {
    print({ workflowId: handle.workflowId }, () => line`Started ${handle.workflowId}`);
    return;
  }
  const result = await follow(handle);
  print(result, () => summarize(result));
  if (result.jobs.some((j) => j.counters.failed > 0)) process.exitCode = 2;
}

for (const command of runCommands({ sync: async () => (await temporal()).sync, runAndReport, list, wholeNumber, directionOption })) program.addCommand(command);

program
  .command('full-sync')
  .description('synchronize every mapping, or these and what they depend on, in dependency order (BC: Run Full Synchronization)')
  .option('--mappings <names>', 'comma-separated mapping names (default: all)', list)
  .addOption(
    new Option('--on-populated <what>', 'when both tables hold records and few are coupled: couple by match fields first, or stop that mapping')
      .choices(['couple', 'stop'])
      .default('couple'),
  )
  .option('--max-in-flight <n>', 'mappings synchronized at once', wholeNumber('max-in-flight', 1, MAX_MAPPINGS_IN_FLIGHT))
  .option('--batch-size <n>', 'records per batch', wholeNumber('batch-size', 1, MAX_BATCH_SIZE))
  .option('--no-wait', 'start and return the workflow id')
  .action(async (o: { mappings?: string[]; onPopulated: 'couple' | 'stop'; maxInFlight?: number; batchSize?: number; wait: boolean }) => {
    const { sync } = await temporal();
    const handle = await sync.startFullSynchronization({
      mappings: o.mappings,
      onPopulated: o.onPopulated,
      maxMappingsInFlight: o.maxInFlight,
      batchSize: o.batchSize,
    });
    if (!o.wait) {
      print({ workflowId: handle.workflowId }, () => line`Started ${handle.workflowId}`);
      return;
    }
    const result = await followFullSync(handle, !globals().json && process.stderr.isTTY);
    print(result, () => summarizeFullSync(result));
    process.exitCode = fullSyncExitCode(result);
  });

program.addCommand(indexesCommand({ store: openStore, print, line }));
program.addCommand(liveCommand({ live: async () => (await temporal()).sync.live, print, line, list, wholeNumber }));

const schedule = program.command('schedule').description('recurring sync of a mapping on Temporal Schedules');
schedule
  .command('create')
  .argument('<mapping>')
  .option('--every <duration>', 'interval, e.g. "30m" or "1 hour"', '30 minutes')
  .option('--idle-up-to <duration>', 'runs that find nothing double the interval up to this (default 720 minutes)')
  .option('--fixed', 'a fixed interval: no idle back-off')
  .option('--paused', 'create it paused')
  .action(async (mapping: string, o: { every: string; idleUpTo?: string; fixed?: boolean; paused?: boolean }) => {
    if (o.fixed && o.idleUpTo) throw new CliError('Give either --idle-up-to or --fixed, not both.');
    const info = await (await temporal()).schedules.create(mapping, { every: o.every, paused: o.paused, idleUpTo: o.fixed ? false : o.idleUpTo });
    print(
      info,
      () => line`Schedule ${info.scheduleId}: every ${info.every}${info.idleUpTo ? `, up to ${info.idleUpTo} when idle` : ''}${info.paused ? ' (paused)' : ''}`,
    );
  });
schedule
  .command('update')
  .argument('<mapping>')
  .requiredOption('--every <duration>', 'new interval')
  .action(async (mapping: string, o: { every: string }) => {
    const info = await (await temporal()).schedules.updateInterval(mapping, o.every);
    print(info, () => line`Schedule ${info.scheduleId}: every ${info.every}`);
  });
for (const [name, verb] of [
  ['pause', 'Paused'],
  ['resume', 'Resumed'],
  ['trigger', 'Triggered'],
  ['delete', 'Deleted'],
] as const) {
  schedule
    .command(name)
    .argument('<mapping>')
    .action(async (mapping: string) => {
      const { schedules } = await temporal();
      await schedules[name](mapping);
      print({ mapping, [name]: true }, () => line`${verb} the schedule of ${mapping}`);
    });
}
schedule.command('list').action(async () => {
  const all = await (await temporal()).schedules.list();
  print(all, () =>
    all.length
      ? all.map((s) => line`${s.mapping}\tevery ${s.every}\t${s.paused ? 'paused' : 'active'}\tnext ${s.nextRunAt?.toISOString() ?? '-'}`).join('\n')
      : 'No schedules.',
  );
});

program.addCommand(
  retentionCommand({
    sync: async () => (await temporal()).sync,
    schedule: async () => {
      const { client } = await temporal();
      return new RetentionSchedule(client, globals().taskQueue ?? temporalConfigFromEnv().taskQueue);
    },
    print,
    line,
    wholeNumber,
  }),
);
for (const command of adminCommands({ store: openStore, schedules: async () => (await temporal()).schedules, print, line, wholeNumber }))
  program.addCommand(command);

const options = program.command('options').description('option mappings: the values fields set to collect found no pair for');
options
  .command('unmapped')
  .description('option values without a pair that fields set to "collect" left out of their writes, still unmapped in the current mapping')
  .argument('[mapping]')
  .option('--limit <n>', `how many (at most ${MAX_LIST_LIMIT})`, wholeNumber('limit', 1, MAX_LIST_LIMIT), 1000)
  .action(async (mapping: string | undefined, o: { limit: number }) => {
    const rows = await (await openStore()).listOpenUnmappedOptions(mapping, { limit: o.limit });
    // The value as it was read (text or number), not its JSON text: what a script compares with its own pairs.
    const values = rows.map(({ value, ...r }) => ({ ...r, value: JSON.parse(value) as unknown }));
    const times = (n: number): string => (n === 1 ? '1 time' : `${n} times`);
    print(values, () =>
      rows.length
        ? rows
            .map(
              (r) =>
                line`${r.mappingName}  ${r.side}.${r.field} ${r.value} -> ${r.destinationField}  seen ${times(r.occurrences)}  first ${r.firstJobId} (${r.firstSeenAt})  last ${r.lastJobId} (${r.lastSeenAt})`,
            )
            .join('\n')
        : 'No unmapped option values.',
    );
  });

const mappings = program.command('mappings').description('integration table mappings in the store');
mappings.command('list', { isDefault: true }).action(async () => {
  const names = await (await openStore()).listMappingNames();
  print(names, () => (names.length ? names.map((n) => line`${n}`).join('\n') : 'No mappings.'));
});
mappings
  .command('import')
  .description('validate and store mappings from a JSON file (one mapping or a list)')
  .argument('<file>')
  .option('--systems <file>', "the worker's systems file, to check the mappings against (default SYSTEMS_CONFIG)")
  .action(async (file: string, o: { systems?: string }) => {
    const raw = readJsonFile(file, `Mappings file "${file}"`);
    const definitions: unknown[] = Array.isArray(raw) ? raw : [raw];
    // With the worker's systems known, what a run would refuse is refused now, before anything is stored.
    const systemsFile = o.systems ?? process.env.SYSTEMS_CONFIG;
    if (systemsFile) {
      const entries = readSystemsFile(systemsFile);
      const problems = definitions.flatMap((d) => checkMappingAgainstSystems(parseMappingDefinition(d), entries, systemsFile));
      if (problems.length > 0) throw new CliError(`${problems.slice(0, 5).join('; ')}.`);
    }
    const s = await openStore();
    await s.migrate();
    // Each save refuses a cycle too, but one the file closes with its last mapping would leave the others stored.
    const incoming = definitions.map((d) => parseMappingDefinition(d));
    const names = new Set(incoming.map((m) => m.name));
    const stored = (await s.listMappingDependencies()).filter((n) => !names.has(n.name));
    const cycle = findCycle([...stored, ...incoming.map((m) => ({ name: m.name, dependsOn: mappingDependencies(m) }))]);
    if (cycle) throw new CliError(`Mappings file "${file}": dependsOn makes a cycle (${describeCycle(cycle)}); nothing was stored.`);
    const saved: string[] = [];
    for (const definition of definitions) saved.push((await s.saveMapping(definition as never)).name);
    print(saved, () => line`Stored mapping(s): ${saved.join(', ')}`);
  });

function sentence(error: unknown): string {
  if (error instanceof InvalidInputError || error instanceof CliError) return error.message;
  if (error instanceof WorkflowFailedError) return error.cause?.message ?? error.message;
  return describeFatal(error, { temporalAddress: globals().address ?? temporalConfigFromEnv().address, databaseUrl: process.env.DATABASE_URL ?? '' });
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    const message = sentence(error);
    if (globals().json) console.log(visibleJson(JSON.stringify({ error: message })));
    console.error(line`Error: ${message}`);
    process.exitCode = 1;
  } finally {
    await connection?.close();
    await store?.close();
  }
}

void main();
