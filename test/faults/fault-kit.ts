/** Small shared pieces of the fault suite: the seeded random source, ports, waiting. */
import os from 'node:os';

/**
 * The seed of this run's random choices: FAULT_SEED when set (to replay a
 * failure), otherwise a fresh one. Always printed, so any failure can be replayed.
 */
export function faultSeed(label: string): number {
  const fixed = process.env.FAULT_SEED;
  const seed = fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`FAULT_SEED must be an integer, got "${fixed}".`);
  console.log(`[${label}] seed ${seed}${fixed ? ' (FAULT_SEED)' : ''}; replay with FAULT_SEED=${seed}`);
  return seed;
}

/** mulberry32: a tiny deterministic generator, so a seed replays the same trials. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { freePort } from '../helpers/free-port';

/** Polls `ready` until it holds or `timeoutMs` passes. */
export async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(everyMs);
  }
}

export function machine(): { cores: number; cpu: string; node: string } {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown';
  return { cores: os.cpus().length, cpu, node: process.version };
}

export async function countRows(knex: import('knex').Knex, table: string): Promise<number> {
  const row = (await knex(table).count({ n: '*' }).first()) as { n?: unknown } | undefined;
  return Number(row?.n ?? 0);
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
