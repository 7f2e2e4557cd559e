/**
 * The console: server-rendered pages over the store (read by keyset) and
 * actions that start workflows, never writes to the store. One hono app;
 * `startConsole` serves it on Node.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { CouplingSyncClient } from '../client';
import type { SyncSchedules } from '../client/schedules';
import { workflowIds } from '../client/workflow-ids';
import type { Store } from '../store/store';
import type { StoredMapping } from '../domain/mapping';
import type { JobStatus, JobType, LiveSyncState } from '../common/types';
import { CONSOLE_CSS, layout, notice, query, type PageContext } from './html';
import { consoleSecurity, localPath, securityMiddleware, type ConsoleSecurity } from './security';
import { mappingCounts, pageAttention, pageErrors, pageJobs, MAX_PAGE, type AttentionView } from './queries';
import { mappingsPage, type MappingSummary } from './pages/mappings';
import { JOB_STATUSES, JOB_TYPES, jobsPage } from './pages/jobs';
import { errorsPage } from './pages/errors';
import { couplingsPage, VIEWS } from './pages/couplings';
import { runPage, runStatus, type RunView } from './pages/run';
import { choosableDirections, SELECTION_ACTIONS, startSelectionAction, type SelectionAction } from './actions';
import { describeRun } from './run-status';

export interface ConsoleDeps {
  store: Store;
  sync: CouplingSyncClient;
  schedules: SyncSchedules;
  /** The Temporal Web UI, to link runs to. */
  webUiUrl: string | null;
  namespace: string;
}

/** How long a page waits for Temporal before showing "unknown" (the store's figures do not wait for it). */
const TEMPORAL_WAIT_MS = 2000;

const SELECT_ALL_JS = `document.addEventListener('DOMContentLoaded',()=>{const all=document.getElementById('select-all');if(all)all.addEventListener('change',()=>{for(const b of document.querySelectorAll('input[name="ids"]'))b.checked=all.checked;});});`;

