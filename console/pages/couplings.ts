/**
 * Couplings and errors (BC's "Coupled Data Synchronization Errors"): the
 * failed, skipped and failed-create records of a mapping with their last error,
 * and actions on the selected rows. Every action starts a workflow.
 */
import { html } from 'hono/html';
import type { SyncDirection } from '../../common/types';
import type { AttentionRow, AttentionView, Page } from '../queries';
import { csrfField, layout, notice, query, type Html, type PageContext } from '../html';

export const VIEWS: readonly { view: AttentionView; label: string }[] = [
  { view: 'failed', label: 'Failed' },
  { view: 'skipped', label: 'Skipped' },
  { view: 'pending', label: 'Failed creates' },
];

export interface CouplingFilters {
  mapping: string;
  view: AttentionView;
  record?: string;
  limit?: number;
}

const DIRECTION_LABELS: Record<SyncDirection, string> = {
  ToIntegrationTable: 'local → integration',
  FromIntegrationTable: 'integration → local',
};

export function couplingsPage(
  ctx: PageContext,
  mappings: string[],
  filters: CouplingFilters | null,
  directions: SyncDirection[],
  page: Page<AttentionRow> | null,
  message: { text: string; kind: 'ok' | 'error' } | null,
): Html {
  const picker = html`<form method="get" action="/couplings" class="filters">
    <label
      >Mapping
      <select name="mapping">
        ${mappings.map((m) => html`<option value="${m}" ${m === filters?.mapping ? 'selected' : ''}>${m}</option>`)}
      </select></label
    >
    <input type="hidden" name="view" value="${filters?.view ?? 'failed'}" />
    <label>Record id <input name="record" value="${filters?.record ?? ''}" placeholder="either side" /></label>
    <button type="submit">Show</button>
  </form>`;
  if (!filters || !page)
    return layout(
      ctx,
      'Couplings and errors',
      '/couplings',
      html`${message ? notice(message.text, message.kind) : ''} ${picker}
        <p class="muted">Choose a mapping.</p>`,
    );
  const tabs = html`<nav class="pager">
    ${VIEWS.map((v) =>
      v.view === filters.view && filters.record === undefined
        ? html`<strong>${v.label}</strong>`
        : html`<a href="/couplings${query({ mapping: filters.mapping, view: v.view })}">${v.label}</a>`,
    )}
  </nav>`;
  const body = html`${message ? notice(message.text, message.kind) : ''} ${picker} ${tabs}
    <form method="post" action="/couplings/actions" id="selection">
      ${csrfField(ctx)}
      <input type="hidden" name="mapping" value="${filters.mapping}" />
      <input type="hidden" name="view" value="${filters.view}" />
      <div class="filters">
        <button type="submit" name="action" value="retry">Retry</button>
        <label
          >Synchronize
          <select name="direction">
            ${directions.map((d) => html`<option value="${d}">${DIRECTION_LABELS[d]}</option>`)}
          </select></label
        >
        <button type="submit" name="action" value="sync">Synchronize</button>
        <button type="submit" name="action" value="uncouple">Delete coupling</button>
        <button type="submit" name="action" value="restore" title="a counterpart that was deleted is created again and coupled">Restore record</button>
        <button type="submit" name="action" value="delete" title="a record whose counterpart was deleted is deleted too, and its coupling removed">
          Delete record
        </button>
        <span class="muted">on the selected rows</span>
      </div>
      <table>
        <thead>
          <tr>
            <th><input type="checkbox" id="select-all" title="select every row on this page" /></th>
            <th>Local record</th>
            <th>Integration record</th>
            <th>State</th>
            <th class="num">Attempts</th>
            <th>Last error</th>
            <th>When</th>
          </tr>
        </thead>
        <tbody>
          ${page.rows.map(
            (r) =>
              html`<tr data-key="${r.key}">
                <td><input type="checkbox" name="ids" value="${r.key}" /></td>
                <td>${r.localId ?? ''}</td>
                <td>${r.integrationId ?? ''}</td>
                <td>${r.state}</td>
                <td class="num">${r.failureCount}</td>
                <td class="msg">${r.lastError ?? ''}</td>
                <td>${r.at ?? ''} <a href="/errors${query({ mapping: filters.mapping, record: r.recordId })}">log</a></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </form>
    ${page.rows.length === 0 ? html`<p class="muted">Nothing here.</p>` : ''}
    <div class="pager">${page.next ? html`<a rel="next" href="/couplings${query({ ...filters, after: page.next })}">Next page</a>` : ''}</div>
    <script src="/static/console.js" defer></script>`;
  return layout(ctx, `Couplings and errors: ${filters.mapping}`, '/couplings', body);
}
