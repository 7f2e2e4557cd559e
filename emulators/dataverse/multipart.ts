/**
 * EMULATOR: the service side of OData $batch: parses multipart/mixed request
 * bodies (top-level operations and changesets) and writes multipart responses.
 * Written apart from the connector's batch module so that a mistake in one is
 * caught by the other.
 */

export interface BatchOperation {
  method: string;
  /** As written in the part: absolute URL, absolute path, or relative to the service root. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type BatchItem = { kind: 'operation'; operation: BatchOperation } | { kind: 'changeset'; operations: BatchOperation[] };

export class BatchSyntaxError extends Error {
  override readonly name = 'BatchSyntaxError';
}

export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^\s*multipart\/mixed/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

function parts(body: string, boundary: string): string[] {
  const out: string[] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line === `--${boundary}` || line === `--${boundary}--`) {
      if (current) out.push(current.join('\n'));
      if (line.endsWith('--')) return out;
      current = [];
    } else current?.push(line);
  }
  throw new BatchSyntaxError(`The batch has no closing boundary '--${boundary}--'.`);
}

function head(text: string): { headers: Record<string, string>; first: string | null; rest: string } {
  const trimmed = text.replace(/^\n+/, '');
  const at = trimmed.indexOf('\n\n');
  const lines = (at < 0 ? trimmed : trimmed.slice(0, at)).split('\n');
  const rest = at < 0 ? '' : trimmed.slice(at + 2);
  const headers: Record<string, string> = {};
  let first: string | null = null;
  lines.forEach((line, i) => {
    const colon = line.indexOf(':');
    if (i === 0 && /^[A-Z]+ \S+ HTTP\/1\.1$/.test(line)) first = line;
    else if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  });
  return { headers, first, rest };
}

function operation(text: string): BatchOperation {
  const outer = head(text);
  if (!/^application\/http/i.test(outer.headers['content-type'] ?? '')) throw new BatchSyntaxError("Each batch part needs 'Content-Type: application/http'.");
  const inner = head(outer.rest);
  if (!inner.first) throw new BatchSyntaxError('A batch part has no request line (METHOD URL HTTP/1.1).');
  const [method, url] = (inner.first as string).split(' ');
  return { method, url, headers: inner.headers, body: inner.rest.replace(/\n+$/, '') };
}

export function parseBatchRequest(contentType: string | undefined, body: string): BatchItem[] {
  const boundary = multipartBoundary(contentType);
  if (!boundary) throw new BatchSyntaxError("A $batch request needs 'Content-Type: multipart/mixed; boundary=...'.");
  return parts(body, boundary).map((text): BatchItem => {
    const { headers, rest } = head(text);
    const nested = multipartBoundary(headers['content-type']);
    if (!nested) return { kind: 'operation', operation: operation(text) };
    const operations = parts(rest, nested).map(operation);
    if (operations.some((o) => o.method === 'GET')) throw new BatchSyntaxError('GET requests are not allowed in a change set.');
    return { kind: 'changeset', operations };
  });
}

export function countOperations(items: readonly BatchItem[]): number {
  return items.reduce((n, item) => n + (item.kind === 'operation' ? 1 : item.operations.length), 0);
}

export interface PartResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function httpPart(response: PartResponse): string[] {
  const lines = [
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    '',
    `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? 'Status'}`,
  ];
  for (const [k, v] of Object.entries(response.headers)) lines.push(`${k}: ${v}`);
  lines.push('', response.body);
  return lines;
}

/** A response body; a changeset's responses form one nested multipart part. */
export function buildBatchResponse(boundary: string, items: readonly (PartResponse | { changeset: PartResponse[]; boundary: string })[]): string {
  const lines: string[] = [];
  for (const item of items) {
    lines.push(`--${boundary}`);
    if ('changeset' in item) {
      lines.push(`Content-Type: multipart/mixed; boundary=${item.boundary}`, '');
      for (const response of item.changeset) lines.push(`--${item.boundary}`, ...httpPart(response));
      lines.push(`--${item.boundary}--`);
    } else lines.push(...httpPart(item));
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}
