/**
 * The (modifiedOn, id) order of Business Central records, kept by the
 * connector rather than the server.
 *
 * BC cannot filter `m gt X or (m eq X and id gt G)` (an OR across two fields),
 * and it orders GUIDs the way SQL Server does, not as text. So the server is
 * asked only for a lastModifiedDateTime range, and the connector cuts ties by
 * id and sorts by (modifiedOn, id as text) itself. Ids are compared as text
 * because the engine's own comparisons of keys (failBatch) do the same. The
 * only cost is reading again the few records that share a bound's exact
 * millisecond.
 */
import type { RecordKey } from '../connector';
import { compareModifiedOn } from '../../domain/modified-on';

const FRACTION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/**
 * lastModifiedDateTime with at least three fraction digits (and trailing zeros
 * past the third dropped), so timestamps compare as text in time order. BC
 * returns milliseconds ("2026-11-25T15:04:05.123Z"); a value without a
 * fraction would otherwise sort after "…05.123Z". The instant is unchanged: no
 * rounding, nothing parsed into a Date.
 */
export function canonicalModifiedOn(value: string): string {
  const m = FRACTION.exec(value);
  if (!m) return value;
  let fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length < 3) fraction = fraction.padEnd(3, '0');
  return `${m[1]}.${fraction}Z`;
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKeys(a: RecordKey, b: RecordKey): number {
  return compareModifiedOn(a.modifiedOn, b.modifiedOn) || compareIds(a.id, b.id);
}

/** Strictly after `after` and up to `through` (inclusive), in the connector's order. */
export function withinBounds(key: RecordKey, after: RecordKey | null, through: RecordKey | null): boolean {
  if (after && compareKeys(key, after) <= 0) return false;
  if (through && compareKeys(key, through) > 0) return false;
  return true;
}

/**
 * Whether reading more pages could still change the first `limit` records:
 * pages come in lastModifiedDateTime order, so once a later timestamp than the
 * `limit`-th record's has been seen, every record still to come sorts after it.
 * Records sharing that timestamp may arrive in any id order, so they are all read.
 */
export function hasEnough(kept: readonly RecordKey[], limit: number, lastSeenModifiedOn: string | null): boolean {
  if (kept.length < limit || lastSeenModifiedOn === null) return false;
  const sorted = [...kept].sort(compareKeys);
  return compareModifiedOn(lastSeenModifiedOn, sorted[limit - 1].modifiedOn) > 0;
}

/** The first `limit` records in the connector's order. */
export function firstInOrder<T extends RecordKey>(records: readonly T[], limit: number): T[] {
  return [...records].sort(compareKeys).slice(0, Math.max(0, limit));
}
