/**
 * fast-check arbitraries for the model-based tests: mapping settings, seeds and
 * operation sequences over the small world of ./world. Values come from tiny
 * pools so that matches, conflicts and filter hits are common; ids come from a
 * small pool too (C1..C5 / A1..A5 and the ids the engine creates from them), so
 * operations mostly meet records that exist, and sometimes ones that do not.
 */
import fc from 'fast-check';
import {
  createdId,
  type FieldSetting,
  type FilterSetting,
  type MappingDirection,
  type MappingSettings,
  type Operation,
  type SeedRecord,
  type Side,
  type SyncDirection,
  type Values,
  COLUMNS,
} from './world';

/** One generated case: what the runner gives both the engine and the model. */
export interface Scenario {
  settings: MappingSettings;
  seed: { local: SeedRecord[]; integration: SeedRecord[] };
  operations: Operation[];
}

const SEED_IDS: Record<Side, string[]> = { local: ['C1', 'C2', 'C3', 'C4', 'C5'], integration: ['A1', 'A2', 'A3', 'A4', 'A5'] };
/** Ids the engine creates from the other side's seed ids, so edits can meet created records too. */
const CREATED_IDS: Record<Side, string[]> = {
  local: SEED_IDS.integration.map((id) => createdId('local', id)),
  integration: SEED_IDS.local.map((id) => createdId('integration', id)),
};
const MISSING_ID: Record<Side, string> = { local: 'C9', integration: 'A9' };

/**
 * Values per column index (the same on both sides, so pairs match and differ
 * often). POISON only where it is not guarded on the side being written: a local
 * name "Ann!" fails when a sync writes it to the integration name; an
 * integration city "Oslo!" fails when written to the local city.
 */
const POOLS: Record<Side, (string | null)[][]> = {
  local: [
    ['Ann', 'Bob', 'ann', ' Bob ', 'Cy', null, 'Ann!'],
    ['a@x', 'b@x', 'A@X', null],
    ['1', '2', '', null],
    ['Oslo', 'Rome', null],
  ],
  integration: [
    ['Ann', 'Bob', 'ann', ' Bob ', 'Cy', null],
    ['a@x', 'b@x', 'A@X', null],
    ['1', '2', '', null],
    ['Oslo', 'Rome', null, 'Oslo!'],
  ],
};

/** Drops the keys whose value is undefined, so printed counterexamples read like hand-written literals. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Present one time in `oneIn`, absent otherwise; shrinks towards absent. */
function sometimes<T>(arb: fc.Arbitrary<T>, oneIn = 2): fc.Arbitrary<T | undefined> {
  return fc.tuple(fc.nat({ max: oneIn - 1 }), arb).map(([k, v]) => (k === oneIn - 1 ? v : undefined));
}

const syncDirection: fc.Arbitrary<SyncDirection> = fc.constantFrom('ToIntegrationTable', 'FromIntegrationTable');
const mappingDirection: fc.Arbitrary<MappingDirection> = fc.constantFrom('Bidirectional', 'ToIntegrationTable', 'FromIntegrationTable');
/** Field directions: bidirectional half the time, since only those conflict. */
const fieldDirection: fc.Arbitrary<MappingDirection> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<MappingDirection>('Bidirectional') },
  { weight: 2, arbitrary: syncDirection },
);

export function valueArb(side: Side, column: number): fc.Arbitrary<string | null> {
  return fc.constantFrom(...POOLS[side][column]);
}

/** All columns of a record. */
export function fullValuesArb(side: Side): fc.Arbitrary<Values> {
  return fc
    .tuple(valueArb(side, 0), valueArb(side, 1), valueArb(side, 2), valueArb(side, 3))
    .map((vs) => Object.fromEntries(COLUMNS[side].map((c, i) => [c, vs[i]])));
}

/** One or two columns of an edit. */
export function editValuesArb(side: Side): fc.Arbitrary<Values> {
  return fc
    .record({ columns: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }), all: fullValuesArb(side) })
    .map(({ columns, all }) => Object.fromEntries(columns.map((i) => [COLUMNS[side][i], all[COLUMNS[side][i]]])));
}

/**
 * Mostly seed ids, some created ids, rarely one that never exists; lower
 * numbers more often, so edits on both sides meet the same coupled pair.
 */
export function idArb(side: Side): fc.Arbitrary<string> {
  const weighted = (ids: string[], weights: number[]): fc.WeightedArbitrary<string>[] =>
    ids.map((id, i) => ({ arbitrary: fc.constant(id), weight: weights[i] }));
  return fc.oneof(...weighted(SEED_IDS[side], [6, 5, 4, 3, 2]), ...weighted(CREATED_IDS[side], [3, 2, 1, 1, 1]), {
    weight: 1,
    arbitrary: fc.constant(MISSING_ID[side]),
  });
}

const idsArb = (side: Side): fc.Arbitrary<string[]> => fc.array(idArb(side), { minLength: 1, maxLength: 3 });

