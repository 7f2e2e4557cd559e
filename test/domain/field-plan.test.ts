import { diffValues, mapValues, planFields } from '../../domain/field-plan';
import { parseMappingDefinition } from '../../domain/mapping';
import { testMapping } from '../helpers/systems';

describe('field values are looked up by own key only', () => {
  const mapping = parseMappingDefinition(
    testMapping({
      fields: [
        { localField: 'constructor', integrationField: 'toString' },
        { localField: 'name', integrationField: 'name' },
      ],
    }),
  );
  const plan = planFields(mapping, 'ToIntegrationTable');

  test('a source record without a "constructor" value maps to null, not to Object', () => {
    expect(mapValues(plan, { name: 'Ada' })).toEqual({ toString: null, name: 'Ada' });
    expect(mapValues(plan, { constructor: 'x', name: 'Ada' })).toEqual({ toString: 'x', name: 'Ada' });
  });

  test('a destination record without a "toString" value differs from a value and equals null', () => {
    expect(diffValues({ toString: 'x' }, {})).toEqual({ toString: 'x' });
    expect(diffValues({ toString: null }, {})).toEqual({});
  });
});
