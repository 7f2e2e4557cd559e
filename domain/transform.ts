/** Transformation rules applied to a field value on its way to the destination. Pure. */
import type { TransformationRule } from './mapping';

function titleCase(text: string): string {
  return text.toLocaleLowerCase().replace(/(^|[\s\-'(])(\p{L})/gu, (_m, sep: string, letter: string) => sep + letter.toLocaleUpperCase());
}

/** Applies the rules in order; non-string values pass through unchanged (null stays null). */
export function applyTransformations(value: unknown, rules: readonly TransformationRule[] | undefined): unknown {
  if (!rules || rules.length === 0 || typeof value !== 'string') return value;
  let text = value;
  for (const rule of rules) {
    switch (rule.type) {
      case 'trim': text = text.trim(); break;
      case 'uppercase': text = text.toLocaleUpperCase(); break;
      case 'lowercase': text = text.toLocaleLowerCase(); break;
      case 'titleCase': text = titleCase(text); break;
      case 'replace': text = text.split(rule.find).join(rule.replaceWith); break;
      case 'regexReplace': text = text.replace(new RegExp(rule.pattern, rule.flags ?? 'g'), rule.replaceWith); break;
      case 'truncate': text = [...text].slice(0, rule.length).join(''); break;
      default: {
        const unreachable: never = rule;
        throw new Error(`Unknown transformation ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return text;
}

/** Checks that regex rules compile, so a bad pattern fails when the mapping is saved, not mid-run. */
export function checkTransformations(rules: readonly TransformationRule[] | undefined): string | null {
  for (const rule of rules ?? []) {
    if (rule.type === 'regexReplace') {
      try {
        new RegExp(rule.pattern, rule.flags ?? 'g');
      } catch (error) {
        return `regexReplace pattern ${JSON.stringify(rule.pattern)} does not compile: ${(error as Error).message}`;
      }
    }
  }
  return null;
}
