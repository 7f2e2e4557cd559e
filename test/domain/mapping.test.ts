/** What a mapping definition may hold: refused at save with the field named, before anything is stored. */
import { InvalidMappingError, parseMappingDefinition, type MappingDefinition } from '../../domain/mapping';
import { testMapping } from '../helpers/systems';

function refusal(overrides: Partial<MappingDefinition>): string {
  try {
    parseMappingDefinition(testMapping(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMappingError);
    return (error as Error).message;
  }
  throw new Error('the mapping was accepted');
}

const FIELDS = testMapping().fields;
const withRules = (transformation: unknown[]): Partial<MappingDefinition> => ({
  fields: [FIELDS[0], FIELDS[1], { ...FIELDS[2], transformation: transformation as never }],
});

describe('transformations', () => {
  test('a regex that does not compile is refused at save, naming fields[2].transformation[0].pattern', () => {
    expect(refusal(withRules([{ type: 'regexReplace', pattern: '(', replaceWith: '' }]))).toMatch(
      /fields\[2\]\.transformation\[0\]\.pattern: .*does not compile/,
    );
  });

  test('a pattern the linear-time engine cannot run is refused at save, saying why', () => {
    expect(refusal(withRules([{ type: 'trim' }, { type: 'regexReplace', pattern: '(a)\\1', replaceWith: '' }]))).toMatch(
      /fields\[2\]\.transformation\[1\]\.pattern: .*backreference/,
    );
    expect(refusal(withRules([{ type: 'regexReplace', pattern: 'a(?=b)', replaceWith: '' }]))).toMatch(
      /fields\[2\]\.transformation\[0\]\.pattern: .*lookahead/,
    );
    expect(refusal(withRules([{ type: 'regexReplace', pattern: 'a', flags: 'y', replaceWith: '' }]))).toMatch(
      /fields\[2\]\.transformation\[0\]\.flags: .*sticky/,
    );
  });

  test('patterns, replacements and find texts have size limits', () => {
    expect(refusal(withRules([{ type: 'regexReplace', pattern: 'a'.repeat(1001), replaceWith: '' }]))).toMatch(/fields\[2\]\.transformation\[0\]\.pattern: /);
    expect(refusal(withRules([{ type: 'regexReplace', pattern: 'a', replaceWith: 'b'.repeat(1001) }]))).toMatch(
      /fields\[2\]\.transformation\[0\]\.replaceWith: /,
    );
    expect(refusal(withRules([{ type: 'replace', find: 'a'.repeat(1001), replaceWith: '' }]))).toMatch(/fields\[2\]\.transformation\[0\]\.find: /);
    expect(refusal(withRules([{ type: 'truncate', length: 1e9 }]))).toMatch(/fields\[2\]\.transformation\[0\]\.length: /);
  });

  test('ordinary rules are accepted', () => {
    expect(() =>
      parseMappingDefinition(
        testMapping(withRules([{ type: 'regexReplace', pattern: '^(\\d{3})(\\d+)$', flags: '', replaceWith: '$1-$2' }, { type: 'trim' }])),
      ),
    ).not.toThrow();
  });
});

describe('dependsOn and constantValue', () => {
  test('dependsOn is a short list of mapping names, not the mapping itself', () => {
    expect(refusal({ dependsOn: Array.from({ length: 51 }, (_, i) => `M${i}`) })).toMatch(/dependsOn: /);
    expect(refusal({ dependsOn: ['x'.repeat(101)] })).toMatch(/dependsOn\[0\]: /);
    expect(refusal({ dependsOn: ["CURRENCY'; DROP TABLE mappings; --"] })).toMatch(/dependsOn\[0\]: /);
    expect(refusal({ dependsOn: ['CURRENCY', 'CURRENCY'] })).toMatch(/dependsOn\[1\]: .*twice/);
    expect(refusal({ dependsOn: ['CUSTOMER'] })).toMatch(/dependsOn\[0\]: .*itself/);
    expect(parseMappingDefinition(testMapping({ dependsOn: ['CURRENCY', 'SALESPERSON'] })).dependsOn).toEqual(['CURRENCY', 'SALESPERSON']);
  });

  test('a constant value has a size limit and no NUL character', () => {
    const constant = (constantValue: unknown): Partial<MappingDefinition> => ({
      fields: [FIELDS[0], { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: constantValue as never }],
    });
    expect(refusal(constant('x'.repeat(4001)))).toMatch(/fields\[1\]\.constantValue: /);
    expect(refusal(constant('a\u0000b'))).toMatch(/fields\[1\]\.constantValue: .*NUL/);
    expect(() => parseMappingDefinition(testMapping(constant('x'.repeat(4000))))).not.toThrow();
  });
});
