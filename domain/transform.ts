/** Transformation rules applied to a field value on its way to the destination. Pure. */
import type { TransformationRule } from './mapping';
import { cachedPattern, compilePattern, replaceWith, UnsupportedPatternError } from './regex';

/**
 * Longest text a `replace` or `regexReplace` rule takes, and longest it may
 * make: a bound on the work one value costs the activity thread, and on what a
 * replacement that repeats the text (`$'`) can grow to. @default 100000
 */
export const MAX_TRANSFORM_LENGTH = 100_000;

/** A value a rule cannot transform (too long, or a result that would be): the record fails with this message. */
export class TransformationError extends Error {
  override readonly name = 'TransformationError';
}

function titleCase(text: string): string {
  return text.toLocaleLowerCase().replace(/(^|[\s\-'(])(\p{L})/gu, (_m, sep: string, letter: string) => sep + letter.toLocaleUpperCase());
}

function tooLong(rule: TransformationRule['type'], what: string, length: number): TransformationError {
  return new TransformationError(`${rule}: the ${what} is ${length} characters, longer than the ${MAX_TRANSFORM_LENGTH} characters a ${rule} rule takes`);
}

/** Applies the rules in order; non-string values pass through unchanged (null stays null). Throws TransformationError. */
export function applyTransformations(value: unknown, rules: readonly TransformationRule[] | undefined): unknown {
  if (!rules || rules.length === 0 || typeof value !== 'string') return value;
  let text = value;
  for (const rule of rules) {
    switch (rule.type) {
      case 'trim':
        text = text.trim();
        break;
      case 'uppercase':
        text = text.toLocaleUpperCase();
        break;
      case 'lowercase':
        text = text.toLocaleLowerCase();
        break;
      case 'titleCase':
        text = titleCase(text);
        break;
      case 'replace': {
        const out = text.split(rule.find).join(rule.replaceWith);
        // Linear in the text; only a result that grows past the bound is refused.
        if (out.length > Math.max(text.length, MAX_TRANSFORM_LENGTH)) throw tooLong(rule.type, 'result', out.length);
        text = out;
        break;
      }
      case 'regexReplace': {
        if (text.length > MAX_TRANSFORM_LENGTH) throw tooLong(rule.type, 'value', text.length);
        const compiled = cachedPattern(rule.pattern, rule.flags ?? 'g');
        text = replaceWith(compiled, text, rule.replaceWith, MAX_TRANSFORM_LENGTH, (length) => tooLong(rule.type, 'result', length));
        break;
      }
      case 'truncate':
        text = [...text].slice(0, rule.length).join('');
        break;
      default: {
        const unreachable: never = rule;
        throw new Error(`Unknown transformation ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return text;
}

/** What is wrong with a rule, naming its property; null when it can run. */
export function checkTransformation(rule: TransformationRule): { field: 'pattern' | 'flags'; message: string } | null {
  if (rule.type !== 'regexReplace') return null;
  try {
    compilePattern(rule.pattern, rule.flags ?? 'g');
    return null;
  } catch (error) {
    if (error instanceof UnsupportedPatternError)
      return {
        field: error.field,
        message: `regexReplace ${error.field} ${JSON.stringify(error.field === 'pattern' ? rule.pattern : rule.flags)} ${error.message}`,
      };
    throw error;
  }
}

/** Checks that regex rules compile on the linear-time engine, so a bad pattern fails when the mapping is saved, not mid-run. */
export function checkTransformations(rules: readonly TransformationRule[] | undefined): string | null {
  for (const [i, rule] of (rules ?? []).entries()) {
    const problem = checkTransformation(rule);
    if (problem) return `[${i}].${problem.field}: ${problem.message}`;
  }
  return null;
}
