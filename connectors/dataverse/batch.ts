/**
 * Pure multipart/mixed handling for OData $batch (OData v4 part 1, 11.7):
 * building a request body from individual requests and parsing the response
 * back into one result per request, changesets flattened in order.
 * Lines end with CRLF on the way out; either CRLF or LF is accepted back.
 */
import { ConnectorError } from '../connector-error';

export interface BatchRequestPart {
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE';
  /** Absolute URL of the operation. */
  url: string;
  headers?: Record<string, string>;
  /** JSON text; absent for GET and DELETE. */
  body?: string;
}

export interface BatchResponsePart {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** Dataverse's limit on requests in one $batch. */
export const MAX_BATCH_REQUESTS = 1000;

/** A $batch body that cannot be written safely, or an answer that is not a multipart batch response. */
export class BatchFormatError extends ConnectorError {
  override readonly name = 'BatchFormatError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

const CRLF = '\r\n';

export function buildBatchBody(boundary: string, parts: readonly BatchRequestPart[]): string {
  if (!/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/.test(boundary)) throw new BatchFormatError(`invalid boundary ${JSON.stringify(boundary)}`);
  const out: string[] = [];
  for (const part of parts) {
    if (/[\r\n\s]/.test(part.url)) throw new BatchFormatError('a batch operation URL must not contain white space');
    out.push(`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '');
    out.push(`${part.method} ${part.url} HTTP/1.1`);
    const headers = { ...part.headers };
    if (part.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new BatchFormatError(`header ${JSON.stringify(name)} must be one line`);
      out.push(`${name}: ${value}`);
    }
    out.push('', part.body ?? '');
  }
  out.push(`--${boundary}--`, '');
  return out.join(CRLF);
}

/** The boundary parameter of a multipart Content-Type, quoted or not. */
export function boundaryOf(contentType: string | null | undefined): string | null {
  if (!contentType || !/^\s*multipart\/mixed\b/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : null;
}

/** Splits a multipart body into its parts' raw text (headers + body), ignoring preamble and epilogue. */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const lines = body.split(/\r?\n/);
  const parts: string[] = [];
  let current: string[] | null = null;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current) parts.push(current.join('\n'));
      if (trimmed !== delimiter) {
        closed = true;
        break;
      }
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (!closed) throw new BatchFormatError('multipart body has no closing delimiter (the response was cut off)');
  return parts;
}

/** Headers up to the first blank line, and the rest. */
function splitHead(text: string): { headers: Record<string, string>; rest: string; firstLine: string | null } {
  const at = text.indexOf('\n\n');
  const head = at < 0 ? text : text.slice(0, at);
  const rest = at < 0 ? '' : text.slice(at + 2);
  const headers: Record<string, string> = {};
  let firstLine: string | null = null;
  for (const [i, line] of head.split('\n').entries()) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (i === 0 && /^HTTP\/\d\.\d\s/.test(line)) {
      firstLine = line;
      continue;
    }
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest, firstLine };
}

function parseHttpResponse(text: string): BatchResponsePart {
  const { headers, rest, firstLine } = splitHead(text.replace(/^\n+/, ''));
  const status = firstLine ? Number(/^HTTP\/\d\.\d\s+(\d{3})/.exec(firstLine)?.[1]) : NaN;
  if (!Number.isInteger(status)) throw new BatchFormatError(`batch part has no HTTP status line: ${JSON.stringify(text.slice(0, 80))}`);
  return { status, headers, body: rest.replace(/\n+$/, '') };
}

/**
 * The responses of a $batch, in request order. A changeset's responses take
 * its place in the order; a failed changeset answers with one part.
 */
export function parseBatchResponse(contentType: string | null | undefined, body: string): BatchResponsePart[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new BatchFormatError(`expected a multipart/mixed batch response, got ${JSON.stringify(contentType ?? '(no content type)')}`);
  const out: BatchResponsePart[] = [];
  for (const raw of splitMultipart(body, boundary)) {
    const { headers, rest } = splitHead(raw.replace(/^\n+/, ''));
    const nested = boundaryOf(headers['content-type']);
    if (nested) out.push(...parseBatchResponse(headers['content-type'], rest));
    else out.push(parseHttpResponse(rest));
  }
  return out;
}
