/**
 * Everything readable in a workflow history: every string field (failure
 * messages, stack traces, ids, search attributes) and every byte field decoded
 * as UTF-8 (payload data and metadata, encoded or not). A secret that appears
 * anywhere in a history appears in these texts.
 */
import type { Client } from '@temporalio/client';

export interface HistoryText {
  workflowId: string;
  runId: string;
  events: number;
  payloads: number;
  texts: string[];
}

interface Walk {
  texts: string[];
  payloads: number;
}

function walk(value: unknown, into: Walk, depth = 0): void {
  if (value === null || value === undefined || depth > 64) return;
  if (typeof value === 'string') {
    into.texts.push(value);
    return;
  }
  if (value instanceof Uint8Array) {
    into.texts.push(Buffer.from(value).toString('utf8'));
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) walk(item, into, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && typeof record.metadata === 'object') into.payloads++;
    for (const key of Object.keys(record)) walk(record[key], into, depth + 1);
  }
}

export async function historyText(client: Client, workflowId: string, runId: string): Promise<HistoryText> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const into: Walk = { texts: [], payloads: 0 };
  walk(history, into);
  return { workflowId, runId, events: history.events?.length ?? 0, payloads: into.payloads, texts: into.texts };
}

/** Every run (continued-as-new runs included) that ran on a task queue, once all of them are closed. */
export async function closedRunsOn(
  client: Client,
  taskQueue: string,
  atLeast: number,
  timeoutMs = 20_000,
): Promise<{ workflowId: string; runId: string; type: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs: { workflowId: string; runId: string; type: string; closed: boolean }[] = [];
    for await (const r of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      runs.push({ workflowId: r.workflowId, runId: r.runId, type: r.type, closed: r.status.name !== 'RUNNING' });
    }
    if (runs.length >= atLeast && runs.every((r) => r.closed)) return runs.map(({ workflowId, runId, type }) => ({ workflowId, runId, type }));
    if (Date.now() > deadline)
      throw new Error(`expected at least ${atLeast} closed runs on ${taskQueue}, saw ${runs.length} (${runs.filter((r) => !r.closed).length} still running)`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Where a needle occurs (case-insensitive), with a little context, for a readable failure. */
export function findings(histories: readonly HistoryText[], needles: readonly string[]): string[] {
  const out: string[] = [];
  for (const h of histories) {
    for (const text of h.texts) {
      const lower = text.toLowerCase();
      for (const needle of needles) {
        const at = lower.indexOf(needle.toLowerCase());
        if (at >= 0) out.push(`${h.workflowId} (${h.runId.slice(0, 8)}): ...${text.slice(Math.max(0, at - 80), at + needle.length + 40)}...`);
      }
    }
  }
  return out;
}
