import { planFields, mapValues, diffValues, checkMappingColumns, passDirections } from '../../domain/field-plan';
import { decideMissingSource, decideRecord, nextFailureState, MESSAGES, type CouplingState, type DecisionInput } from '../../domain/sync-decision';
import { parseMappingDefinition } from '../../domain/mapping';
import { testMapping } from '../helpers/systems';

const mapping = parseMappingDefinition(
  testMapping({
    direction: 'Bidirectional',
    fields: [
      { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
      { localField: 'city', integrationField: 'address1_city', direction: 'ToIntegrationTable', transformation: [{ type: 'uppercase' }] },
      { integrationField: 'customertypecode', direction: 'ToIntegrationTable', constantValue: 'Customer' },
      { localField: 'phone', integrationField: 'telephone1', direction: 'FromIntegrationTable' },
      { localField: 'email', integrationField: 'emailaddress1', enabled: false },
    ],
  }),
);
const toIntegration = planFields(mapping, 'ToIntegrationTable');

const synced: CouplingState = {
  lastSyncedLocalModifiedOn: 'L1',
  lastSyncedIntegrationModifiedOn: 'I1',
  lastResult: 'Success',
  pending: false,
  pendingOther: false,
  skipped: false,
};
const source = (modifiedOn: string, values: Record<string, unknown> = { name: 'Ada', city: 'oslo' }) => ({ id: 'C1', modifiedOn, values });
const dest = (modifiedOn: string, values: Record<string, unknown> = { name: 'Ada', address1_city: 'OSLO', customertypecode: 'Customer' }) => ({
  id: 'A1',
  modifiedOn,
  values,
});
const decide = (over: Partial<DecisionInput>) =>
  decideRecord({ plan: toIntegration, mapping, source: source('L1'), coupling: synced, destination: dest('I1'), ...over });

describe('field plan', () => {
  test('takes enabled fields of the direction or bidirectional, constants and transformations', () => {
    expect(toIntegration.rules.map((r) => r.destinationField)).toEqual(['name', 'address1_city', 'customertypecode']);
    expect(toIntegration.sourceFields).toEqual(['name', 'city']);
    expect(mapValues(toIntegration, { name: 'Ada', city: 'oslo' })).toEqual({ name: 'Ada', address1_city: 'OSLO', customertypecode: 'Customer' });
    expect(planFields(mapping, 'FromIntegrationTable').rules.map((r) => r.destinationField)).toEqual(['name', 'phone']);
  });

  test('only values that differ are written; 1 = true and 12 = "12"', () => {
    expect(diffValues({ a: 1, b: 'x', c: null, d: true, e: 12 }, { a: 1, b: 'y', c: undefined, d: 1, e: '12' })).toEqual({ b: 'x' });
  });

  test('a blank text equals a null (Business Central has no null text); a blank is not zero', () => {
    expect(diffValues({ a: null, b: '', c: '' }, { a: '', b: null, c: 0 })).toEqual({ c: '' });
  });

  test('no field for a direction is a clear error; passes run local first', () => {
    const oneWay = parseMappingDefinition(testMapping({ fields: [{ localField: 'name', integrationField: 'name', direction: 'ToIntegrationTable' }] }));
    expect(() => planFields(oneWay, 'FromIntegrationTable')).toThrow(/no enabled field mapping for direction FromIntegrationTable/);
    expect(passDirections(mapping)).toEqual(['ToIntegrationTable', 'FromIntegrationTable']);
    expect(passDirections(mapping, 'FromIntegrationTable')).toEqual(['FromIntegrationTable']);
  });

  test('columns that do not exist are named', () => {
    const problems = checkMappingColumns(mapping, ['name', 'city', 'phone'], ['name', 'address1_city']);
    expect(problems).toEqual([
      'Mapping CUSTOMER: fields[2].integrationField "customertypecode" is not a column of account',
      'Mapping CUSTOMER: fields[3].integrationField "telephone1" is not a column of account',
      'Mapping CUSTOMER: fields[4].localField "email" is not a column of customer',
      'Mapping CUSTOMER: fields[4].integrationField "emailaddress1" is not a column of account',
    ]);
  });
});

describe('decideRecord', () => {
  test('uncoupled: ignored when only coupled records sync, inserted otherwise or for a single-record sync', () => {
    const onlyCoupled = { ...mapping, syncOnlyCoupledRecords: true };
    expect(decide({ mapping: onlyCoupled, coupling: null })).toEqual({ action: 'ignore' });
    expect(decide({ mapping: onlyCoupled, coupling: null, options: { createUncoupled: true } }).action).toBe('insert');
    expect(decide({ mapping: { ...mapping, syncOnlyCoupledRecords: false }, coupling: null })).toEqual({
      action: 'insert',
      values: { name: 'Ada', address1_city: 'OSLO', customertypecode: 'Customer' },
    });
  });

  test('unchanged source is not written; changed source writes only differing values with the version read', () => {
    expect(decide({})).toEqual({ action: 'unchanged', record: false, otherPending: false });
    expect(decide({ source: source('L2', { name: 'Bea', city: 'oslo' }) })).toEqual({
      action: 'modify',
      changes: { name: 'Bea' },
      expectedVersion: 'I1',
      otherPending: false,
    });
    // Touched without value changes: unchanged, but the coupling stores the new modified-on.
    expect(decide({ source: source('L2') })).toEqual({ action: 'unchanged', record: true, otherPending: false });
  });

  test('a failed, non-skipped record is retried even if unchanged; a skipped one is skipped', () => {
    expect(decide({ coupling: { ...synced, lastResult: 'Failure' }, source: source('L1', { name: 'Bea', city: 'oslo' }) }).action).toBe('modify');
    expect(decide({ coupling: { ...synced, skipped: true }, source: source('L9') })).toEqual({ action: 'skip' });
    expect(decide({ coupling: { ...synced, skipped: true }, source: source('L9', { name: 'Bea' }), options: { includeSkipped: true } }).action).toBe('modify');
  });

  test('update conflict on a bidirectional field follows the resolution', () => {
    const both = {
      source: source('L2', { name: 'Local', city: 'oslo' }),
      destination: dest('I2', { name: 'Remote', address1_city: 'OSLO', customertypecode: 'Customer' }),
    };
    expect(decide({ ...both })).toEqual({ action: 'fail', message: MESSAGES.conflict });
    expect(decide({ ...both, mapping: { ...mapping, updateConflictResolution: 'SendToIntegration' } }).action).toBe('modify');
    expect(decide({ ...both, mapping: { ...mapping, updateConflictResolution: 'GetFromIntegration' } })).toEqual({ action: 'deferred' });
    expect(decide({ ...both, options: { winner: 'ToIntegrationTable' } }).action).toBe('modify');
    // Both changed but only a one-way field differs: no conflict.
    const oneWay = {
      source: source('L2', { name: 'Same', city: 'bergen' }),
      destination: dest('I2', { name: 'Same', address1_city: 'OSLO', customertypecode: 'Customer' }),
    };
    // The destination changed too: the other direction is left pending to carry what it changed.
    expect(decide(oneWay)).toEqual({ action: 'modify', changes: { address1_city: 'BERGEN' }, expectedVersion: 'I2', otherPending: true });
  });

  test('deletion conflict follows the resolution; an unchanged record with a deleted counterpart is left alone', () => {
    const changed = { source: source('L2'), destination: null };
    expect(decide(changed)).toEqual({ action: 'fail', message: MESSAGES.deletedCounterpart });
    expect(decide({ ...changed, mapping: { ...mapping, deletionConflictResolution: 'RemoveCoupling' } })).toEqual({ action: 'uncouple' });
    expect(decide({ ...changed, mapping: { ...mapping, deletionConflictResolution: 'RestoreRecords' } }).action).toBe('restore');
    expect(decide({ destination: null })).toEqual({ action: 'unchanged', record: false, otherPending: false });
    // The console's Restore record: a restore asked for these records, whatever the mapping's resolution.
    expect(decide({ ...changed, options: { restoreDeleted: true } }).action).toBe('restore');
    expect(decide({ ...changed, mapping: { ...mapping, deletionConflictResolution: 'RemoveCoupling' }, options: { restoreDeleted: true } }).action).toBe(
      'restore',
    );
    // Only a deleted counterpart is restored: one that exists is synchronized as always.
    expect(decide({ source: source('L2'), options: { restoreDeleted: true } }).action).not.toBe('restore');
  });

  test('full sync repairs drift only when the destination did not change', () => {
    const drift = dest('I1', { name: 'Drifted', address1_city: 'OSLO', customertypecode: 'Customer' });
    expect(decide({ destination: drift, options: { force: true } })).toEqual({
      action: 'modify',
      changes: { name: 'Ada' },
      expectedVersion: 'I1',
      otherPending: false,
    });
    expect(decide({ destination: { ...drift, modifiedOn: 'I2' }, options: { force: true } })).toEqual({
      action: 'unchanged',
      record: false,
      otherPending: false,
    });
  });

  test('the same failure twice in a row skips the record; a different one restarts the count', () => {
    expect(nextFailureState(null, 'x')).toEqual({ failureCount: 1, skipped: false });
    expect(nextFailureState({ failureCount: 1, lastError: 'x' }, 'x')).toEqual({ failureCount: 2, skipped: true });
    expect(nextFailureState({ failureCount: 1, lastError: 'x' }, 'y')).toEqual({ failureCount: 1, skipped: false });
  });

  test('a coupling never synced counts as changed on both sides: the conflict rule decides', () => {
    const fresh: CouplingState = {
      ...synced,
      lastSyncedLocalModifiedOn: null,
      lastSyncedIntegrationModifiedOn: null,
      lastResult: null,
      pending: true,
      pendingOther: true,
    };
    const differ = {
      coupling: fresh,
      source: source('L1', { name: 'Local', city: 'oslo' }),
      destination: dest('I1', { name: 'Remote', address1_city: 'OSLO', customertypecode: 'Customer' }),
    };
    expect(decide(differ)).toEqual({ action: 'fail', message: MESSAGES.conflict });
    expect(decide({ ...differ, mapping: { ...mapping, updateConflictResolution: 'GetFromIntegration' } })).toEqual({ action: 'deferred' });
    expect(decide({ ...differ, mapping: { ...mapping, updateConflictResolution: 'SendToIntegration' } })).toMatchObject({
      action: 'modify',
      otherPending: true,
    });
    // Values that agree: recorded as synced, the other direction still to visit for its own fields.
    expect(decide({ coupling: fresh })).toEqual({ action: 'unchanged', record: true, otherPending: true });
  });

  test('a pending direction counts as changed; the other direction pending counts as a destination change', () => {
    const pending: CouplingState = { ...synced, pending: true };
    expect(decide({ coupling: pending, source: source('L1', { name: 'Bea', city: 'oslo' }) })).toMatchObject({ action: 'modify', otherPending: false });
    const otherPending: CouplingState = { ...synced, pendingOther: true };
    const both = { coupling: otherPending, source: source('L2', { name: 'Local', city: 'oslo' }) };
    expect(decide(both)).toEqual({ action: 'fail', message: MESSAGES.conflict });
  });

  test('a deleted source follows the source-deletion rule; a counterpart changed since the last sync is never deleted', () => {
    const base = { plan: toIntegration, coupling: synced, counterpartId: 'A1' };
    expect(decideMissingSource({ ...base, rule: 'KeepCoupling', destination: dest('I1') })).toEqual({
      action: 'fail',
      message: MESSAGES.sourceDeleted('local', 'A1'),
    });
    expect(decideMissingSource({ ...base, rule: 'RemoveCoupling', destination: dest('I1') })).toEqual({ action: 'uncouple' });
    expect(decideMissingSource({ ...base, rule: 'DeleteCounterpart', destination: dest('I1') })).toEqual({ action: 'deleteCounterpart' });
    expect(decideMissingSource({ ...base, rule: 'DeleteCounterpart', destination: dest('I2') })).toEqual({
      action: 'fail',
      message: MESSAGES.counterpartChanged('local', 'A1'),
    });
    expect(decideMissingSource({ ...base, rule: 'DeleteCounterpart', destination: null })).toEqual({ action: 'uncouple' });
  });
});
