/**
 * One run an action started: its status, updated in place (htmx polls the
 * status fragment every second until the run closes), the jobs it wrote, and
 * the same run in the Temporal Web UI.
 */
import { html } from 'hono/html';
import type { JobRow } from '../../store/job-rows';
import { jobsTable } from './jobs';
import { layout, runLink, type Html, type PageContext } from '../html';

export interface RunView {
  workflowId: string;
  runId: string | null;
  /** Temporal's status name: RUNNING, COMPLETED, FAILED, ... */
  status: string;
  /** Why it failed, when it did. */
  failure: string | null;
  jobs: JobRow[];
  /** Where to go back to. */
  back: string | null;
}

const OUTCOME: Record<string, string> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'Timed out',
  CONTINUED_AS_NEW: 'Running',
};

export function runStatus(ctx: PageContext, run: RunView): Html {
  const label = OUTCOME[run.status] ?? run.status;
  const polling = label === 'Running';
  const self = `/runs/${encodeURIComponent(run.workflowId)}/status${run.runId ? `?run=${encodeURIComponent(run.runId)}` : ''}`;
  return html`<section id="run-status" ${polling ? html`hx-get="${self}" hx-trigger="every 1s" hx-swap="outerHTML"` : ''} data-status="${label}">
    <p>Run ${runLink(ctx, run.workflowId, run.runId)}: <strong class="status-${label}" id="run-outcome">${label}</strong></p>
    ${run.failure ? html`<p class="notice error">${run.failure}</p>` : ''}
    ${run.jobs.length ? jobsTable(ctx, run.jobs) : html`<p class="muted">No job rows yet.</p>`}
  </section>`;
}

export function runPage(ctx: PageContext, run: RunView): Html {
  return layout(
    ctx,
    'Run',
    '',
    html`${runStatus(ctx, run)} ${run.back ? html`<p><a href="${run.back}">Back</a></p>` : ''}
      <noscript><p class="muted">Reload to see the run progress.</p></noscript>`,
  );
}
