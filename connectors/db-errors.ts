/** Tells a passing database fault (retry the batch) from one retrying cannot fix (fail the record). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  '40001',
  '40P01',
  '53300',
  '55P03',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * A driver's error is told by its shape, not `instanceof Error`: a native
 * driver (sqlite3) creates its errors in the main realm, which a sandbox such
 * as Jest's does not share.
 */
function messageOf(error: unknown): string | null {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : null;
}

export function isTransientDbError(error: unknown): boolean {
  const message = messageOf(error);
  if (message === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true;
  return /Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED|socket hang up/i.test(message);
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The driver's own message without the SQL statement Knex prefixes to it
 * ("insert into ... values ... - SQLITE_CONSTRAINT: ..."), which would carry
 * record values into error rows, logs and workflow histories.
 */
export function dbErrorMessage(error: unknown): string {
  const message = messageOf(error) ?? String(error);
  const sql = (error as { sql?: unknown } | null)?.sql;
  const cut = message.lastIndexOf(' - ');
  const text =
    typeof sql === 'string' || /^(insert|update|delete|select|with)\b/i.test(message) ? (cut >= 0 ? message.slice(cut + 3) : 'database error') : message;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
