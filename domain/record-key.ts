/**
 * The idempotency key of a record we create: a UUID (version 5 layout) derived
 * from the mapping and the source record, so a create replayed after a crash,
 * or raced by a second run, names the same destination record.
 */
import { createHash } from 'node:crypto';
import type { Side } from '../common/types';

export function creationKey(mappingName: string, sourceSide: Side, sourceId: string): string {
  const hash = createHash('sha1').update(`coupling-sync\u0000${mappingName}\u0000${sourceSide}\u0000${sourceId}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