/** 0-5 records per side; each seed id is there three times in four, so most operations meet a record. */
export function seedArb(): fc.Arbitrary<Scenario['seed']> {
  const records = (side: Side): fc.Arbitrary<SeedRecord[]> =>
    fc
      .tuple(
        ...SEED_IDS[side].map((id) =>
          fc.option(
            fullValuesArb(side).map((values) => ({ id, values })),
            { nil: null, freq: 4 },
          ),
        ),
      )
      .map((rs) => rs.filter((r): r is SeedRecord => r !== null));
  return fc.record({ local: records('local'), integration: records('integration') });
}

const fieldArb: fc.Arbitrary<FieldSetting> = fc
  .record({
    column: fc.integer({ min: 0, max: 3 }),
    direction: fieldDirection,
    uppercase: sometimes(mappingDirection, 4),
    matchPriority: sometimes(fc.integer({ min: 0, max: 2 }), 2),
  })
  .map(compact);

const FILTERS: Record<Side, FilterSetting[]> = {
  local: [
    { column: 0, notEqual: 'Bob' },
    { column: 0, notEqual: 'Ann' },
    { column: 3, notEqual: 'Rome' },
    { column: 1, notEqual: 'b@x' },
  ],
  integration: [
    { column: 0, notEqual: 'Bob' },
    { column: 0, notEqual: 'Cy' },
    { column: 3, notEqual: 'Oslo' },
  ],
};
const filterArb = (side: Side): fc.Arbitrary<FilterSetting[]> => sometimes(fc.constantFrom(...FILTERS[side]), 3).map((f) => (f ? [f] : []));

/**
 * Mapping settings. Every direction the mapping runs has a field, except in about
 * one mapping in twenty, where runs in the uncovered direction are refused.
 */
export function settingsArb(): fc.Arbitrary<MappingSettings> {
  return fc
    .record({
      direction: fc.oneof({ weight: 3, arbitrary: fc.constant<MappingDirection>('Bidirectional') }, { weight: 2, arbitrary: syncDirection }),
      syncOnlyCoupledRecords: fc.boolean(),
      updateConflictResolution: fc.constantFrom<MappingSettings['updateConflictResolution']>('None', 'SendToIntegration', 'GetFromIntegration'),
      deletionConflictResolution: fc.constantFrom<MappingSettings['deletionConflictResolution']>('None', 'RemoveCoupling', 'RestoreRecords'),
      sourceDeletion: fc.constantFrom<MappingSettings['sourceDeletion']>('KeepCoupling', 'RemoveCoupling', 'DeleteCounterpart'),
      fields: fc.uniqueArray(fieldArb, { selector: (f) => f.column, minLength: 1, maxLength: 4 }),
      tableFilter: filterArb('local'),
      integrationTableFilter: filterArb('integration'),
      uncovered: fc.integer({ min: 0, max: 19 }).map((n) => n === 19),
    })
    .map(({ uncovered, ...settings }) => {
      let withPriority = 0;
      // Match priorities on at most 3 fields.
      const fields = settings.fields.map((f) => (f.matchPriority !== undefined && ++withPriority > 3 ? compact({ ...f, matchPriority: undefined }) : f));
      return uncovered ? { ...settings, fields } : cover({ ...settings, fields });
    });
}

/** The first field carries a direction the mapping runs that no field covers. */
function cover(settings: MappingSettings): MappingSettings {
  const fields = [...settings.fields];
  const carries = (d: SyncDirection): boolean => fields.some((f) => f.direction === d || f.direction === 'Bidirectional');
  const needed: SyncDirection[] = settings.direction === 'Bidirectional' ? ['ToIntegrationTable', 'FromIntegrationTable'] : [settings.direction];
  if (!needed.every(carries)) fields[0] = { ...fields[0], direction: settings.direction };
  return { ...settings, fields };
}

const batchArb = fc.record({ batchSize: fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(500)), maxBatchesInFlight: fc.integer({ min: 1, max: 8 }) });

function perSide<T>(make: (side: Side) => fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof(make('local'), make('integration'));
}

const editArb = perSide((side) => fc.record({ op: fc.constant('edit' as const), side: fc.constant(side), id: idArb(side), values: editValuesArb(side) }));
const createArb = perSide((side) => fc.record({ op: fc.constant('create' as const), side: fc.constant(side), id: idArb(side), values: fullValuesArb(side) }));
const deleteArb = perSide((side) => fc.record({ op: fc.constant('delete' as const), side: fc.constant(side), id: idArb(side) }));

