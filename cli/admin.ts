/**
 * The store-read commands an administrator scripts (DATABASE_URL): `jobs`,
 * `errors`, `couplings` (BC's Coupled Data Synchronization Errors, by keyset
 * like the console) and `describe`. Each prints one line per row, or JSON with
 * --json; the actions on what they list are `retry --ids`, `sync`, `uncouple`.
 */
import type { CliOutput } from './output';
import { Command } from 'commander';
import type { SyncSchedules } from '../client/schedules';
import { mappingCounts, pageAttention, pageJobs, MAX_PAGE, type AttentionView } from '../console/queries';
import { choosableDirections } from '../console/actions';
import type { Store } from '../store/store';
import { UserFacingError } from '../support/user-facing-error';

export interface AdminCommandDeps extends CliOutput {
  store(): Promise<Store>;
  schedules(): Promise<SyncSchedules>;
  wholeNumber(option: string, min: number, max: number): (value: string) => number;
}

/** The most rows `jobs` and `errors` list at once. */
export const MAX_LIST_LIMIT = 10_000;

class AdminError extends UserFacingError {
  override readonly name: string = 'AdminError';
}

export function adminCommands(deps: AdminCommandDeps): Command[] {
  const { print, line, wholeNumber } = deps;
  const limit = (fallback: number, max = MAX_LIST_LIMIT) => ['--limit <n>', `how many (at most ${max})`, wholeNumber('limit', 1, max), fallback] as const;

  const jobs = new Command('jobs')
    .description('recent sync jobs from the store (DATABASE_URL)')
    .option('--mapping <name>')
    .option(...limit(20))
    .action(async (o: { mapping?: string; limit: number }) => {
      const rows = await (await deps.store()).listJobs({ mappingName: o.mapping, limit: o.limit });
      print(rows, () =>
        rows.length
          ? rows
              .map(
                (j) =>
                  line`${j.startedAt}  ${j.mappingName}  ${j.type} ${j.direction ?? ''}  ${j.status}  ins ${j.counters.inserted} mod ${j.counters.modified} del ${j.counters.deleted} unch ${j.counters.unchanged} fail ${j.counters.failed} skip ${j.counters.skipped} coupled ${j.counters.coupled} uncoupled ${j.counters.uncoupled} unmatched ${j.counters.unmatched}  ${j.id}`,
              )
              .join('\n')
          : 'No jobs yet.',
      );
    });

  const errors = new Command('errors')
    .description('error rows of failed records, newest first, then the failed creates waiting to be retried')
    .option('--mapping <name>')
    .option('--job <id>')
    .option('--record <id>', "one record's error rows (either side's id)")
    .option('--pending', 'only the failed creates waiting to be retried (records not coupled yet)')
    .option(...limit(50))
    .action(async (o: { mapping?: string; job?: string; record?: string; pending?: boolean; limit: number }) => {
      const store = await deps.store();
      const pending = o.job
        ? []
        : (await store.listUncoupledFailures(o.mapping, { limit: o.limit })).filter((p) => o.record === undefined || p.recordId === o.record);
      const pendingLines = pending.map(
        (p) =>
          line`pending  ${p.mappingName}  ${p.side} ${p.recordId}  not coupled: its create failed ${p.failureCount} time(s)${p.skipped ? ', skipped (retryFailed --include-skipped)' : ', retried by the next run'}  ${p.lastError ?? ''}`,
      );
      if (o.pending) {
        print(pending, () => (pending.length ? pendingLines.join('\n') : 'No failed creates waiting.'));
        return;
      }
      const rows = await store.listErrors({ mappingName: o.mapping, jobId: o.job, recordId: o.record, limit: o.limit });
      const errorLines = rows.map(
        (e) =>
          line`${e.createdAt}  ${e.mappingName}  ${e.sourceRecordId} -> ${e.destinationRecordId ?? '-'}  ${e.severity === 'warning' ? 'warning: ' : ''}${e.message}`,
      );
      print(rows, () => (rows.length || pending.length ? [...errorLines, ...pendingLines].join('\n') : 'No errors.'));
    });

  const couplings = new Command('couplings')
    .description("a mapping's records that need attention: failed (default), skipped or failed creates, by keyset (BC: Coupled Data Synchronization Errors)")
    .argument('<mapping>')
    .option('--failed', 'records whose last sync failed in a direction (the default)')
    .option('--skipped', 'records skipped after failing twice the same way')
    .option('--pending', 'failed creates: records with no counterpart yet')
    .option('--record <id>', "one record's coupling and failed create, in any state (either side's id)")
    .option('--after <cursor>', 'the next page: the cursor the previous page printed')
    .option(...limit(100, MAX_PAGE))
    .action(async (mapping: string, o: { failed?: boolean; skipped?: boolean; pending?: boolean; record?: string; after?: string; limit: number }) => {
      const views = (['failed', 'skipped', 'pending'] as const).filter((v) => o[v]);
      if (views.length > 1) throw new AdminError('Give one of --failed, --skipped and --pending.');
      const store = await deps.store();
      await store.requireMapping(mapping);
      const view: AttentionView = views[0] ?? 'failed';
      const page = await pageAttention(store.knex, { mapping, view, record: o.record, after: o.after, limit: o.limit });
      print(page, () => {
        const rows = page.rows.map(
          (r) =>
            line`${r.side} ${r.recordId}  <-> ${r.side === 'local' ? (r.integrationId ?? '-') : (r.localId ?? '-')}  ${r.state}  attempts ${r.failureCount}  ${r.at ?? ''}  ${r.lastError ?? ''}`,
        );
        const more = page.next ? [line`more: coupling-sync couplings ${mapping} --${view} --after ${page.next}`] : [];
        return rows.length
          ? [...rows, ...more].join('\n')
          : o.record !== undefined
            ? line`No coupling or failed create of ${o.record}.`
            : `No ${view} records.`;
      });
    });

  const describe = new Command('describe')
    .description('a mapping: direction, tables, fields, what needs attention, its last jobs and its Schedule')
    .argument('<mapping>')
    .action(async (name: string) => {
      const store = await deps.store();
      const mapping = await store.requireMapping(name);
      const counts = await mappingCounts(store.knex, name);
      const recent = (await pageJobs(store.knex, { mapping: name, limit: 10 })).rows;
      const schedule = await deps
        .schedules()
        .then((s) => s.describe(name))
        .catch(() => null);
      const described = {
        name: mapping.name,
        direction: mapping.direction,
        local: mapping.local,
        integration: mapping.integration,
        fields: mapping.fields.map((f) => ({ localField: f.localField, integrationField: f.integrationField, direction: f.direction })),
        choosableDirections: choosableDirections(mapping),
        counts,
        lastJobs: recent,
        schedule,
      };
      print(described, () =>
        [
          line`${mapping.name}: ${mapping.direction}, ${mapping.local.system}.${mapping.local.table} <-> ${mapping.integration.system}.${mapping.integration.table}`,
          ...mapping.fields.map((f) => line`  ${f.localField ?? '(constant)'} ${f.direction} ${f.integrationField ?? '(constant)'}`),
          line`coupled ${counts.coupled}, failed ${counts.failed}, skipped ${counts.skipped}, failed creates ${counts.pending}`,
          ...recent.slice(0, 5).map((j) => line`  ${j.startedAt}  ${j.type} ${j.direction ?? ''}  ${j.status}  ${j.id}`),
          schedule
            ? line`Schedule: ${schedule.paused ? 'paused' : `every ${schedule.every ?? '?'}`}${schedule.note ? ` (${schedule.note})` : ''}`
            : 'Schedule: none',
        ].join('\n'),
      );
    });

  return [jobs, errors, couplings, describe];
}
