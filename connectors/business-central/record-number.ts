/**
 * Idempotent creates in Business Central.
 *
 * BC assigns a record's id (its SystemId GUID) on insert and the API does not
 * let a client choose it, so a create replayed after a dropped connection would
 * add a second customer. What the client may choose is the record's *number*
 * ("No.", Code[20], the table's primary key, unique), when the number series
 * allows manual numbers. So the connector derives the number from the
 * idempotency key the engine gives each create:
 *
 *   number = prefix + base32(sha256(key)), 20 characters at most
 *
 * and before creating it looks the batch's numbers up in one query: a number
 * that exists is the record an earlier attempt (or a racing run) created, and
 * is returned as the result instead of being created again. A create that
 * still collides (two runs racing between the look-up and the insert) gets
 * BC's `Internal_EntityWithSameKeyExists` and is resolved by a second look-up.
 * Either way one key makes one record.
 *
 * With the default prefix "CS" a number has 18 base32 characters (90 bits of
 * the hash): two keys sharing a number is not a practical concern. Numbers are
 * upper-case letters and digits, as BC stores Code fields.
 */
import { createHash } from 'node:crypto';
import { ConnectorError } from '../connector-error';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Code[20]: the length of "No." in the Customer, Vendor, Item and Contact tables. */
export const NUMBER_LENGTH = 20;
export const DEFAULT_NUMBER_PREFIX = 'CS';
const PREFIX = /^[A-Z0-9-]{0,10}$/;

export class NumberPrefixError extends ConnectorError {
  override readonly name = 'NumberPrefixError';
  constructor(message: string) {
    super(message, { kind: 'permanent' });
  }
}

export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Checks a number prefix: upper-case letters, digits or '-', at most 10, leaving at least 50 bits of hash. */
export function checkNumberPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new NumberPrefixError(`Number prefix "${prefix}" must be at most 10 upper-case letters, digits or "-".`);
  return prefix;
}

/** The BC number of the record created for idempotency key `key`: same key, same number. */
export function recordNumberFor(key: string, prefix: string = DEFAULT_NUMBER_PREFIX): string {
  checkNumberPrefix(prefix);
  const hash = createHash('sha256').update(key, 'utf8').digest();
  return (prefix + base32(hash)).slice(0, NUMBER_LENGTH);
}
