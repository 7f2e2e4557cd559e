/** Match-based coupling decisions, without Temporal or a database. */
import { fieldMappingSchema, type FieldMappingDefinition } from '../../domain/mapping';
import { levelQueries, matchLevels, normalizeMatchValue, type MatchLevel, type MatchRecord } from '../../domain/matching';
import { compareCodePoints, describeUnmatched, levelResults, matchRecords, outcomeOf as trailOutcome, type MatchOutcome } from '../../domain/match-rounds';

function levelsOf(fields: FieldMappingDefinition[]): MatchLevel[] {
  return matchLevels({ fields: fields.map((f) => fieldMappingSchema.parse(f)) });
}

const EMAIL: FieldMappingDefinition = { localField: 'email', integrationField: 'emailaddress1', useForMatching: true, matchPriority: 0 };
const CITY: FieldMappingDefinition = { localField: 'city', integrationField: 'address1_city', useForMatching: true, matchPriority: 0 };
const NAME: FieldMappingDefinition = { localField: 'name', integrationField: 'name', useForMatching: true, matchPriority: 1 };

const local = (id: string, values: Record<string, unknown>): MatchRecord => ({ id, values });
const account = (id: string, values: Record<string, unknown>): MatchRecord => ({ id, values });

function outcomeOf(outcomes: MatchOutcome[], id: string): MatchOutcome {
  const found = outcomes.find((o) => o.localId === id);
  if (!found) throw new Error(`no outcome for ${id}`);
  return found;
}

describe('normalizeMatchValue', () => {
  test('trims surrounding white space and folds case Unicode-aware unless case-sensitive', () => {
    expect(normalizeMatchValue({ value: '  École Dupont\t\n', caseSensitive: false })).toBe('école dupont');
    expect(normalizeMatchValue({ value: 'ÉCOLE DUPONT', caseSensitive: false })).toBe('école dupont');
    expect(normalizeMatchValue({ value: ' ÉCOLE ', caseSensitive: true })).toBe('ÉCOLE');
    expect(normalizeMatchValue({ value: 'ÅNGSTRÖM', caseSensitive: false })).toBe(normalizeMatchValue({ value: 'ångström', caseSensitive: false }));
  });

  test('composed and decomposed letters fold to the same key when case-insensitive', () => {
    expect(normalizeMatchValue({ value: 'E\u0301', caseSensitive: false })).toBe(normalizeMatchValue({ value: '\u00e9', caseSensitive: false }));
  });

  test('empty values add no condition; numbers compare as text', () => {
    expect(normalizeMatchValue({ value: null, caseSensitive: false })).toBeNull();
    expect(normalizeMatchValue({ value: undefined, caseSensitive: false })).toBeNull();
    expect(normalizeMatchValue({ value: '   ', caseSensitive: true })).toBeNull();
    expect(normalizeMatchValue({ value: 42, caseSensitive: false })).toBe('42');
  });
});

describe('matchLevels', () => {
  test('groups enabled two-sided match fields by priority ascending (blank = 0 first)', () => {
    const levels = levelsOf([
      NAME,
      { localField: 'phone', integrationField: 'telephone1', useForMatching: true, matchPriority: 5, caseSensitiveMatching: true },
      { localField: 'email', integrationField: 'emailaddress1', useForMatching: true },
      CITY,
      { localField: 'segment', integrationField: 'customertypecode', useForMatching: false },
      { localField: 'country', integrationField: 'address1_country', useForMatching: true, enabled: false },
      { integrationField: 'customertypecode', constantValue: 'Customer', useForMatching: true },
    ]);
    expect(levels.map((l) => [l.priority, l.fields.map((f) => f.localField)])).toEqual([
      [0, ['email', 'city']],
      [1, ['name']],
      [5, ['phone']],
    ]);
    expect(levels[2].fields[0].caseSensitive).toBe(true);
  });

  test('a transformation counts only when it applies towards the integration table', () => {
    const [level] = levelsOf([
      { ...EMAIL, transformation: [{ type: 'trim' }], transformationDirection: 'ToIntegrationTable' },
      { ...CITY, transformation: [{ type: 'uppercase' }], transformationDirection: 'FromIntegrationTable' },
    ]);
    expect(level.fields[0].transformation).toEqual([{ type: 'trim' }]);
    expect(level.fields[1].transformation).toBeUndefined();
  });
});

