/**
 * The regular expressions of `regexReplace` rules, run on a linear-time
 * engine. A user's pattern runs over record values on the activity thread:
 * JavaScript's backtracking RegExp takes seconds on `^(a+)+$` and 28
 * characters (and the worker stops heartbeating), so patterns run on re2js, a
 * port of RE2 whose matching time grows linearly with the text, never
 * exponentially.
 *
 * The language is still JavaScript's: a pattern must compile as a RegExp, is
 * translated to RE2's syntax here (`\s`, `.`, `\uXXXX`, classes, named groups
 * with their JavaScript meaning), and the replacement is expanded exactly as
 * String.prototype.replace expands it (`$1`, `$<name>`, `$&`, `` $` ``, `$'`,
 * `$$`). What RE2 cannot do in linear time is refused when the mapping is
 * saved: backreferences, lookahead, lookbehind, the sticky flag. Documented
 * differences (docs/SECURITY.md ("Mapping definitions, filters and transformations")): characters outside the BMP and
 * case-insensitive folding behave as with the `u` flag; in multiline mode `^`
 * and `$` see only `\n` as a line end.
 */
import { RE2JS } from 're2js';

/** Longest pattern a rule may have. @default 1000 */
export const MAX_PATTERN_LENGTH = 1000;
/** Largest compiled program (RE2's measure of a pattern's cost per character). @default 10000 */
export const MAX_PROGRAM_SIZE = 10_000;

/** A pattern or flags this engine refuses; `field` is the rule's property at fault. */
export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
  constructor(
    message: string,
    readonly field: 'pattern' | 'flags',
  ) {
    super(message);
  }
}

export interface CompiledPattern {
  readonly re: RE2JS;
  readonly global: boolean;
  readonly hasNamedGroups: boolean;
}

type Range = [number, number];
const MAX_CODE_POINT = 0x10ffff;

