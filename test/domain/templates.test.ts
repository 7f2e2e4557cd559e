/**
 * Templates for created records (BC's "Table Config Template") as pure
 * rules: the first template of the pass's direction, lowest priority first,
 * whose filter matches the source record gives the defaults; mapped values win.
 */
import { checkKeyColumnWrites, checkMappingColumns, createValues, planFields } from '../../domain/field-plan';
import { InvalidMappingError, parseMappingDefinition, type MappingDefinition } from '../../domain/mapping';
import { decideRecord } from '../../domain/sync-decision';
import { testMapping } from '../helpers/systems';

const TEMPLATES: MappingDefinition['templates'] = [
  { direction: 'ToIntegrationTable', priority: 20, values: { customertypecode: 'Customer', telephone1: 'no phone', address1_country: 'US' } },
  { direction: 'ToIntegrationTable', priority: 10, filter: [{ field: 'country', op: 'eq', value: 'gb' }], values: { customertypecode: 'UK customer' } },
  { direction: 'FromIntegrationTable', priority: 0, values: { segment: 'From CRM' } },
];

const mapping = parseMappingDefinition(testMapping({ direction: 'Bidirectional', templates: TEMPLATES }));

function refusal(overrides: Partial<MappingDefinition>): string {
  try {
    parseMappingDefinition(testMapping(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMappingError);
    return (error as Error).message;
  }
  throw new Error('the mapping was accepted');
}

describe('which template a created record gets', () => {
  const plan = planFields(mapping, 'ToIntegrationTable');
  const source = (extra: Record<string, unknown>) => ({ name: 'Ada', email: 'a@x', phone: '555', city: 'Oslo', ...extra });

  test('the lowest priority whose filter matches; a template without a filter takes the rest', () => {
    expect(createValues(plan, source({ country: 'gb' }))).toMatchObject({ customertypecode: 'UK customer' });
    expect(createValues(plan, source({ country: 'gb' }))).not.toHaveProperty('address1_country');
    expect(createValues(plan, source({ country: 'us' }))).toMatchObject({ customertypecode: 'Customer', address1_country: 'US' });
  });

  test('mapped values win over template values, an empty one too; the template fills only what the pass does not write', () => {
    expect(createValues(plan, source({ country: 'us' }))).toEqual({
      name: 'Ada',
      emailaddress1: 'a@x',
      telephone1: '555',
      address1_city: 'Oslo',
      customertypecode: 'Customer',
      address1_country: 'US',
    });
    expect(createValues(plan, source({ country: 'us', phone: null }))).toMatchObject({ telephone1: null });
  });

  test('each direction has its own templates; none that match -> no defaults', () => {
    const back = planFields(mapping, 'FromIntegrationTable');
    expect(createValues(back, { name: 'Acme', emailaddress1: null, telephone1: null, address1_city: null })).toEqual({
      name: 'Acme',
      email: null,
      phone: null,
      city: null,
      segment: 'From CRM',
    });
    const onlyGb = parseMappingDefinition(testMapping({ templates: [TEMPLATES[1]] }));
    expect(createValues(planFields(onlyGb, 'ToIntegrationTable'), source({ country: 'us' }))).not.toHaveProperty('customertypecode');
  });

  test("the pass reads the fields the templates' filters need", () => {
    expect(plan.sourceFields).toEqual(['name', 'email', 'phone', 'city', 'country']);
  });

  test('only creates get them: inserts and restores, never an update of a coupled record', () => {
    const record = { id: 'C1', modifiedOn: '2026-01-02T00:00:00.000Z', values: source({ country: 'gb' }) };
    expect(decideRecord({ plan, mapping, source: record, coupling: null, destination: null })).toMatchObject({
      action: 'insert',
      values: { customertypecode: 'UK customer' },
    });
    const coupling = {
      lastSyncedLocalModifiedOn: '2026-01-01T00:00:00.000Z',
      lastSyncedIntegrationModifiedOn: '2026-01-01T00:00:00.000Z',
      lastResult: 'Success' as const,
      pending: false,
      pendingOther: false,
      skipped: false,
    };
    const restoring = { ...mapping, deletionConflictResolution: 'RestoreRecords' as const };
    expect(decideRecord({ plan, mapping: restoring, source: record, coupling, destination: null })).toMatchObject({
      action: 'restore',
      values: { customertypecode: 'UK customer' },
    });
    const destination = { id: 'A1', modifiedOn: '2026-01-01T00:00:00.000Z', values: { name: 'Old', customertypecode: null } };
    const update = decideRecord({ plan, mapping, source: record, coupling, destination });
    expect(update).toMatchObject({ action: 'modify' });
    expect(update).not.toHaveProperty('changes.customertypecode');
  });
});

describe('checked against the tables', () => {
  test('a template column that is not a destination column, or a filter field that is not a source column, is named', () => {
    const bad = parseMappingDefinition(
      testMapping({
        templates: [{ direction: 'ToIntegrationTable', filter: [{ field: 'region', op: 'isNull' }], values: { customertypecode: 'x', nope: 1 } }],
      }),
    );
    expect(
      checkMappingColumns(bad, ['name', 'email', 'phone', 'city', 'country'], ['name', 'emailaddress1', 'telephone1', 'address1_city', 'customertypecode']),
    ).toEqual([
      'Mapping CUSTOMER: templates[0].values.nope "nope" is not a column of account',
      'Mapping CUSTOMER: templates[0].filter[0].field "region" is not a column of customer',
    ]);
  });

  test("a template may not write the destination's id or modified-on column", () => {
    const bad = parseMappingDefinition(testMapping({ templates: [{ direction: 'ToIntegrationTable', values: { id: 'A-1', modified_on: 'x' } }] }));
    const keys = { id: 'id', modifiedOn: 'modified_on' };
    expect(checkKeyColumnWrites(bad, { local: keys, integration: keys })).toEqual([
      expect.stringMatching(/^Mapping CUSTOMER: templates\[0\]\.values\.id is the id column of account/),
      expect.stringMatching(/^Mapping CUSTOMER: templates\[0\]\.values\.modified_on is the modified-on column of account/),
    ]);
  });
});

describe('refused at save', () => {
  test('a direction the mapping never runs, two templates of a direction with one priority, an empty template', () => {
    expect(refusal({ direction: 'ToIntegrationTable', templates: [TEMPLATES[2]] })).toMatch(
      /templates\[0\]\.direction: mapping CUSTOMER is ToIntegrationTable, so a FromIntegrationTable template would never be used/,
    );
    expect(refusal({ templates: [TEMPLATES[0], { ...TEMPLATES[1], priority: 20 }] })).toMatch(
      /templates\[1\]\.priority: templates\[0\] has the same direction and priority 20/,
    );
    expect(refusal({ templates: [{ direction: 'ToIntegrationTable', values: {} }] })).toMatch(/templates\[0\]\.values: a template sets at least one column/);
    expect(refusal({ templates: [{ direction: 'ToIntegrationTable', values: { 'bad-name': 1 } }] })).toMatch(/templates\[0\]\.values/);
    expect(refusal({ templates: [{ direction: 'ToIntegrationTable', filter: [{ field: 'country', op: 'eq', value: null }], values: { a: 1 } }] })).toMatch(
      /templates\[0\]\.filter\[0\]\.value: /,
    );
  });
});