describe('matchRecords', () => {
  test('AND within a level; falls through to the next level on zero or several candidates', () => {
    const levels = levelsOf([EMAIL, CITY, NAME]);
    const locals = [
      local('C1', { email: 'a@x.example', city: 'Oslo', name: 'Alpha' }), // unique at priority 0 (email AND city)
      local('C2', { email: 'shared@x.example', city: 'Rome', name: 'Beta' }), // two at priority 0 -> name at 1
      local('C3', { email: 'nobody@x.example', city: 'Rome', name: 'Gamma' }), // none at 0 -> name at 1
    ];
    const candidates = [
      account('A1', { emailaddress1: 'a@x.example', address1_city: 'Oslo', name: 'Other' }),
      account('A2', { emailaddress1: 'a@x.example', address1_city: 'Bergen', name: 'Alpha' }),
      account('B1', { emailaddress1: 'shared@x.example', address1_city: 'Rome', name: 'Beta' }),
      account('B2', { emailaddress1: 'shared@x.example', address1_city: 'Rome', name: 'Not beta' }),
      account('G1', { emailaddress1: 'other@x.example', address1_city: 'Rome', name: 'Gamma' }),
    ];
    const outcomes = matchRecords({ levels, locals, candidates, coupledCandidateIds: new Set() });
    expect(outcomes).toEqual([
      { localId: 'C1', kind: 'matched', integrationId: 'A1', priority: 0 },
      { localId: 'C2', kind: 'matched', integrationId: 'B1', priority: 1 },
      { localId: 'C3', kind: 'matched', integrationId: 'G1', priority: 1 },
    ]);
  });

  test('several candidates at every level: unmatched, naming them', () => {
    const levels = levelsOf([EMAIL, NAME]);
    const candidates = [account('A1', { emailaddress1: 'dup@x.example', name: 'Dup' }), account('A2', { emailaddress1: 'DUP@x.example', name: 'dup' })];
    const [outcome] = matchRecords({ levels, locals: [local('C1', { email: 'dup@x.example', name: 'Dup' })], candidates, coupledCandidateIds: new Set() });
    expect(outcome).toMatchObject({ kind: 'unmatched', reason: 'several', candidateIds: ['A1', 'A2'] });
    if (outcome.kind !== 'unmatched') throw new Error('expected unmatched');
    const message = describeUnmatched({ outcome, levels });
    expect(message).toMatch(/several candidates/);
    expect(message).toMatch(/priority 0 \(email\): several candidates A1, A2/);
    expect(message).toMatch(/priority 1 \(name\): several candidates A1, A2/);
  });

  test('case-insensitive by default with non-ASCII letters; case-sensitive when marked', () => {
    const insensitive = levelsOf([{ localField: 'name', integrationField: 'name', useForMatching: true }]);
    const sensitive = levelsOf([{ localField: 'name', integrationField: 'name', useForMatching: true, caseSensitiveMatching: true }]);
    const locals = [local('C1', { name: 'ÉCOLE ÇA' }), local('C2', { name: 'Über' })];
    const candidates = [account('A1', { name: 'école ça' }), account('A2', { name: 'Über' })];
    expect(matchRecords({ levels: insensitive, locals, candidates, coupledCandidateIds: new Set() }).map((o) => o.kind)).toEqual(['matched', 'matched']);
    const strict = matchRecords({ levels: sensitive, locals, candidates, coupledCandidateIds: new Set() });
    expect(outcomeOf(strict, 'C1')).toMatchObject({ kind: 'unmatched', reason: 'noCandidate' });
    expect(outcomeOf(strict, 'C2')).toMatchObject({ kind: 'matched', integrationId: 'A2' });
  });

  test('surrounding white space is ignored on both sides', () => {
    const levels = levelsOf([EMAIL]);
    const outcomes = matchRecords({
      levels,
      locals: [local('C1', { email: '  a@x.example\t' })],
      candidates: [account('A1', { emailaddress1: 'a@x.example  ' }), account('A2', { emailaddress1: 'a @x.example' })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomes[0]).toMatchObject({ kind: 'matched', integrationId: 'A1' });
  });

  test('an empty value adds no condition; a level with no values is skipped', () => {
    const levels = levelsOf([EMAIL, CITY, NAME]);
    const locals = [
      local('C1', { email: '  ', city: 'Oslo', name: 'x' }), // priority 0 on city alone
      local('C2', { email: null, city: null, name: 'Named' }), // priority 0 skipped, name at 1
      local('C3', { email: null, city: '', name: null }), // nothing to match on
    ];
    const candidates = [
      account('A1', { emailaddress1: 'whatever@x.example', address1_city: 'Oslo', name: 'y' }),
      account('A2', { emailaddress1: null, address1_city: null, name: 'Named' }),
    ];
    const outcomes = matchRecords({ levels, locals, candidates, coupledCandidateIds: new Set() });
    expect(outcomeOf(outcomes, 'C1')).toMatchObject({ kind: 'matched', integrationId: 'A1', priority: 0 });
    expect(outcomeOf(outcomes, 'C2')).toMatchObject({ kind: 'matched', integrationId: 'A2', priority: 1 });
    const c3 = outcomeOf(outcomes, 'C3');
    expect(c3).toMatchObject({ kind: 'unmatched', reason: 'noValues' });
    if (c3.kind === 'unmatched') expect(describeUnmatched({ outcome: c3, levels })).toMatch(/no value in any match field/);
  });

  test('an empty candidate value never matches a value', () => {
    const levels = levelsOf([EMAIL, CITY]);
    const outcomes = matchRecords({
      levels,
      locals: [local('C1', { email: 'a@x.example', city: 'Oslo' })],
      candidates: [account('A1', { emailaddress1: 'a@x.example', address1_city: null })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomes[0]).toMatchObject({ kind: 'unmatched', reason: 'noCandidate' });
  });

  test('values are compared after the field transformation of the local value', () => {
    const levels = levelsOf([{ ...EMAIL, transformation: [{ type: 'regexReplace', pattern: '@old\\.example$', replaceWith: '@new.example' }] }]);
    const outcomes = matchRecords({
      levels,
      locals: [local('C1', { email: 'ada@old.example' })],
      candidates: [account('A1', { emailaddress1: 'ada@old.example' }), account('A2', { emailaddress1: 'ADA@new.example' })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomes[0]).toMatchObject({ kind: 'matched', integrationId: 'A2' });
  });

  test('already-coupled candidates are never taken', () => {
    const levels = levelsOf([EMAIL, NAME]);
    const outcomes = matchRecords({
      levels,
      locals: [local('C1', { email: 'a@x.example', name: 'Solo' }), local('C2', { email: 'b@x.example', name: 'Pair' })],
      candidates: [
        account('A1', { emailaddress1: 'a@x.example', name: 'Solo' }),
        account('B1', { emailaddress1: 'b@x.example', name: 'Pair' }),
        account('B2', { emailaddress1: 'b@x.example', name: 'Other' }),
      ],
      coupledCandidateIds: new Set(['A1', 'B2']),
    });
    const c1 = outcomeOf(outcomes, 'C1');
    expect(c1).toMatchObject({ kind: 'unmatched', reason: 'candidateCoupled', candidateIds: ['A1'] });
    if (c1.kind === 'unmatched') expect(describeUnmatched({ outcome: c1, levels })).toMatch(/candidate already coupled A1/);
    // B2 is coupled, so B1 is the one uncoupled candidate.
    expect(outcomeOf(outcomes, 'C2')).toMatchObject({ kind: 'matched', integrationId: 'B1', priority: 0 });
  });

  test('records claiming one candidate at the same priority: the smallest id wins, whatever the order given; the others try the next priority', () => {
    const levels = levelsOf([EMAIL, NAME]);
    const outcomes = matchRecords({
      levels,
      locals: [
        local('C3', { email: 'same@x.example', name: 'Third' }),
        local('C2', { email: 'same@x.example', name: 'Second' }),
        local('C1', { email: 'same@x.example', name: 'First' }),
      ],
      candidates: [account('A1', { emailaddress1: 'same@x.example', name: 'x' }), account('A2', { emailaddress1: 'other@x.example', name: 'Second' })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomeOf(outcomes, 'C1')).toMatchObject({ kind: 'matched', integrationId: 'A1', priority: 0 });
    expect(outcomeOf(outcomes, 'C2')).toMatchObject({ kind: 'matched', integrationId: 'A2', priority: 1 });
    const c3 = outcomeOf(outcomes, 'C3');
    expect(c3).toMatchObject({ kind: 'unmatched', reason: 'contested', candidateIds: ['A1'] });
    if (c3.kind === 'unmatched') expect(describeUnmatched({ outcome: c3, levels })).toMatch(/candidate A1 went to local record C1/);
  });

  test('a stronger (earlier-priority) match wins over a later-priority one for the same candidate', () => {
    const levels = levelsOf([EMAIL, NAME]);
    const outcomes = matchRecords({
      levels,
      // C1 reaches A1 only by name (priority 1); C2 by email (priority 0).
      locals: [local('C1', { email: 'none@x.example', name: 'Acme' }), local('C2', { email: 'acme@x.example', name: 'Different' })],
      candidates: [account('A1', { emailaddress1: 'acme@x.example', name: 'Acme' })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomeOf(outcomes, 'C2')).toMatchObject({ kind: 'matched', integrationId: 'A1', priority: 0 });
    expect(outcomeOf(outcomes, 'C1')).toMatchObject({ kind: 'unmatched', reason: 'candidateCoupled' });
  });

  test('a candidate is free or not as the round started: a record with two candidates is ambiguous even when another record takes one', () => {
    const levels = levelsOf([EMAIL]);
    const outcomes = matchRecords({
      levels,
      locals: [local('C1', { email: 'a@x.example' }), local('C2', { email: 'a@x.example' })],
      candidates: [account('A1', { emailaddress1: 'a@x.example' }), account('A2', { emailaddress1: 'a@x.example' })],
      coupledCandidateIds: new Set(),
    });
    expect(outcomes.map((o) => o.kind)).toEqual(['unmatched', 'unmatched']);
    expect(outcomeOf(outcomes, 'C1')).toMatchObject({ reason: 'several', candidateIds: ['A1', 'A2'] });
  });

  test('a record whose candidate list was cut short is never coupled at that level', () => {
    const [level] = levelsOf([EMAIL]);
    const results = levelResults({
      level,
      locals: [local('C1', { email: 'a@x.example' })],
      candidates: [account('A1', { emailaddress1: 'a@x.example' })],
      unavailable: new Set(),
      undecidable: new Set(['C1']),
    });
    expect(trailOutcome('C1', [results.get('C1')!])).toMatchObject({ kind: 'unmatched', reason: 'several' });
  });

  test('ids compare in code-point order, as SQLite (BINARY) and PostgreSQL ("C") order them', () => {
    expect(compareCodePoints('C10', 'C9')).toBeLessThan(0);
    expect(compareCodePoints('a', 'B')).toBeGreaterThan(0);
    // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF5E in code points, though not in code units.
    expect(compareCodePoints('\u{1F600}', '\uFF5E')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uFF5E').toBe(true);
  });

  test('linear in records and candidates: 20,000 x 20,000 through the index', () => {
    const levels = levelsOf([EMAIL, NAME]);
    const n = 20_000;
    const locals = Array.from({ length: n }, (_, i) => local(`C${i}`, { email: `u${i}@x.example`, name: `Name ${i}` }));
    const candidates = Array.from({ length: n }, (_, i) => account(`A${i}`, { emailaddress1: i % 2 ? `U${i}@X.example ` : 'nobody', name: `name ${i}` }));
    const started = Date.now();
    const outcomes = matchRecords({ levels, locals, candidates, coupledCandidateIds: new Set() });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcomes.every((o, i) => o.kind === 'matched' && o.integrationId === `A${i}` && o.priority === (i % 2 ? 0 : 1))).toBe(true);
  });
});

describe('levelQueries', () => {
  test('one query per combination of fields with values, with distinct normalized values', () => {
    const [level] = levelsOf([EMAIL, CITY]);
    const queries = levelQueries({
      level,
      locals: [
        local('C1', { email: ' A@x.example', city: 'Zürich' }),
        local('C2', { email: 'a@X.example', city: 'ZÜRICH ' }),
        local('C3', { email: null, city: 'Oslo' }),
        local('C4', { email: null, city: null }),
      ],
    });
    expect(queries).toEqual([
      {
        mask: [0, 1],
        locals: [expect.objectContaining({ id: 'C1' }), expect.objectContaining({ id: 'C2' })],
        conditions: [
          { field: 'emailaddress1', values: ['a@x.example'], caseSensitive: false },
          { field: 'address1_city', values: ['zürich'], caseSensitive: false },
        ],
      },
      { mask: [1], locals: [expect.objectContaining({ id: 'C3' })], conditions: [{ field: 'address1_city', values: ['oslo'], caseSensitive: false }] },
    ]);
  });
});
