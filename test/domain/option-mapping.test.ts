/**
 * Option mappings (BC's "CRM Option Mapping") as pure rules: a field's value
 * pairs used in both directions, numbers and strings alike; an unmapped value
 * fails the record or is left out and collected, as the field says.
 */
import { mapValues, planFields } from '../../domain/field-plan';
import { InvalidMappingError, parseMappingDefinition, type FieldMappingDefinition, type MappingDefinition } from '../../domain/mapping';
import { isStillUnmapped, optionKey, type UnmappedOption } from '../../domain/option-mapping';
import { decideRecord } from '../../domain/sync-decision';
import { TransformationError } from '../../domain/transform';
import { testMapping } from '../helpers/systems';

const PAYMENT_TERMS: FieldMappingDefinition = {
  localField: 'payment_terms_code',
  integrationField: 'paymenttermscode',
  optionMapping: {
    pairs: [
      { local: 'NET30', integration: 100000001 },
      { local: 'NET60', integration: 100000002 },
      { local: 'COD', integration: 100000003 },
    ],
  },
};

function mappingWith(field: FieldMappingDefinition, overrides: Partial<MappingDefinition> = {}) {
  return parseMappingDefinition(testMapping({ direction: 'Bidirectional', fields: [{ localField: 'name', integrationField: 'name' }, field], ...overrides }));
}

function refusal(field: FieldMappingDefinition): string {
  try {
    mappingWith(field);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMappingError);
    return (error as Error).message;
  }
  throw new Error('the mapping was accepted');
}

describe('values travel through the pairs in the pass direction', () => {
  const mapping = mappingWith(PAYMENT_TERMS);
  const toIntegration = planFields(mapping, 'ToIntegrationTable');
  const fromIntegration = planFields(mapping, 'FromIntegrationTable');

  test('local code -> integration option value, and back', () => {
    expect(mapValues(toIntegration, { name: 'Ada', payment_terms_code: 'NET30' })).toEqual({ name: 'Ada', paymenttermscode: 100000001 });
    expect(mapValues(toIntegration, { name: 'Ada', payment_terms_code: 'COD' })).toEqual({ name: 'Ada', paymenttermscode: 100000003 });
    expect(mapValues(fromIntegration, { name: 'Ada', paymenttermscode: 100000002 })).toEqual({ name: 'Ada', payment_terms_code: 'NET60' });
  });

  test('numbers and strings compare as valuesEqual does: an option value read as text maps as the number', () => {
    expect(mapValues(fromIntegration, { name: 'Ada', paymenttermscode: '100000001' })).toEqual({ name: 'Ada', payment_terms_code: 'NET30' });
    const flags = mappingWith({
      localField: 'blocked',
      integrationField: 'statecode',
      optionMapping: {
        pairs: [
          { local: true, integration: 1 },
          { local: false, integration: 0 },
        ],
      },
    });
    expect(mapValues(planFields(flags, 'ToIntegrationTable'), { name: 'x', blocked: 1 })).toEqual({ name: 'x', statecode: 1 });
    expect(mapValues(planFields(flags, 'FromIntegrationTable'), { name: 'x', statecode: 0 })).toEqual({ name: 'x', blocked: false });
  });

  test('null and empty stay null and empty, never "unmapped"', () => {
    expect(mapValues(toIntegration, { name: 'Ada', payment_terms_code: null })).toEqual({ name: 'Ada', paymenttermscode: null });
    expect(mapValues(toIntegration, { name: 'Ada' })).toEqual({ name: 'Ada', paymenttermscode: null });
    expect(mapValues(toIntegration, { name: 'Ada', payment_terms_code: '' })).toEqual({ name: 'Ada', paymenttermscode: '' });
  });

  test("the field's transformations run first, so a pair can be looked up after normalizing", () => {
    const normalized = planFields(mappingWith({ ...PAYMENT_TERMS, transformation: [{ type: 'trim' }, { type: 'uppercase' }] }), 'ToIntegrationTable');
    expect(mapValues(normalized, { name: 'Ada', payment_terms_code: ' net30 ' })).toEqual({ name: 'Ada', paymenttermscode: 100000001 });
  });
});

