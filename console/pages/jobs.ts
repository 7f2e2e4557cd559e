/** Jobs: the run log with every counter, filtered by mapping, type and status, newest first, by keyset. */
import { html } from 'hono/html';
import { COUNTER_NAMES, type JobStatus, type JobType } from '../../common/types';
import type { JobRow } from '../../store/job-rows';
import type { Page } from '../queries';
import { layout, query, runLink, type Html, type PageContext } from '../html';

export const JOB_TYPES: readonly JobType[] = ['Synchronization', 'Coupling', 'Uncoupling'];
export const JOB_STATUSES: readonly JobStatus[] = ['running', 'succeeded', 'failed', 'cancelled', 'abandoned'];

export interface JobFilters {
  mapping?: string;
  type?: JobType;
  status?: JobStatus;
  limit?: number;
}

function duration(j: JobRow): string {
  if (!j.finishedAt) return '';
  const ms = Date.parse(j.finishedAt) - Date.parse(j.startedAt);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '';
}

const select = (name: string, values: readonly string[], current: string | undefined): Html =>
  html`<select name="${name}">
    <option value="">any</option>
    ${values.map((v) => html`<option value="${v}" ${v === current ? 'selected' : ''}>${v}</option>`)}
  </select>`;

export function jobsTable(ctx: PageContext, jobs: JobRow[]): Html {
  return html`<table>
    <thead>
      <tr>
        <th>Started</th>
        <th>Mapping</th>
        <th>Type</th>
        <th>Direction</th>
        <th>Status</th>
        <th class="num">Duration</th>
        ${COUNTER_NAMES.map((n) => html`<th class="num">${n}</th>`)}
        <th>Message</th>
        <th>Run</th>
      </tr>
    </thead>
    <tbody>
      ${jobs.map(
        (j) =>
          html`<tr data-job="${j.id}">
            <td>${j.startedAt}</td>
            <td>${j.mappingName}</td>
            <td>${j.type}</td>
            <td>${j.direction ?? ''}</td>
            <td class="status-${j.status}">${j.status}</td>
            <td class="num">${duration(j)}</td>
            ${COUNTER_NAMES.map((n) => html`<td class="num">${j.counters[n]}</td>`)}
            <td class="msg">
              ${j.message ?? ''} ${j.counters.failed > 0 ? html`<a href="/errors${query({ mapping: j.mappingName, job: j.id })}">errors</a>` : ''}
            </td>
            <td>${runLink(ctx, j.workflowId, j.runId)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function jobsPage(ctx: PageContext, mappings: string[], filters: JobFilters, page: Page<JobRow>): Html {
  const body = html`<form method="get" action="/jobs" class="filters">
      <label>Mapping ${select('mapping', mappings, filters.mapping)}</label>
      <label>Type ${select('type', JOB_TYPES, filters.type)}</label>
      <label>Status ${select('status', JOB_STATUSES, filters.status)}</label>
      <button type="submit">Filter</button>
    </form>
    ${jobsTable(ctx, page.rows)} ${page.rows.length === 0 ? html`<p class="muted">No jobs.</p>` : ''}
    <div class="pager">
      <a href="/jobs${query({ ...filters })}">Newest</a>
      ${page.next ? html`<a rel="next" href="/jobs${query({ ...filters, before: page.next })}">Older</a>` : ''}
    </div>`;
  return layout(ctx, 'Jobs', '/jobs', body);
}
