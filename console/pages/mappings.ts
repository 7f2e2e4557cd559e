/** Mappings: direction, tables, what needs attention, the last job per direction, and the Schedule and live sync with their controls. */
import { html } from 'hono/html';
import type { StoredMapping } from '../../domain/mapping';
import type { JobRow } from '../../store/job-rows';
import type { ScheduleInfo } from '../../client/schedules';
import type { LiveSyncState } from '../../common/types';
import type { MappingCounts } from '../queries';
import { layout, postButton, query, runLink, notice, type Html, type PageContext } from '../html';

export interface MappingSummary {
  mapping: StoredMapping;
  counts: MappingCounts;
  /** The latest job of each direction (and of coupling runs), newest first. */
  lastJobs: JobRow[];
  schedule: ScheduleInfo | null | 'unknown';
  live: LiveSyncState | null | 'unknown';
}

const countLink = (mapping: string, view: string, n: number): Html =>
  n === 0 ? html`<span class="muted">0</span>` : html`<a href="/couplings${query({ mapping, view })}">${n}</a>`;

function scheduleCell(ctx: PageContext, name: string, s: MappingSummary['schedule']): Html {
  if (s === 'unknown') return html`<span class="muted">unknown (Temporal unreachable)</span>`;
  if (s === null) return html`<span class="muted">none</span>`;
  const base = `/mappings/${encodeURIComponent(name)}/schedule`;
  return html`${s.paused ? 'paused' : `every ${s.every ?? '?'}`}${s.note ? html` <span class="muted">(${s.note})</span>` : ''}<br />
    ${s.paused ? postButton(ctx, `${base}/resume`, 'Resume') : postButton(ctx, `${base}/pause`, 'Pause')} ${postButton(ctx, `${base}/trigger`, 'Run now')}`;
}

function liveCell(ctx: PageContext, name: string, l: MappingSummary['live']): Html {
  if (l === 'unknown') return html`<span class="muted">unknown</span>`;
  if (l === null) return html`<span class="muted">off</span>`;
  const base = `/mappings/${encodeURIComponent(name)}/live`;
  return html`${l.phase}, ${l.runs} runs<br />${l.phase === 'stopped' ? '' : l.paused ? postButton(ctx, `${base}/resume`, 'Resume') : postButton(ctx, `${base}/pause`, 'Pause')}`;
}

function jobsCell(ctx: PageContext, jobs: JobRow[]): Html {
  if (jobs.length === 0) return html`<span class="muted">never run</span>`;
  return html`${jobs.map(
    (j) =>
      html`<div>
        ${j.direction ?? j.type}: <span class="status-${j.status}">${j.status}</span> ${j.finishedAt ?? j.startedAt}
        <span class="muted">(+${j.counters.inserted} ~${j.counters.modified} !${j.counters.failed})</span> ${runLink(ctx, j.workflowId, j.runId)}
      </div>`,
  )}`;
}

export function mappingsPage(ctx: PageContext, summaries: MappingSummary[], message: { text: string; kind: 'ok' | 'error' } | null): Html {
  const body = html`${message ? notice(message.text, message.kind) : ''}
    <p>
      ${postButton(ctx, '/full-sync', 'Run full synchronization')} <span class="muted">every mapping, in dependency order (BC: Run Full Synchronization)</span>
    </p>
    <table>
      <thead>
        <tr>
          <th>Mapping</th>
          <th>Direction</th>
          <th>Tables</th>
          <th class="num">Coupled</th>
          <th class="num">Failed</th>
          <th class="num">Skipped</th>
          <th class="num">Failed creates</th>
          <th>Last jobs</th>
          <th>Schedule</th>
          <th>Live sync</th>
        </tr>
      </thead>
      <tbody>
        ${summaries.map(
          (s) =>
            html`<tr data-mapping="${s.mapping.name}">
              <td><a href="/couplings${query({ mapping: s.mapping.name })}">${s.mapping.name}</a></td>
              <td>${s.mapping.direction}</td>
              <td>${s.mapping.local.system}.${s.mapping.local.table} ↔ ${s.mapping.integration.system}.${s.mapping.integration.table}</td>
              <td class="num">${s.counts.coupled}</td>
              <td class="num">${countLink(s.mapping.name, 'failed', s.counts.failed)}</td>
              <td class="num">${countLink(s.mapping.name, 'skipped', s.counts.skipped)}</td>
              <td class="num">${countLink(s.mapping.name, 'pending', s.counts.pending)}</td>
              <td>${jobsCell(ctx, s.lastJobs)} <a href="/jobs${query({ mapping: s.mapping.name })}">all jobs</a></td>
              <td>${scheduleCell(ctx, s.mapping.name, s.schedule)}</td>
              <td>${liveCell(ctx, s.mapping.name, s.live)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${summaries.length === 0 ? html`<p>No mappings in the store yet: <code>coupling-sync mappings import &lt;file&gt;</code>.</p>` : ''}`;
  return layout(ctx, 'Mappings', '/mappings', body);
}
