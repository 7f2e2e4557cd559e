/**
 * The page shell and the small pieces every page uses. Every value goes
 * through hono's `html` template, which escapes what it interpolates: record
 * ids and error messages come from the systems and may hold markup.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageContext {
  /** Put into every form that changes something; checked on every POST. */
  csrf: string;
  /** The Temporal Web UI, to link runs to; null when unknown. */
  webUiUrl: string | null;
  namespace: string;
}

const NAV = [
  ['/mappings', 'Mappings'],
  ['/jobs', 'Jobs'],
  ['/couplings', 'Couplings and errors'],
  ['/errors', 'Error log'],
] as const;

export function layout(ctx: PageContext, title: string, current: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}' />
        <title>${title} · Coupling sync</title>
        <link rel="stylesheet" href="/static/console.css" />
        <script src="/static/htmx.min.js" defer></script>
      </head>
      <body>
        <header>
          <strong>Coupling sync</strong>
          <nav>${NAV.map(([href, label]) => html`<a href="${href}" ${href === current ? html`aria-current="page"` : ''}>${label}</a>`)}</nav>
          ${ctx.webUiUrl ? html`<a class="ext" href="${ctx.webUiUrl}/namespaces/${ctx.namespace}/workflows">Temporal Web UI</a>` : ''}
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}" />`;
}

/** A button that POSTs to `action`, with the CSRF field. */
export function postButton(ctx: PageContext, action: string, label: string, fields: Record<string, string> = {}): Html {
  return html`<form method="post" action="${action}" class="inline">
    ${csrfField(ctx)}${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
    <button type="submit">${label}</button>
  </form>`;
}

export function runLink(ctx: PageContext, workflowId: string | null, runId: string | null): Html {
  if (!workflowId) return html``;
  const own = html`<a href="/runs/${encodeURIComponent(workflowId)}${runId ? `?run=${encodeURIComponent(runId)}` : ''}">${workflowId}</a>`;
  if (!ctx.webUiUrl) return own;
  const ui = `${ctx.webUiUrl}/namespaces/${encodeURIComponent(ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}/history`;
  return html`${own} <a class="ext" href="${ui}" title="this run in the Temporal Web UI">Web UI</a>`;
}

/** A query string from the current filters with some replaced; empty values dropped. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

export function notice(message: string | null | undefined, kind: 'ok' | 'error' = 'ok'): Html {
  return message ? html`<p class="notice ${kind}" role="status">${message}</p>` : html``;
}

export const CONSOLE_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1b2a3a;color:#fff}
header a{color:#cfe3ff;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600;border-bottom:2px solid #fff}
header nav{display:flex;gap:1em}header .ext{margin-left:auto}
main{padding:0 1.2em 2em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border-bottom:1px solid #dde;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f8;position:sticky;top:0}td.num,th.num{text-align:right}
td.msg{max-width:40em;word-break:break-word}
form.inline{display:inline}button{margin:0 .2em}
.filters{display:flex;gap:.8em;align-items:end;flex-wrap:wrap;margin:.6em 0}
.notice{padding:.5em .8em;border-radius:4px}.notice.ok{background:#e6f4ea}.notice.error{background:#fde7e9}
.status-succeeded,.status-Completed{color:#137333}.status-failed,.status-Failed{color:#b3261e}.status-running,.status-Running{color:#1a56b0}
.pager{display:flex;gap:1em;margin:.6em 0}.muted{color:#667}
`;
