/**
 * Turns a zod failure into one sentence that names each bad field and, where
 * there is a fixed set, the accepted values. Pure: used by client and workflows.
 */
import type { z } from 'zod';
import { visible } from './visible-text';

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    /** Dotted paths of the fields at fault. */
    readonly fields: string[],
  ) {
    super(message);
  }
}

function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the input itself)';
  return visible(path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join(''));
}

function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'object') return 'an object';
  const text = visible(JSON.stringify(value) ?? String(value));
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Parses `input` with `schema` or throws InvalidInputError naming every bad field. */
export function parseInput<S extends z.ZodType>(what: string, schema: S, input: unknown): z.infer<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInputError(`Invalid input for ${what}: expected one JSON object such as {"mapping": "CUSTOMER"}, got ${describeReceived(input)}.`, [
      '(input)',
    ]);
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data as z.infer<S>;
  const fields: string[] = [];
  const problems = parsed.error.issues.slice(0, 5).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => describePath([...issue.path, k]));
      fields.push(...keys);
      return `unknown field ${keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const field = describePath(issue.path);
    fields.push(field);
    const received = describeReceived(valueAt(input, issue.path));
    if (issue.code === 'invalid_value' && 'values' in issue) {
      return `field "${field}" must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${received})`;
    }
    if (issue.code === 'invalid_type' && received === 'nothing') {
      return `field "${field}" is required (${issue.expected})`;
    }
    return `field "${field}": ${issue.message.replace(/^Invalid input: /, '')} (got ${received})`;
  });
  const more = parsed.error.issues.length > 5 ? ` and ${parsed.error.issues.length - 5} more` : '';
  throw new InvalidInputError(`Invalid input for ${what}: ${problems.join('; ')}${more}.`, fields);
}