const bulkSyncArb: fc.Arbitrary<Operation> = fc
  .record({
    direction: sometimes(syncDirection, 3),
    fullSync: sometimes(fc.constant(true), 5),
    ids: sometimes(
      fc.oneof(
        idsArb('local').map((recordIds) => ({ recordIds, side: undefined as Side | undefined })),
        fc.record({ recordIds: idsArb('local'), side: fc.constant<Side>('local') }),
        fc.record({ recordIds: idsArb('integration'), side: fc.constant<Side>('integration') }),
      ),
      5,
    ),
    batch: batchArb,
  })
  .map(({ direction, fullSync, ids, batch }) => compact({ op: 'bulkSync' as const, direction, fullSync, ...(ids ?? {}), ...batch }));

const singleSyncArb: fc.Arbitrary<Operation> = perSide((side) =>
  fc
    .record({ recordId: idArb(side), direction: sometimes(syncDirection) })
    .map(({ recordId, direction }) => compact({ op: 'singleSync' as const, recordId, side, direction })),
);

const retryFailedArb: fc.Arbitrary<Operation> = fc
  .record({ includeSkipped: sometimes(fc.constant(true)), direction: sometimes(syncDirection) })
  .map((r) => compact({ op: 'retryFailed' as const, ...r }));

const matchArb: fc.Arbitrary<Operation> = fc
  .record({
    recordIds: sometimes(idsArb('local'), 3),
    createNewIfNoMatch: sometimes(fc.constant(true)),
    syncAfterCoupling: sometimes(fc.constant(true)),
    batch: batchArb,
  })
  .map(({ batch, ...r }) => compact({ op: 'matchBasedCoupling' as const, ...r, ...batch }));

const setUpArb: fc.Arbitrary<Operation> = fc
  .record({ localId: idArb('local'), integrationId: idArb('integration'), syncAfter: sometimes(fc.constant(true)) })
  .map((r) => compact({ op: 'setUpCoupling' as const, ...r }));

const uncoupleArb: fc.Arbitrary<Operation> = perSide((side) =>
  fc.record({ op: fc.constant('uncouple' as const), recordIds: idsArb(side), side: fc.constant(side) }),
);

/** One operation, edits and bulk syncs most often. */
export const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 26, arbitrary: editArb },
  { weight: 20, arbitrary: bulkSyncArb },
  { weight: 6, arbitrary: createArb },
  { weight: 8, arbitrary: deleteArb },
  { weight: 9, arbitrary: singleSyncArb },
  { weight: 6, arbitrary: retryFailedArb },
  { weight: 6, arbitrary: matchArb },
  { weight: 6, arbitrary: setUpArb },
  { weight: 3, arbitrary: uncoupleArb },
  { weight: 1, arbitrary: fc.constant<Operation>({ op: 'uncoupleAll' }) },
);

/**
 * Edits of a local record and of the record it is most likely coupled to (the
 * one created from it, or the integration record with its number), all columns:
 * the "changed on both sides" situations that independent edits rarely produce.
 */
const editPairArb: fc.Arbitrary<Operation[]> = fc
  .record({ n: fc.integer({ min: 1, max: 3 }), created: fc.boolean(), local: fullValuesArb('local'), integration: fullValuesArb('integration') })
  .map(({ n, created, local, integration }): Operation[] => [
    { op: 'edit', side: 'local', id: `C${n}`, values: local },
    { op: 'edit', side: 'integration', id: created ? createdId('integration', `C${n}`) : `A${n}`, values: integration },
  ]);

/** Set Up Coupling of C_n and A_n, the pair edit pairs aim at. */
const couplePairArb: fc.Arbitrary<Operation[]> = fc
  .record({ n: fc.integer({ min: 1, max: 3 }), syncAfter: sometimes(fc.constant(true)) })
  .map(({ n, syncAfter }): Operation[] => [compact({ op: 'setUpCoupling' as const, localId: `C${n}`, integrationId: `A${n}`, syncAfter })]);

/** A deletion of one side of a likely pair: what makes the deletion rules matter. */
const deletePairSideArb: fc.Arbitrary<Operation[]> = fc
  .record({ n: fc.integer({ min: 1, max: 3 }), which: fc.constantFrom('local', 'integration', 'created') })
  .map(({ n, which }): Operation[] => [
    which === 'local'
      ? { op: 'delete', side: 'local', id: `C${n}` }
      : { op: 'delete', side: 'integration', id: which === 'created' ? createdId('integration', `C${n}`) : `A${n}` },
  ]);

export function scenarioArb(options: { minSteps?: number; maxSteps?: number } = {}): fc.Arbitrary<Scenario> {
  const maxSteps = options.maxSteps ?? 25;
  const group = fc.oneof(
    { weight: 16, arbitrary: operationArb.map((o) => [o]) },
    { weight: 3, arbitrary: editPairArb },
    { weight: 1, arbitrary: couplePairArb },
    { weight: 1, arbitrary: deletePairSideArb },
  );
  return fc.record({
    settings: settingsArb(),
    seed: seedArb(),
    operations: fc.array(group, { minLength: options.minSteps ?? 5, maxLength: maxSteps, size: 'max' }).map((groups) => groups.flat().slice(0, maxSteps)),
  });
}
