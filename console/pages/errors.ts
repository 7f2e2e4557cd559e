/** Error log: every error row a run wrote, newest first, by keyset, for a mapping, a job or a record. */
import { html } from 'hono/html';
import type { JobErrorRow } from '../../store/job-rows';
import type { Page } from '../queries';
import { layout, query, type Html, type PageContext } from '../html';

export interface ErrorFilters {
  mapping?: string;
  record?: string;
  job?: string;
  limit?: number;
}

export function errorsPage(ctx: PageContext, mappings: string[], filters: ErrorFilters, page: Page<JobErrorRow>): Html {
  const body = html`<form method="get" action="/errors" class="filters">
      <label
        >Mapping
        <select name="mapping">
          <option value="">any</option>
          ${mappings.map((m) => html`<option value="${m}" ${m === filters.mapping ? 'selected' : ''}>${m}</option>`)}
        </select></label
      >
      <label>Record id <input name="record" value="${filters.record ?? ''}" /></label>
      ${filters.job ? html`<input type="hidden" name="job" value="${filters.job}" />` : ''}
      <button type="submit">Search</button>
    </form>
    <table>
      <thead>
        <tr>
          <th>When</th>
          <th>Mapping</th>
          <th>Record</th>
          <th>Counterpart</th>
          <th>Message</th>
          <th class="num">Attempts</th>
          <th>Job</th>
        </tr>
      </thead>
      <tbody>
        ${page.rows.map(
          (e) =>
            html`<tr data-error="${e.id ?? ''}" class="${e.severity === 'warning' ? 'muted' : ''}">
              <td>${e.createdAt ?? ''}</td>
              <td>${e.mappingName}</td>
              <td><a href="/couplings${query({ mapping: e.mappingName, record: e.sourceRecordId })}">${e.sourceRecordId}</a></td>
              <td>${e.destinationRecordId ?? ''}</td>
              <td class="msg">${e.severity === 'warning' ? 'warning: ' : ''}${e.message}</td>
              <td class="num">${e.attempts}</td>
              <td><a href="/jobs${query({ mapping: e.mappingName })}">${e.jobId}</a></td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${page.rows.length === 0 ? html`<p class="muted">No error rows.</p>` : ''}
    <div class="pager">
      <a href="/errors${query({ ...filters })}">Newest</a>
      ${page.next ? html`<a rel="next" href="/errors${query({ ...filters, before: page.next })}">Older</a>` : ''}
    </div>`;
  return layout(ctx, 'Error log', '/errors', body);
}
