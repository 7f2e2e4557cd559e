import { applyTransformations, checkTransformations } from '../../domain/transform';

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
