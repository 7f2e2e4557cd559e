import { applyTransformations, checkTransformation, checkTransformations, MAX_TRANSFORM_LENGTH, TransformationError } from '../../domain/transform';
import { planFields } from '../../domain/field-plan';
import { parseMappingDefinition } from '../../domain/mapping';
import { decideRecord } from '../../domain/sync-decision';
import { testMapping } from '../helpers/systems';

describe('applyTransformations', () => {
  test.each([
    [[{ type: 'trim' }], '  a b  ', 'a b'],
    [[{ type: 'uppercase' }], 'straße é', 'STRASSE É'],
    [[{ type: 'lowercase' }], 'ÉCOLE', 'école'],
    [[{ type: 'titleCase' }], "jean-luc o'neil ÉMILE", "Jean-Luc O'Neil Émile"],
    [[{ type: 'replace', find: '.', replaceWith: '' }], 'a.b.c', 'abc'],
    [[{ type: 'regexReplace', pattern: '\\s+', replaceWith: ' ' }], 'a   b\t c', 'a b c'],
    [[{ type: 'regexReplace', pattern: '^(\\d{3})(\\d+)$', flags: '', replaceWith: '$1-$2' }], '5551234', '555-1234'],
    [[{ type: 'truncate', length: 3 }], 'Zürich', 'Zür'],
    [[{ type: 'truncate', length: 2 }], '😀😀😀', '😀😀'],
    [[{ type: 'trim' }, { type: 'uppercase' }, { type: 'truncate', length: 4 }], '  seattle ', 'SEAT'],
  ] as const)('%j on %j', (rules, input, expected) => {
    expect(applyTransformations(input, rules as never)).toBe(expected);
  });

  test('non-strings and null pass through', () => {
    expect(applyTransformations(42, [{ type: 'uppercase' }])).toBe(42);
    expect(applyTransformations(null, [{ type: 'trim' }])).toBeNull();
    expect(applyTransformations('x', undefined)).toBe('x');
  });

  test('a regex that does not compile is reported before any run', () => {
    expect(checkTransformations([{ type: 'regexReplace', pattern: '(', replaceWith: '' }])).toMatch(/does not compile/);
    expect(checkTransformations([{ type: 'trim' }])).toBeNull();
  });
});

