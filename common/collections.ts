/**
 * Small helpers on lists and values that every layer uses: the store, the
 * connectors and the workflows. Pure, with no Node import, so workflow code
 * may import it too.
 */

/** `items` in consecutive runs of `size` (at least 1), in order; the last run may be shorter. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const step = Math.max(1, size);
  for (let i = 0; i < items.length; i += step) out.push(items.slice(i, i + step));
  return out;
}

/** A plain object (a JSON object), not null and not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` without its undefined properties, so options given as undefined do not override a default in `{ ...DEFAULTS, ...definedOnly(options) }`. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
