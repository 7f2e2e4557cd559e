/** How field values are read from a record and compared, by every rule that looks at values. Pure. */

/**
 * A record's value for a column, by own key only: a column named "constructor"
 * or "toString" that a record does not carry is absent, not Object's method.
 */
export function fieldValue(values: Readonly<Record<string, unknown>>, field: string): unknown {
  return Object.hasOwn(values, field) ? values[field] : undefined;
}

/**
 * Equality as a user would judge it: null = undefined = "" (Business Central has
 * no null text, so a blank there must not differ from a null on the other side
 * on every run), 1 = true, 12 = "12", dates by instant.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? '') === (b ?? '');
  if (a instanceof Date || b instanceof Date) return new Date(a as string).getTime() === new Date(b as string).getTime();
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b);
  if (typeof a === 'number' || typeof b === 'number') return String(a) === String(b);
  return false;
}
