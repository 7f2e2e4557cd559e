/** Lookup fields without Temporal: the schema's rules, the plan, and how translated references are applied. */
import { planFields } from '../../domain/field-plan';
import { applyLookups, lookupRules, lookupVerdict, problemMessage, referencesOf, referenceText } from '../../domain/lookups';
import { mappingDependencies, parseMappingDefinition, type MappingDefinition } from '../../domain/mapping';

const contact = (fields: MappingDefinition['fields'], extra: Partial<MappingDefinition> = {}): MappingDefinition => ({
  name: 'CONTACT',
  local: { system: 'bc', table: 'contacts' },
  integration: { system: 'dataverse', table: 'contact' },
  direction: 'Bidirectional',
  fields,
  ...extra,
});
const LOOKUP = { localField: 'companyNumber', integrationField: 'parentcustomerid', lookup: { mapping: 'CUSTOMER', localKey: 'number' } };

test('a lookup needs both columns and refuses constants, rules, matching, and its column mapped again', () => {
  expect(() => parseMappingDefinition(contact([{ localField: 'companyNumber', lookup: { mapping: 'CUSTOMER' } }]))).toThrow(
    /fields\[0\]\.lookup: a lookup field needs both localField and integrationField/,
  );
  expect(() => parseMappingDefinition(contact([{ ...LOOKUP, transformation: [{ type: 'trim' }] }]))).toThrow(
    /fields\[0\]\.transformation: a lookup field cannot be transformed/,
  );
  expect(() => parseMappingDefinition(contact([{ ...LOOKUP, useForMatching: true }]))).toThrow(/cannot be used for matching/);
  expect(() => parseMappingDefinition(contact([LOOKUP, { localField: 'companyNumber', integrationField: 'description' }]))).toThrow(
    /fields\[1\]\.localField: companyNumber is the lookup of fields\[0\] and cannot be mapped again/,
  );
  expect(() => parseMappingDefinition(contact([{ ...LOOKUP, lookup: { mapping: 'bad name!' } }]))).toThrow(/fields\[0\]\.lookup\.mapping/);
});

test('lookups are dependencies, besides dependsOn; a lookup into its own mapping is not', () => {
  const mapping = parseMappingDefinition(
    contact([LOOKUP, { localField: 'parentNo', integrationField: 'parentcontactid', lookup: { mapping: 'CONTACT' } }], {
      dependsOn: ['SALESPEOPLE', 'CUSTOMER'],
    }),
  );
  expect(mappingDependencies(mapping)).toEqual(['SALESPEOPLE', 'CUSTOMER']);
  expect(mappingDependencies(parseMappingDefinition(contact([LOOKUP])))).toEqual(['CUSTOMER']);
});

test('the plan gives each direction its own key: the number on the BC side, the id on the Dataverse side', () => {
  const mapping = parseMappingDefinition(contact([{ localField: 'displayName', integrationField: 'fullname' }, LOOKUP]));
  expect(lookupRules(planFields(mapping, 'ToIntegrationTable').rules)).toEqual([
    expect.objectContaining({
      sourceField: 'companyNumber',
      destinationField: 'parentcustomerid',
      lookup: { mapping: 'CUSTOMER', sourceKey: 'number', destinationKey: null, clearValueOnFailedSync: false },
    }),
  ]);
  expect(lookupRules(planFields(mapping, 'FromIntegrationTable').rules)[0]).toMatchObject({
    sourceField: 'parentcustomerid',
    lookup: { sourceKey: null, destinationKey: 'number' },
  });
});

test('references: empty ones stay empty, numbers are text, each reference once', () => {
  expect([null, undefined, '', 'K-1', 7, true].map(referenceText)).toEqual([null, null, null, 'K-1', '7', 'true']);
  expect(referencesOf([{ values: { c: 'K-1' } }, { values: { c: 'K-1' } }, { values: { c: null } }, { values: {} }, { values: { c: 12 } }], 'c')).toEqual([
    'K-1',
    '12',
  ]);
});

test('applying a translation replaces references, empties the ones that failed, and words the problem per record', () => {
  const mapping = parseMappingDefinition(
    contact([
      { localField: 'displayName', integrationField: 'fullname' },
      { ...LOOKUP, lookup: { ...LOOKUP.lookup, clearValueOnFailedSync: true } },
    ]),
  );
  const rules = lookupRules(planFields(mapping, 'ToIntegrationTable').rules);
  const where = { sourceSide: 'local' as const, sourceTable: 'bc.customers' };
  const notCoupled = problemMessage(rules[0], where, 'K-2', 'notCoupled');
  expect(notCoupled).toBe(
    'Field "companyNumber" -> "parentcustomerid": the local record with number "K-2" in bc.customers it references is not coupled in mapping CUSTOMER; couple or synchronize it first.',
  );
  const records = [
    { id: 'P1', modifiedOn: 'm', values: { displayName: 'Ann', companyNumber: 'K-1' } },
    { id: 'P2', modifiedOn: 'm', values: { displayName: 'Bo', companyNumber: 'K-2' } },
    { id: 'P3', modifiedOn: 'm', values: { displayName: 'Cy', companyNumber: '' } },
  ];
  const out = applyLookups(records, rules, [
    new Map([
      ['K-1', { value: 'guid-1' }],
      ['K-2', { problem: notCoupled }],
    ]),
  ]);
  expect(out.records.map((r) => r.values.companyNumber)).toEqual(['guid-1', null, null]);
  expect([...out.problems]).toEqual([['P2', [{ message: notCoupled, clear: true }]]]);
  // The input records are left as they were.
  expect(records[0].values.companyNumber).toBe('K-1');
});

test('a lookup problem fails a record whose decision carries values, warns when its field clears, and is moot otherwise', () => {
  const fail = { message: 'A.', clear: false };
  const clear = { message: 'B.', clear: true };
  expect(lookupVerdict([fail, clear], 'modify')).toEqual({ fail: true, message: 'A.' });
  expect(lookupVerdict([clear], 'insert')).toEqual({ fail: false, message: 'B.' });
  expect(lookupVerdict([clear], 'unchanged')).toEqual({ fail: false, message: 'B.' });
  for (const action of ['ignore', 'skip', 'deferred', 'uncouple', 'deleteCounterpart', 'fail']) expect(lookupVerdict([fail], action)).toBeNull();
  expect(lookupVerdict(undefined, 'modify')).toBeNull();
});