/** What `\s` matches in JavaScript: WhiteSpace and LineTerminator. */
const WHITE_SPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** What `.` does not match without the s flag. */
const LINE_TERMINATORS: Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`;
const rangesText = (ranges: readonly Range[]): string => ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');

const SPACE = rangesText(WHITE_SPACE);
const NOT_SPACE = rangesText(complement(WHITE_SPACE));
const ANY = `[${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const NOTHING = `[^${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const NOT_LINE_END = `[^${rangesText(LINE_TERMINATORS)}]`;

const refuse = (message: string): never => {
  throw new UnsupportedPatternError(message, 'pattern');
};

type ClassItem = { kind: 'char'; cp: number } | { kind: 'set'; text: string };

/** Translates a pattern RegExp has accepted into RE2 syntax with the same meaning. */
class Translator {
  private i = 0;
  private readonly unicode: boolean;
  private readonly dotAll: boolean;
  private readonly namedGroups: boolean;

  constructor(
    private readonly p: string,
    flags: string,
  ) {
    this.unicode = flags.includes('u');
    this.dotAll = flags.includes('s');
    this.namedGroups = /\(\?<(?![=!])/.test(p);
  }

  translate(): string {
    let out = '';
    const { p } = this;
    while (this.i < p.length) {
      const c = p[this.i];
      if (c === '\\') out += this.escape();
      else if (c === '[') out += this.characterClass();
      else if (c === '(') out += this.group();
      else if (c === '.') {
        out += this.dotAll ? ANY : NOT_LINE_END;
        this.i++;
      } else if (c === '{') {
        const quantifier = /^\{\d+(,\d*)?\}/.exec(p.slice(this.i));
        out += quantifier ? quantifier[0] : '\\{';
        this.i += quantifier ? quantifier[0].length : 1;
      } else if (c === '}' || c === ']') {
        out += `\\${c}`;
        this.i++;
      } else {
        const cp = p.codePointAt(this.i) as number;
        out += String.fromCodePoint(cp);
        this.i += cp > 0xffff ? 2 : 1;
      }
    }
    return out;
  }

  private group(): string {
    const rest = this.p.slice(this.i);
    if (!rest.startsWith('(?')) {
      this.i++;
      return '(';
    }
    if (rest.startsWith('(?:')) {
      this.i += 3;
      return '(?:';
    }
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) refuse('lookahead ((?= ...) or (?! ...)) is not supported by the linear-time engine');
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) refuse('lookbehind ((?<= ...) or (?<! ...)) is not supported by the linear-time engine');
    const named = /^\(\?<([^>]*)>/.exec(rest);
    if (named) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(named[1])) refuse(`group name "${named[1]}" must be letters, digits and "_"`);
      this.i += named[0].length;
      return `(?P<${named[1]}>`;
    }
    return refuse(`the group syntax at ${JSON.stringify(rest.slice(0, 4))} is not supported`);
  }

  /** `\u` escapes: one code point, a surrogate pair joined; consumes them. */
  private unicodeEscape(): number | null {
    const rest = this.p.slice(this.i);
    const braced = this.unicode ? /^\\u\{([0-9a-fA-F]+)\}/.exec(rest) : null;
    if (braced) {
      this.i += braced[0].length;
      return parseInt(braced[1], 16);
    }
    const pair = /^\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})/i.exec(rest);
    if (pair) {
      this.i += pair[0].length;
      return 0x10000 + ((parseInt(pair[1], 16) - 0xd800) << 10) + (parseInt(pair[2], 16) - 0xdc00);
    }
    const four = /^\\u([0-9a-fA-F]{4})/.exec(rest);
    if (!four) return null;
    const cp = parseInt(four[1], 16);
    if (cp >= 0xd800 && cp <= 0xdfff) refuse(`a lone surrogate (\\u${four[1]}) cannot be matched by the linear-time engine`);
    this.i += four[0].length;
    return cp;
  }

  /** An escape's single character, or null when it is not one (consumes it when it is). */
  private characterEscape(inClass: boolean): number | null {
    const { p } = this;
    const d = p[this.i + 1];
    const simple: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };
    if (Object.hasOwn(simple, d)) {
      this.i += 2;
      return simple[d];
    }
    if (inClass && d === 'b') {
      this.i += 2;
      return 8;
    }
    if (d === '0') {
      if (/[0-9]/.test(p[this.i + 2] ?? '')) refuse('octal escapes (\\0 followed by a digit) are not supported; write \\xHH');
      this.i += 2;
      return 0;
    }
    if (/[1-9]/.test(d)) {
      return refuse(
        inClass ? 'octal escapes in a class are not supported; write \\xHH' : 'backreferences (\\1 ...) are not supported by the linear-time engine',
      );
    }
    if (d === 'c') {
      const letter = p[this.i + 2] ?? '';
      if (/[A-Za-z]/.test(letter) || (inClass && /[0-9_]/.test(letter))) {
        this.i += 3;
        return letter.charCodeAt(0) % 32;
      }
      // Annex B: a "\c" that is not a control escape is a backslash; the "c" follows as itself.
      this.i += 1;
      return 0x5c;
    }
    if (d === 'x') {
      const two = /^\\x([0-9a-fA-F]{2})/.exec(p.slice(this.i));
      this.i += two ? 4 : 2;
      return two ? parseInt(two[1], 16) : 0x78;
    }
    if (d === 'u') {
      const cp = this.unicodeEscape();
      if (cp !== null) return cp;
      this.i += 2;
      return 0x75;
    }
    if (d === 'k' && (this.unicode || this.namedGroups)) return refuse('backreferences (\\k<name>) are not supported by the linear-time engine');
    if ((d === 'p' || d === 'P') && this.unicode) return null;
    if ('dDwWsSbB'.includes(d)) return null;
    // Any other escaped character is itself.
    const cp = p.codePointAt(this.i + 1) as number;
    this.i += cp > 0xffff ? 3 : 2;
    return cp;
  }

  /** `\p{...}` in u mode, with JavaScript's `Script=` / `General_Category=` forms reduced to RE2's names. */
  private property(): string {
    const m = /^\\([pP])\{([^}]*)\}/.exec(this.p.slice(this.i));
    if (!m) return refuse('a \\p escape needs {name}');
    this.i += m[0].length;
    const name = m[2].replace(/^(General_Category|gc|Script|sc)=/, '');
    return `\\${m[1]}{${name}}`;
  }

  private escape(): string {
    const d = this.p[this.i + 1];
    if ('dDwWbB'.includes(d)) {
      this.i += 2;
      return `\\${d}`;
    }
    if (d === 's' || d === 'S') {
      this.i += 2;
      return d === 's' ? `[${SPACE}]` : `[${NOT_SPACE}]`;
    }
    if ((d === 'p' || d === 'P') && this.unicode) return this.property();
    return hex(this.characterEscape(false) as number);
  }

  private classAtom(): ClassItem {
    const { p } = this;
    if (p[this.i] === '\\') {
      const d = p[this.i + 1];
      if ('dDwW'.includes(d)) {
        this.i += 2;
        return { kind: 'set', text: `\\${d}` };
      }
      if (d === 's' || d === 'S') {
        this.i += 2;
        return { kind: 'set', text: d === 's' ? SPACE : NOT_SPACE };
      }
      if ((d === 'p' || d === 'P') && this.unicode) return { kind: 'set', text: this.property() };
      if (d === 'B') {
        // Annex B: "\B" in a class is the letter B.
        this.i += 2;
        return { kind: 'char', cp: 0x42 };
      }
      return { kind: 'char', cp: this.characterEscape(true) as number };
    }
    const cp = p.codePointAt(this.i) as number;
    this.i += cp > 0xffff ? 2 : 1;
    return { kind: 'char', cp };
  }

  private characterClass(): string {
    const { p } = this;
    this.i++;
    const negate = p[this.i] === '^';
    if (negate) this.i++;
    const parts: string[] = [];
    while (this.i < p.length && p[this.i] !== ']') {
      const atom = this.classAtom();
      if (atom.kind === 'char' && p[this.i] === '-' && p[this.i + 1] !== ']' && this.i + 1 < p.length) {
        this.i++;
        const end = this.classAtom();
        if (end.kind === 'char') {
          parts.push(`${hex(atom.cp)}-${hex(end.cp)}`);
          continue;
        }
        parts.push(hex(atom.cp), hex(0x2d), end.text);
        continue;
      }
      parts.push(atom.kind === 'char' ? hex(atom.cp) : atom.text);
    }
    this.i++;
    if (parts.length === 0) return negate ? ANY : NOTHING;
    return `[${negate ? '^' : ''}${parts.join('')}]`;
  }
}

/** Compiles a rule's pattern, or throws UnsupportedPatternError saying why not (and whether the pattern or the flags are at fault). */
export function compilePattern(pattern: string, flags: string): CompiledPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) refuse(`is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH}`);
  if (flags.includes('y')) throw new UnsupportedPatternError('the y (sticky) flag is not supported; anchor the pattern with ^ instead', 'flags');
  try {
    new RegExp(pattern, flags);
  } catch (error) {
    const message = (error as Error).message;
    throw new UnsupportedPatternError(`does not compile: ${message}`, /flags/i.test(message) ? 'flags' : 'pattern');
  }
  const source = new Translator(pattern, flags).translate();
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2JS.MULTILINE : 0));
  } catch (error) {
    return refuse(`is not supported by the linear-time engine: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) refuse(`is too complex for the linear-time engine (program size ${re.programSize()}, at most ${MAX_PROGRAM_SIZE})`);
  return { re, global: flags.includes('g'), hasNamedGroups: Object.keys(re.namedGroups()).length > 0 };
}