describe('regexReplace runs on a linear-time engine', () => {
  test('a pattern that backtracks exponentially in a backtracking engine takes no time', () => {
    const started = Date.now();
    for (const n of [25, 28, 5000]) {
      expect(applyTransformations(`${'a'.repeat(n)}!`, [{ type: 'regexReplace', pattern: '^(a+)+$', replaceWith: 'x' }])).toBe(`${'a'.repeat(n)}!`);
    }
    expect(applyTransformations('a'.repeat(28), [{ type: 'regexReplace', pattern: '^(a+)+$', replaceWith: 'x' }])).toBe('x');
    expect(applyTransformations(`${'a'.repeat(28)}b`, [{ type: 'regexReplace', pattern: '(a|a)*c', replaceWith: 'x' }])).toBe(`${'a'.repeat(28)}b`);
    expect(Date.now() - started).toBeLessThan(500);
  });

  // Ordinary patterns mean what JavaScript's RegExp means: each is checked against String.prototype.replace.
  const PATTERNS: [pattern: string, flags: string | undefined, replaceWith: string][] = [
    ['\\s+', undefined, ' '],
    ['^\\s+|\\s+$', 'g', ''],
    ['\\S+', 'g', '<$&>'],
    ['[\\s\\S]', 'g', '.'],
    ['[^\\s]', 'g', '_'],
    ['.', 'g', '_'],
    ['.', 'gs', '_'],
    ['a.c', 'g', 'X'],
    ['\\d+', 'g', '#'],
    ['\\D', 'g', ''],
    ['[^0-9+]', 'g', ''],
    ['\\w+', 'g', '[$&]'],
    ['\\W+', 'g', '-'],
    ['\\bcat\\b', 'gi', 'dog'],
    ['\\Bx', 'g', 'Y'],
    ['^(\\d{3})(\\d{3})(\\d{4})$', '', '($1) $2-$3'],
    ['(\\w+)\\s(\\w+)', '', "$2, $1 ($$) [$`|$']"],
    ['(?<first>\\w+) (?<last>\\w+)', '', '$<last> $<first> $<none>|$3|$0|$10'],
    ['(a)|(b)', 'g', '[$1|$2]'],
    ['x*', 'g', '-'],
    ['', 'g', '|'],
    ['colou?r', 'gi', 'color'],
    ['^', 'gm', '> '],
    ['$', 'gm', ';'],
    ['^a', 'g', 'A'],
    ['o', '', '0'],
    ['[a-c]+', 'gi', '*'],
    ['[^a-z]', 'g', ''],
    ['[.*+?^${}()|[\\]\\\\/-]', 'g', '_'],
    ['\\.', 'g', ','],
    ['\\u00e9|\\xe8', 'g', 'e'],
    ['\\u{1F600}', 'gu', ':)'],
    ['\\p{L}+', 'gu', 'L'],
    ['\\P{L}', 'gu', ''],
    ['[\\p{Lu}]', 'gu', '^'],
    ['a{2,3}', 'g', 'A'],
    ['a{2,}?', 'g', 'A'],
    ['a+?', 'g', 'A'],
    ['(?:ab)+', 'g', 'X'],
    ['[\\t\\n\\r\\v\\f]', 'g', ' '],
    ['\\cJ', 'g', '/'],
    ['\\0', 'g', ''],
    ['[\\b]', 'g', ''],
    ['\\/', 'g', '|'],
    ['{', 'g', '('],
    ['a{,2}', 'g', '?'],
    ['}', 'g', ')'],
    ['[]', 'g', '!'],
    ['[^]', 'g', '!'],
    ['\\q\\-', 'g', '!'],
    ['[\\w-]+', 'g', 'w'],
    ['[\\d.-]+', 'g', 'n'],
    ['straße', 'gi', 'street'],
    ['ÉCOLE', 'gi', 'school'],
  ];
  const INPUTS = [
    '',
    'a',
    '  John   Smith  ',
    'Jean-Luc\u00a0Picard\u2003(Captain)',
    'line1\r\nline2\nline3\u2028end',
    'cat concat Cat CAT',
    '5551234567',
    '+1 (555) 123-4567',
    'aaa ab abab aaaa',
    'colour COLOR Colour',
    'école École ÉCOLE café crème',
    'Straße STRASSE',
    'tab\there\vvt\fff',
    'x{}y{2}',
    '[a].*+?^${}()|\\/-',
    '\u{1F600} smile \u{1F600}!',
    'nul\u0000byte\bback',
    'ab\u000a',
    'o_O o.O',
    'Ünïcödé ΑΒΓ abc 123',
  ];

  const ASTRAL = /[\u{10000}-\u{10FFFF}]/u;
  /**
   * What RegExp makes of it, with the documented differences stated: a character
   * outside the BMP is one character, as with the u flag (without it, "." matches
   * half an emoji and an empty match falls between its halves). Multiline anchors
   * are checked apart, below.
   */
  function expected(input: string, pattern: string, flags: string, replaceWith: string): string {
    if (ASTRAL.test(input) && !flags.includes('u')) {
      let unicode: RegExp | null = null;
      try {
        unicode = new RegExp(pattern, `${flags}u`);
      } catch {
        /* not valid with u: its meaning does not change */
      }
      if (unicode) return input.replace(unicode, replaceWith);
    }
    return input.replace(new RegExp(pattern, flags), replaceWith);
  }

  test.each(PATTERNS)('/%s/%s -> %j means what RegExp means', (pattern, flags, replaceWith) => {
    const rule = { type: 'regexReplace' as const, pattern, ...(flags === undefined ? {} : { flags }), replaceWith };
    expect(checkTransformations([rule])).toBeNull();
    for (const input of INPUTS) {
      if (flags?.includes('m') && /[\r\u2028\u2029]/.test(input)) continue;
      expect({ input, out: applyTransformations(input, [rule]) }).toEqual({ input, out: expected(input, pattern, flags ?? 'g', replaceWith) });
    }
  });

  test('documented difference: in multiline mode only \\n ends a line (RegExp also ends one at \\r, U+2028, U+2029)', () => {
    const input = 'a\r\nb\u2028c\nd';
    expect(applyTransformations(input, [{ type: 'regexReplace', pattern: '^', flags: 'gm', replaceWith: '>' }])).toBe('>a\r\n>b\u2028c\n>d');
    expect(input.replace(/^/gm, '>')).toBe('>a\r>\n>b\u2028>c\n>d');
    expect(applyTransformations(input, [{ type: 'regexReplace', pattern: '$', flags: 'gm', replaceWith: ';' }])).toBe('a\r;\nb\u2028c;\nd;');
  });

  test.each([
    ['(a)\\1', 'backreference'],
    ['(?<x>a)\\k<x>', 'backreference'],
    ['a(?=b)', 'lookahead'],
    ['a(?!b)', 'lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(?<!a)b', 'lookbehind'],
    ['a{1001}', 'linear-time engine'],
  ])('%s is refused before any run: %s', (pattern, why) => {
    const problem = checkTransformation({ type: 'regexReplace', pattern, replaceWith: '' });
    expect(problem?.field).toBe('pattern');
    expect(problem?.message).toContain(why);
  });

  test('a pattern that does not compile names the pattern; the sticky flag names the flags', () => {
    expect(checkTransformation({ type: 'regexReplace', pattern: '(', replaceWith: '' })).toMatchObject({
      field: 'pattern',
      message: expect.stringMatching(/does not compile/),
    });
    expect(checkTransformation({ type: 'regexReplace', pattern: 'a', flags: 'gy', replaceWith: '' })).toMatchObject({
      field: 'flags',
      message: expect.stringMatching(/sticky/),
    });
  });

  test(`a value over ${MAX_TRANSFORM_LENGTH} characters, or a result that would grow past it, is a TransformationError`, () => {
    const rule = { type: 'regexReplace' as const, pattern: 'a', replaceWith: 'b' };
    expect(applyTransformations('a'.repeat(MAX_TRANSFORM_LENGTH), [rule])).toBe('b'.repeat(MAX_TRANSFORM_LENGTH));
    expect(() => applyTransformations('a'.repeat(MAX_TRANSFORM_LENGTH + 1), [rule])).toThrow(TransformationError);
    // "$'" repeats the rest of the text at every match: quadratic growth, refused as it grows.
    const started = Date.now();
    expect(() => applyTransformations('a'.repeat(20_000), [{ type: 'regexReplace', pattern: 'a', replaceWith: "$'" }])).toThrow(/longer than/);
    expect(() => applyTransformations('a'.repeat(20_000), [{ type: 'replace', find: 'a', replaceWith: 'x'.repeat(100) }])).toThrow(TransformationError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('a value a rule cannot take fails its record, not the batch', () => {
  test('decideRecord turns it into a record failure naming the field', () => {
    const mapping = parseMappingDefinition(
      testMapping({
        fields: [{ localField: 'name', integrationField: 'name', transformation: [{ type: 'regexReplace', pattern: '\\s+', replaceWith: ' ' }] }],
        syncOnlyCoupledRecords: false,
      }),
    );
    const plan = planFields(mapping, 'ToIntegrationTable');
    const decide = (name: string) =>
      decideRecord({ plan, mapping, source: { id: 'C1', modifiedOn: '2024-01-01T00:00:00.000Z', values: { name } }, coupling: null, destination: null });
    expect(decide('a  b')).toEqual({ action: 'insert', values: { name: 'a b' } });
    const failed = decide('x'.repeat(MAX_TRANSFORM_LENGTH + 1));
    expect(failed).toMatchObject({ action: 'fail', message: expect.stringContaining('Field "name" -> "name": regexReplace: the value is 100001 characters') });
  });
});
