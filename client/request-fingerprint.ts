/**
 * A request's fingerprint: the validated input as canonical JSON (keys sorted),
 * hashed, without what does not change what the run does (how failing records
 * are retried) or what only a run itself writes (its continuation). Two starts
 * with the same fingerprint ask the same thing.
 */
import { createHash } from 'node:crypto';

/** The memo key the fingerprint is kept under; workflows carry it across continue-as-new. */
export const REQUEST_MEMO = 'couplingSyncRequest';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

export function requestFingerprint(input: object): string {
  const { retry: _retry, continuation: _continuation, ...request } = input as Record<string, unknown>;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}
