/**
 * A zod-free check for the common, plainly valid singleSync input, so the
 * workflow need not load zod at all. zod cannot be preloaded with our workflow
 * modules (it breaks when frozen), so each run that loads it evaluates it again,
 * and zod with our schemas costs more CPU than the rest of a single-sync run on
 * the workflow thread. Conservative: it
 * accepts only inputs the schema accepts unchanged (nothing to trim, no retry
 * override) and returns null for anything else, which then goes through the
 * schema and gets its exact messages. Pure: imported by workflow code.
 */
import type { SingleSyncInput } from './inputs';
import { SYNC_DIRECTIONS } from './types';

const PLAIN_MAPPING = /^[A-Za-z0-9_.-]{1,100}$/;
const KEYS = new Set(['mapping', 'recordId', 'side', 'direction']);

/** The input as the schema would return it, when it is plainly valid; null when the schema must decide. */
export function quickSingleSyncInput(input: unknown): SingleSyncInput | null {
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype) return null;
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!KEYS.has(key)) return null;
  const { mapping, recordId, side, direction } = record;
  if (typeof mapping !== 'string' || !PLAIN_MAPPING.test(mapping)) return null;
  if (typeof recordId !== 'string' || recordId.length < 1 || recordId.length > 200 || recordId.includes('\u0000')) return null;
  if ('side' in record && side !== 'local' && side !== 'integration') return null;
  if ('direction' in record && !(SYNC_DIRECTIONS as readonly unknown[]).includes(direction)) return null;
  const out: SingleSyncInput = { mapping, recordId };
  if (side !== undefined) out.side = side as SingleSyncInput['side'];
  if (direction !== undefined) out.direction = direction as SingleSyncInput['direction'];
  return out;
}
