/**
 * Business Central's JSON $batch: `POST {apiUrl}/$batch` with
 * `{"requests":[{id, method, url, headers, body}]}`, answered by
 * `{"responses":[{id, status, headers, body}]}`. At most 100 operations go in
 * one batch (a service limit); each operation succeeds or fails on its own
 * (no change set, no `Isolation: snapshot`), so one bad record never holds up
 * the others. Responses are matched to requests by id, never by position.
 */
import { retryAfterMs } from '../http/retry-after';
import type { RecordWriteError } from '../connector';
import { ConnectorError } from '../connector-error';
import { isObject } from '../../common/collections';

/** Business Central accepts no more operations in one $batch. */
export const MAX_BATCH_OPERATIONS = 100;

export interface BatchOperation {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the API root, e.g. `companies(…)/customers(…)`. */
  url: string;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

export interface BatchOperationResult {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The service answered something that is not a JSON batch response for our requests. */
export class BatchProtocolError extends ConnectorError {
  override readonly name = 'BatchProtocolError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

export function batchBody(operations: readonly BatchOperation[]): string {
  if (operations.length > MAX_BATCH_OPERATIONS) throw new RangeError(`A $batch takes at most ${MAX_BATCH_OPERATIONS} operations, not ${operations.length}.`);
  return JSON.stringify({
    requests: operations.map((op) => ({
      id: op.id,
      method: op.method,
      url: op.url,
      headers: { ...(op.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...op.headers },
      ...(op.body !== undefined ? { body: op.body } : {}),
    })),
  });
}

function lowerCaseHeaders(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** The responses in the order of `operations`; throws when one is missing or the body is not a batch response. */
export function parseBatchResponse(text: string, operations: readonly BatchOperation[]): BatchOperationResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BatchProtocolError(`The $batch response is not JSON: ${text.slice(0, 200)}`);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.responses)) throw new BatchProtocolError('The $batch response has no "responses" list.');
  const byId = new Map<string, BatchOperationResult>();
  for (const item of parsed.responses) {
    if (!isObject(item) || typeof item.id !== 'string' || typeof item.status !== 'number') {
      throw new BatchProtocolError('A $batch response item has no id or status.');
    }
    let body: unknown = item.body ?? null;
    // Some services send the inner body as a JSON string.
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text stays text */
      }
    }
    byId.set(item.id, { id: item.id, status: item.status, headers: lowerCaseHeaders(item.headers), body });
  }
  return operations.map((op) => {
    const result = byId.get(op.id);
    if (!result) throw new BatchProtocolError(`The $batch response has no answer for operation ${op.id}.`);
    return result;
  });
}

/** `{"error":{"code","message"}}` of an operation, or a message from its status. */
export function operationError(result: BatchOperationResult): { code?: string; message: string } {
  const body = result.body;
  if (isObject(body) && isObject(body.error) && typeof body.error.message === 'string') {
    return { code: typeof body.error.code === 'string' ? body.error.code : undefined, message: body.error.message };
  }
  return { message: `HTTP ${result.status}` };
}

/** BC's code for a create whose primary key (the number) is taken. */
export const ENTITY_EXISTS_CODE = 'Internal_EntityWithSameKeyExists';
/** BC's code for a write whose If-Match no longer matches. */
export const ENTITY_CHANGED_CODE = 'Request_EntityChanged';

/** How one operation ended, as the connector acts on it. */
export type OperationOutcome =
  { kind: 'ok' } | { kind: 'throttled'; retryAfterMs: number | null } | { kind: 'exists' } | { kind: 'failed'; error: RecordWriteError };

export function classifyOperation(result: BatchOperationResult): OperationOutcome {
  if (result.status >= 200 && result.status < 300) return { kind: 'ok' };
  if (result.status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(result.headers['retry-after'] ?? null) };
  const { code, message } = operationError(result);
  if (code === ENTITY_EXISTS_CODE) return { kind: 'exists' };
  const error = (kind: RecordWriteError['kind']): OperationOutcome => ({
    kind: 'failed',
    error: { kind, message, ...(code ? { code } : {}), detail: `HTTP ${result.status}` },
  });
  if (result.status === 412 || code === ENTITY_CHANGED_CODE) return error('conflict');
  if (result.status === 404) return error('notFound');
  if (result.status >= 500 || result.status === 408 || result.status === 409) return error('transient');
  return error('permanent');
}