/** Compiled patterns by flags and source: a rule runs for every record of every batch. */
const cache = new Map<string, CompiledPattern>();
const CACHE_SIZE = 500;

export function cachedPattern(pattern: string, flags: string): CompiledPattern {
  const key = `${flags}/${pattern}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compilePattern(pattern, flags);
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** The replacement text for one match, expanded as String.prototype.replace does (ECMAScript GetSubstitution). */
function substitution(template: string, match: RegExpMatchArray, input: string, named: boolean): string {
  if (!template.includes('$')) return template;
  const matched = match[0];
  const position = match.index ?? 0;
  const captures = match.length - 1;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const n = template[i + 1];
    if (n === '$') {
      out += '$';
      i++;
      continue;
    }
    if (n === '&') {
      out += matched;
      i++;
      continue;
    }
    if (n === '`') {
      out += input.slice(0, position);
      i++;
      continue;
    }
    if (n === "'") {
      out += input.slice(position + matched.length);
      i++;
      continue;
    }
    if (n === '<') {
      const end = template.indexOf('>', i + 2);
      if (!named || end < 0) {
        out += '$<';
        i++;
        continue;
      }
      const groups = match.groups ?? {};
      const name = template.slice(i + 2, end);
      out += (Object.hasOwn(groups, name) ? groups[name] : undefined) ?? '';
      i = end;
      continue;
    }
    if (n >= '0' && n <= '9') {
      let digits = /^[0-9]{2}/.test(template.slice(i + 1)) ? template.slice(i + 1, i + 3) : n;
      let index = Number(digits);
      if (digits.length === 2 && index > captures) {
        digits = n;
        index = Number(n);
      }
      if (index >= 1 && index <= captures) out += match[index] ?? '';
      else out += `$${digits}`;
      i += digits.length;
      continue;
    }
    out += '$';
  }
  return out;
}

/**
 * `input` with the pattern's matches (the first, or all with the g flag)
 * replaced; throws `tooLong(length)` as soon as the result would pass
 * `maxLength`, so a replacement that repeats the text (`$'`) cannot grow it
 * without bound.
 */
export function replaceWith(compiled: CompiledPattern, input: string, template: string, maxLength: number, tooLong: (length: number) => Error): string {
  let out = '';
  let last = 0;
  const add = (text: string): void => {
    out += text;
    if (out.length > maxLength) throw tooLong(out.length);
  };
  const matches = compiled.global ? compiled.re.matchAll(input) : [compiled.re.exec(input)].filter((m): m is RegExpExecArray => m !== null);
  for (const match of matches) {
    const at = match.index ?? 0;
    add(input.slice(last, at));
    add(substitution(template, match, input, compiled.hasNamedGroups));
    last = at + match[0].length;
  }
  add(input.slice(last));
  return out;
}
