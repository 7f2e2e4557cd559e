/** What every webhook receiver does with a request: read a bounded body, compare a secret in constant time. */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Systems } from '../../activities/deps';
import type { Side } from '../../common/types';
import type { StoredMapping } from '../../domain/mapping';

/** A notification is small; anything larger is not one. */
export const MAX_BODY = 1024 * 1024;

/** The body as text, or null past MAX_BODY. */
export async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a secret given equals the expected one, in time that does not depend on where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const x = Buffer.from(given);
  const y = Buffer.from(expected);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The side of a mapping whose system's connector is of this kind (the service a receiver listens for), or null. */
export function serviceSide<C>(
  mapping: StoredMapping,
  systems: Systems,
  isService: (connector: unknown) => connector is C,
): { side: Side; table: string; connector: C } | null {
  for (const side of ['local', 'integration'] as const) {
    const ref = side === 'local' ? mapping.local : mapping.integration;
    const connector = systems[ref.system];
    if (isService(connector)) return { side, table: ref.table, connector };
  }
  return null;
}
