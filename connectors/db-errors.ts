/** Tells a passing database fault (retry the batch) from one retrying cannot fix (fail the record). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR',
  '40001', '40P01', '53300', '55P03', '57P01', '57P02', '57P03',
]);

export function isTransientDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true;
  return /Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED|socket hang up/i.test(error.message);
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
  const message = error instanceof Error ? error.message : String(error);
  const sql = (error as { sql?: unknown } | null)?.sql;
  const cut = message.lastIndexOf(' - ');
  const text = typeof sql === 'string' || /^(insert|update|delete|select|with)\b/i.test(message) ? (cut >= 0 ? message.slice(cut + 3) : 'database error') : message;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