describe('an unmapped value', () => {
  test('fails the record by default, naming the field, the value and the mapping', () => {
    const plan = planFields(mappingWith(PAYMENT_TERMS), 'ToIntegrationTable');
    const map = (): unknown => mapValues(plan, { name: 'Ada', payment_terms_code: 'NET45' });
    expect(map).toThrow(TransformationError);
    expect(map).toThrow(
      'Field "payment_terms_code" -> "paymenttermscode": value "NET45" has no option mapping in mapping CUSTOMER; add a pair for it to fields[1].optionMapping.pairs, or set fields[1].optionMapping.unmapped to "collect"',
    );
    const reverse = planFields(mappingWith(PAYMENT_TERMS), 'FromIntegrationTable');
    expect(() => mapValues(reverse, { name: 'Ada', paymenttermscode: 100000009 })).toThrow(/value 100000009 has no option mapping in mapping CUSTOMER/);
  });

  test('with unmapped "collect", is left out of the values and handed to the caller to collect', () => {
    const plan = planFields(mappingWith({ ...PAYMENT_TERMS, optionMapping: { ...PAYMENT_TERMS.optionMapping!, unmapped: 'collect' } }), 'FromIntegrationTable');
    const unmapped: UnmappedOption[] = [];
    expect(mapValues(plan, { name: 'Ada', paymenttermscode: 100000009 }, unmapped)).toEqual({ name: 'Ada' });
    expect(unmapped).toEqual([{ sourceSide: 'integration', sourceField: 'paymenttermscode', destinationField: 'payment_terms_code', value: 100000009 }]);
  });

  test('fails the decision of the record it is in, not the batch; a collected one leaves the rest of the record to sync', () => {
    const source = { id: 'C1', modifiedOn: '2026-01-02T00:00:00.000Z', values: { name: 'Ada', payment_terms_code: 'NET45' } };
    const failing = planFields(mappingWith(PAYMENT_TERMS), 'ToIntegrationTable');
    const decision = decideRecord({ plan: failing, mapping: mappingWith(PAYMENT_TERMS), source, coupling: null, destination: null });
    expect(decision).toEqual({ action: 'fail', message: expect.stringContaining('value "NET45" has no option mapping') });

    const collecting = mappingWith({ ...PAYMENT_TERMS, optionMapping: { ...PAYMENT_TERMS.optionMapping!, unmapped: 'collect' } });
    const unmapped: UnmappedOption[] = [];
    const insert = decideRecord({
      plan: planFields(collecting, 'ToIntegrationTable'),
      mapping: collecting,
      source,
      coupling: null,
      destination: null,
      unmapped,
    });
    expect(insert).toEqual({ action: 'insert', values: { name: 'Ada' } });
    expect(unmapped.map((u) => u.value)).toEqual(['NET45']);
  });
});

describe('change detection diffs the destination value after mapping', () => {
  const mapping = mappingWith(PAYMENT_TERMS);
  const plan = planFields(mapping, 'ToIntegrationTable');
  const coupling = {
    lastSyncedLocalModifiedOn: '2026-01-01T00:00:00.000Z',
    lastSyncedIntegrationModifiedOn: '2026-01-01T00:00:00.000Z',
    lastResult: 'Success' as const,
    pending: false,
    pendingOther: false,
    skipped: false,
  };
  const source = (code: string) => ({ id: 'C1', modifiedOn: '2026-01-02T00:00:00.000Z', values: { name: 'Ada', payment_terms_code: code } });
  const destination = { id: 'A1', modifiedOn: '2026-01-01T00:00:00.000Z', values: { name: 'Ada', paymenttermscode: '100000001' } };

  test('the same option on both sides is unchanged; another one is written as its option value', () => {
    expect(decideRecord({ plan, mapping, source: source('NET30'), coupling, destination })).toMatchObject({ action: 'unchanged' });
    expect(decideRecord({ plan, mapping, source: source('NET60'), coupling, destination })).toMatchObject({
      action: 'modify',
      changes: { paymenttermscode: 100000002 },
    });
  });
});

describe('refused at save', () => {
  test('a value twice on one side, naming both pairs (12 and "12" are one value)', () => {
    expect(
      refusal({
        ...PAYMENT_TERMS,
        optionMapping: {
          pairs: [
            { local: 'NET30', integration: 1 },
            { local: 'NET60', integration: 2 },
            { local: 'NET30', integration: 3 },
          ],
        },
      }),
    ).toMatch(/fields\[1\]\.optionMapping\.pairs\[2\]\.local: "NET30" is also pairs\[0\]\.local/);
    expect(
      refusal({
        ...PAYMENT_TERMS,
        optionMapping: {
          pairs: [
            { local: 'A', integration: 12 },
            { local: 'B', integration: '12' },
          ],
        },
      }),
    ).toMatch(/fields\[1\]\.optionMapping\.pairs\[1\]\.integration: "12" is also pairs\[0\]\.integration/);
  });

  test('more than 1000 pairs, an empty value, an option mapping on a constant, one side or a match field', () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ local: `C${i}`, integration: i }));
    expect(refusal({ ...PAYMENT_TERMS, optionMapping: { pairs: many } })).toMatch(/fields\[1\]\.optionMapping\.pairs: /);
    expect(refusal({ ...PAYMENT_TERMS, optionMapping: { pairs: [{ local: '', integration: 1 }] } })).toMatch(/fields\[1\]\.optionMapping\.pairs\[0\]\.local: /);
    expect(refusal({ integrationField: 'paymenttermscode', constantValue: 1, optionMapping: PAYMENT_TERMS.optionMapping })).toMatch(
      /fields\[1\]\.optionMapping: .*needs both localField and integrationField/,
    );
    expect(refusal({ ...PAYMENT_TERMS, useForMatching: true })).toMatch(/fields\[1\]\.optionMapping: .*cannot be used for matching/);
  });
});

describe('the list of unmapped values shows what is still unmapped', () => {
  test('a value the mapping has a pair for since is no longer listed, nor one of a field without an option mapping', () => {
    const mapping = mappingWith(PAYMENT_TERMS);
    expect(isStillUnmapped(mapping, { side: 'local', field: 'payment_terms_code', valueKey: optionKey('NET45') })).toBe(true);
    expect(isStillUnmapped(mapping, { side: 'local', field: 'payment_terms_code', valueKey: optionKey('NET60') })).toBe(false);
    expect(isStillUnmapped(mapping, { side: 'integration', field: 'paymenttermscode', valueKey: optionKey(100000002) })).toBe(false);
    expect(isStillUnmapped(mapping, { side: 'integration', field: 'paymenttermscode', valueKey: optionKey('100000009') })).toBe(true);
    expect(isStillUnmapped(mapping, { side: 'local', field: 'name', valueKey: optionKey('x') })).toBe(false);
  });
});