const NOTICES: Record<string, string> = {
  'schedule-pause': 'The Schedule is paused.',
  'schedule-resume': 'The Schedule is resumed.',
  'schedule-trigger': 'The Schedule runs now (unless a run of the mapping is going).',
  'live-pause': 'Live sync is paused: changes are kept until it is resumed.',
  'live-resume': 'Live sync is resumed.',
};

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'unknown'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.catch(() => 'unknown' as const), new Promise<'unknown'>((r) => (timer = setTimeout(() => r('unknown'), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

const limitOf = (raw: string | undefined): number | undefined => {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_PAGE) : undefined;
};
const oneOf = <T extends string>(values: readonly T[], raw: string | undefined): T | undefined => values.find((v) => v === raw);
const nonEmpty = (raw: string | undefined): string | undefined => (raw === undefined || raw === '' ? undefined : raw);

export function createConsoleApp(deps: ConsoleDeps, security: ConsoleSecurity): Hono {
  const app = new Hono();
  const ctx: PageContext = { csrf: security.csrf, webUiUrl: deps.webUiUrl, namespace: deps.namespace };
  const htmx = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8');
  app.use('*', securityMiddleware(security));

  app.get('/static/htmx.min.js', (c) => c.body(htmx, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/static/console.js', (c) => c.body(SELECT_ALL_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/static/console.css', (c) => c.body(CONSOLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/', (c) => c.redirect('/mappings'));

  const mappingNames = (): Promise<string[]> => deps.store.listMappingNames();

  app.get('/mappings', async (c) => {
    const names = await mappingNames();
    const summaries = await Promise.all(names.map((name) => summarize(deps, name)));
    const code = c.req.query('notice');
    const text = code ? NOTICES[code] : undefined;
    return c.html(
      mappingsPage(
        ctx,
        summaries.filter((s): s is MappingSummary => s !== null),
        text ? { text, kind: 'ok' } : null,
      ),
    );
  });

  for (const op of ['pause', 'resume', 'trigger'] as const) {
    app.post(`/mappings/:name/schedule/${op}`, async (c) => {
      const name = c.req.param('name');
      await deps.schedules[op](name, op === 'pause' ? 'Paused from the console' : undefined);
      return c.redirect(`/mappings${query({ notice: `schedule-${op}` })}`, 303);
    });
  }
  for (const op of ['pause', 'resume'] as const) {
    app.post(`/mappings/:name/live/${op}`, async (c) => {
      await deps.sync.live[op](c.req.param('name'));
      return c.redirect(`/mappings${query({ notice: `live-${op}` })}`, 303);
    });
  }
  app.post('/full-sync', async (c) => {
    const handle = await deps.sync.startFullSynchronization({});
    return c.redirect(`/runs/${encodeURIComponent(handle.workflowId)}${query({ run: handle.firstExecutionRunId, back: '/mappings' })}`, 303);
  });

  app.get('/jobs', async (c) => {
    const q = c.req.query();
    const filters = {
      mapping: nonEmpty(q.mapping),
      type: oneOf<JobType>(JOB_TYPES, q.type),
      status: oneOf<JobStatus>(JOB_STATUSES, q.status),
      limit: limitOf(q.limit),
    };
    const page = await pageJobs(deps.store.knex, { ...filters, before: nonEmpty(q.before) });
    return c.html(jobsPage(ctx, await mappingNames(), filters, page));
  });

  app.get('/errors', async (c) => {
    const q = c.req.query();
    const filters = { mapping: nonEmpty(q.mapping), record: nonEmpty(q.record), job: nonEmpty(q.job), limit: limitOf(q.limit) };
    const page = await pageErrors(deps.store.knex, { ...filters, before: nonEmpty(q.before) });
    return c.html(errorsPage(ctx, await mappingNames(), filters, page));
  });

  const couplings = async (c: Context, message: { text: string; kind: 'ok' | 'error' } | null, status: 200 | 400 | 409 = 200) => {
    const q = c.req.query();
    const body = (await c.req.parseBody().catch(() => ({}))) as Record<string, unknown>;
    const names = await mappingNames();
    const wanted = nonEmpty(q.mapping) ?? (typeof body.mapping === 'string' ? body.mapping : undefined) ?? names[0];
    const mapping = wanted ? await deps.store.getMapping(wanted) : null;
    if (!mapping) return c.html(couplingsPage(ctx, names, null, [], null, message), status);
    const rawView = q.view ?? (typeof body.view === 'string' ? body.view : undefined);
    const view = oneOf<AttentionView>(
      VIEWS.map((v) => v.view),
      rawView,
    );
    const filters = { mapping: mapping.name, view: view ?? 'failed', record: nonEmpty(q.record), limit: limitOf(q.limit) };
    const page = await pageAttention(deps.store.knex, { ...filters, after: nonEmpty(q.after) });
    return c.html(couplingsPage(ctx, names, filters, choosableDirections(mapping), page, message), status);
  };
  app.get('/couplings', (c) => couplings(c, null));

  app.post('/couplings/actions', async (c) => {
    const form = await c.req.parseBody({ all: true });
    const mappingName = typeof form.mapping === 'string' ? form.mapping : '';
    const action = oneOf<SelectionAction>(SELECTION_ACTIONS, typeof form.action === 'string' ? form.action : undefined);
    const ids = ([] as unknown[]).concat(form.ids ?? []).filter((v): v is string => typeof v === 'string');
    const mapping: StoredMapping | null = mappingName ? await deps.store.getMapping(mappingName) : null;
    if (!mapping || !action) return couplings(c, { text: 'Unknown mapping or action.', kind: 'error' }, 400);
    try {
      const run = await startSelectionAction(deps.sync, mapping, action, ids, typeof form.direction === 'string' ? form.direction : undefined);
      const back = `/couplings${query({ mapping: mapping.name, view: typeof form.view === 'string' ? form.view : undefined })}`;
      return c.redirect(`/runs/${encodeURIComponent(run.workflowId)}${query({ run: run.runId, back })}`, 303);
    } catch (error) {
      return couplings(c, { text: error instanceof Error ? error.message : String(error), kind: 'error' }, 409);
    }
  });

  const run = async (c: Context): Promise<RunView> => {
    const back = c.req.query('back');
    return describeRun(deps, c.req.param('workflowId') ?? '', nonEmpty(c.req.query('run')) ?? null, localPath(back));
  };
  app.get('/runs/:workflowId', async (c) => c.html(runPage(ctx, await run(c))));
  app.get('/runs/:workflowId/status', async (c) => c.html(runStatus(ctx, await run(c))));

  app.notFound((c) => c.html(layout(ctx, 'Not found', '', notice('No such page.', 'error')), 404));
  app.onError((error, c) => c.html(layout(ctx, 'Something failed', '', notice(error.message, 'error')), 500));
  return app;
}

async function summarize(deps: ConsoleDeps, name: string): Promise<MappingSummary | null> {
  const mapping = await deps.store.getMapping(name);
  if (!mapping) return null;
  const [counts, recent, schedule, live] = await Promise.all([
    mappingCounts(deps.store.knex, name),
    pageJobs(deps.store.knex, { mapping: name, limit: 20 }),
    within(
      deps.schedules.describe(name).catch((error: unknown) => {
        if (error instanceof Error && error.name === 'ScheduleNotFoundError') return null;
        throw error;
      }),
      TEMPORAL_WAIT_MS,
    ),
    within(liveStateOf(deps, name), TEMPORAL_WAIT_MS),
  ]);
  const seen = new Set<string>();
  const lastJobs = recent.rows.filter((j) => {
    const key = `${j.type}/${j.direction ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { mapping, counts, lastJobs, schedule, live };
}

/** The live sync's state, or null when it is not running (a query would wait for a worker otherwise). */
async function liveStateOf(deps: ConsoleDeps, mapping: string): Promise<LiveSyncState | null> {
  const handle = deps.sync.client.workflow.getHandle(workflowIds.liveSync(mapping));
  const description = await handle.describe().catch(() => null);
  if (!description || description.status.name !== 'RUNNING') return null;
  return deps.sync.live.state(mapping);
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startConsole(deps: ConsoleDeps, options: { host?: string; port?: number; token?: string | null } = {}): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  const security = consoleSecurity(host, options.token);
  const app = createConsoleApp(deps, security);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info: AddressInfo) => {
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${info.port}`,
        port: info.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
    server.on('error', reject);
  });
}
