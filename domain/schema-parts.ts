/** Schema parts the mapping and its templates share: column names and constant values. */
import { z } from 'zod';

/** Longest constant text a field or template may hold. @default 4000 */
export const MAX_CONSTANT_TEXT = 4000;

export const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a column name (letters, digits, "_")');

/** PostgreSQL text cannot hold NUL: a constant with one would fail every write of every record. */
export const constant = z.union([
  z
    .string()
    .max(MAX_CONSTANT_TEXT)
    .refine((t) => !t.includes('\u0000'), 'must not contain a NUL character (\\u0000)'),
  z.number(),
  z.boolean(),
  z.null(),
]);
