/**
 * Scenarios every engine adapter replays with `runScenario` (and the model's own
 * test checks they still run clean on the model). A failing model check prints
 * its minimized counterexample as an entry for this list: paste it at the end
 * and say in `name` what it shows.
 *
 * The first entries are not counterexamples but the `// SPEC:` choices most
 * likely to differ in an engine, as sequences that reach them.
 */
import type { Scenario } from './generators';
import type { MappingSettings } from './world';

export interface Regression {
  name: string;
  scenario: Scenario;
}

const BATCH = { batchSize: 2, maxBatchesInFlight: 2 };
const settings = (overrides: Partial<MappingSettings>): MappingSettings => ({
  direction: 'Bidirectional',
  syncOnlyCoupledRecords: false,
  updateConflictResolution: 'None',
  deletionConflictResolution: 'None',
  sourceDeletion: 'KeepCoupling',
  fields: [{ column: 0, direction: 'Bidirectional' }],
  tableFilter: [],
  integrationTableFilter: [],
  ...overrides,
});
const local = (id: string, name: string | null, city: string | null = null): Scenario['seed']['local'][number] => ({
  id,
  values: { name, email: null, phone: null, city },
});
const account = (id: string, name: string | null, city: string | null = null): Scenario['seed']['integration'][number] => ({
  id,
  values: { name, emailaddress1: null, telephone1: null, address1_city: city },
});

export const REGRESSIONS: Regression[] = [
  {
    name: 'a single sync from the side whose direction maps no field still follows the conflict rule to the other direction',
    scenario: {
      settings: settings({
        direction: 'Bidirectional',
        updateConflictResolution: 'SendToIntegration',
        fields: [{ column: 0, direction: 'ToIntegrationTable' }],
      }),
      seed: { local: [], integration: [{ id: 'A2', values: { name: 'Ann', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo' } }] },
      operations: [
        { op: 'create', side: 'local', id: 'C2', values: { name: 'Ann', email: 'a@x', phone: '1', city: 'Oslo' } },
        { op: 'setUpCoupling', localId: 'C2', integrationId: 'A2' },
        { op: 'singleSync', recordId: 'A2', side: 'integration' },
      ],
    },
  },
  {
    name: "SPEC: a single sync's failed create is retried by the next run although the mapping syncs only coupled records",
    scenario: {
      settings: settings({ direction: 'ToIntegrationTable', syncOnlyCoupledRecords: true, fields: [{ column: 0, direction: 'ToIntegrationTable' }] }),
      seed: { local: [local('C1', 'Ann!')], integration: [] },
      operations: [
        { op: 'singleSync', recordId: 'C1', side: 'local' },
        { op: 'bulkSync', ...BATCH },
        { op: 'edit', side: 'local', id: 'C1', values: { name: 'Ann' } },
        { op: 'bulkSync', ...BATCH },
        { op: 'retryFailed', includeSkipped: true },
      ],
    },
  },
  {
    name: 'SPEC: a record uncoupled and created again merges into its canonical id (modified, coupled)',
    scenario: {
      settings: settings({ direction: 'ToIntegrationTable' }),
      seed: { local: [local('C1', 'Ann')], integration: [] },
      operations: [
        { op: 'bulkSync', ...BATCH },
        { op: 'uncoupleAll' },
        { op: 'edit', side: 'local', id: 'C1', values: { name: 'Bob' } },
        { op: 'bulkSync', ...BATCH },
      ],
    },
  },
  {
    name: 'SPEC: a create whose canonical id is coupled to another record fails as coupled elsewhere',
    scenario: {
      settings: settings({}),
      seed: { local: [local('C1', 'Ann')], integration: [] },
      operations: [
        { op: 'bulkSync', ...BATCH },
        { op: 'uncoupleAll' },
        { op: 'bulkSync', direction: 'FromIntegrationTable', fullSync: true, ...BATCH }, // creates L(I(C1)), coupled to I(C1)
        { op: 'edit', side: 'local', id: 'C1', values: { name: 'Bob' } },
        { op: 'bulkSync', direction: 'ToIntegrationTable', ...BATCH },
      ],
    },
  },
  {
    name: 'SPEC: given ids on the destination side are mapped through couplings; uncoupled ones are left to their own pass, missing ones get notFound in each pass',
    scenario: {
      settings: settings({}),
      seed: { local: [local('C1', 'Ann')], integration: [account('A1', 'Ann'), account('A2', 'Cy')] },
      operations: [
        { op: 'setUpCoupling', localId: 'C1', integrationId: 'A1' },
        { op: 'bulkSync', recordIds: ['A1', 'A2', 'A9'], side: 'integration', ...BATCH },
      ],
    },
  },
  {
    name: 'SPEC: a single sync with both sides changed and no rule fails (and skips at once) only when a bidirectional field differs',
    scenario: {
      settings: settings({
        syncOnlyCoupledRecords: true,
        fields: [
          { column: 0, direction: 'Bidirectional' },
          { column: 3, direction: 'ToIntegrationTable' },
        ],
      }),
      seed: { local: [local('C1', 'Ann', 'Oslo'), local('C2', 'Bob', 'Oslo')], integration: [account('A1', 'Ann', 'Rome'), account('A2', 'Cy', 'Rome')] },
      operations: [
        { op: 'setUpCoupling', localId: 'C1', integrationId: 'A1' },
        { op: 'setUpCoupling', localId: 'C2', integrationId: 'A2' },
        { op: 'singleSync', recordId: 'C1', side: 'local' },
        { op: 'singleSync', recordId: 'C2', side: 'local' },
      ],
    },
  },
  {
    name: 'SPEC: DeleteCounterpart does not delete a never-synced counterpart: it counts as changed, the record fails',
    scenario: {
      settings: settings({ syncOnlyCoupledRecords: true, sourceDeletion: 'DeleteCounterpart' }),
      seed: { local: [local('C1', 'Ann')], integration: [account('A1', 'Ann')] },
      operations: [
        { op: 'setUpCoupling', localId: 'C1', integrationId: 'A1' },
        { op: 'delete', side: 'local', id: 'C1' },
        { op: 'bulkSync', ...BATCH },
      ],
    },
  },
  {
    name: 'retrying skipped records decides them as changed: a skipped coupling retried in its other direction records the agreeing values and leaves the failing one pending',
    scenario: {
      settings: settings({
        fields: [
          { column: 3, direction: 'FromIntegrationTable' },
          { column: 0, direction: 'Bidirectional' },
        ],
      }),
      seed: { local: [], integration: [{ id: 'A2', values: { name: 'Ann', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo' } }] },
      operations: [
        { op: 'bulkSync', batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'edit', side: 'integration', id: 'A2', values: { name: 'Ann', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo!' } },
        { op: 'bulkSync', batchSize: 500, maxBatchesInFlight: 1 },
        { op: 'retryFailed' },
        { op: 'retryFailed', includeSkipped: true },
      ],
    },
  },
  {
    name: 'a single sync of a skipped coupling infers its direction from what changed: a pending flag of a skipped coupling does not count',
    scenario: {
      settings: settings({}),
      seed: { local: [local('C1', 'Ann')], integration: [account('A3', 'Ann')] },
      operations: [
        { op: 'setUpCoupling', localId: 'C1', integrationId: 'A3' },
        { op: 'bulkSync', direction: 'ToIntegrationTable', batchSize: 500, maxBatchesInFlight: 1 },
        { op: 'edit', side: 'local', id: 'C1', values: { name: 'ann' } },
        { op: 'bulkSync', batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'bulkSync', batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'singleSync', recordId: 'A3', side: 'integration' },
      ],
    },
  },
  {
    name: 'activities: create-new after an uncouple-all names the record it created before: coupled as found, neither inserted nor synchronized after coupling',
    scenario: {
      settings: {
        direction: 'Bidirectional',
        syncOnlyCoupledRecords: false,
        updateConflictResolution: 'None',
        deletionConflictResolution: 'None',
        sourceDeletion: 'KeepCoupling',
        fields: [{ column: 0, direction: 'Bidirectional', matchPriority: 0 }],
        tableFilter: [],
        integrationTableFilter: [],
      },
      seed: {
        local: [{ id: 'C4', values: { name: 'Bob', email: 'a@x', phone: '1', city: 'Oslo' } }],
        integration: [
          { id: 'A2', values: { name: ' Bob ', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo' } },
          { id: 'A5', values: { name: 'Bob', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo' } },
        ],
      },
      operations: [
        { op: 'matchBasedCoupling', createNewIfNoMatch: true, batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'uncoupleAll' },
        { op: 'matchBasedCoupling', createNewIfNoMatch: true, syncAfterCoupling: true, batchSize: 1, maxBatchesInFlight: 1 },
      ],
    },
  },
  {
    name: 'activities: a single sync that restores a deleted counterpart counts no coupling made (the restore replaces one)',
    scenario: {
      settings: {
        direction: 'Bidirectional',
        syncOnlyCoupledRecords: false,
        updateConflictResolution: 'None',
        deletionConflictResolution: 'RestoreRecords',
        sourceDeletion: 'KeepCoupling',
        fields: [{ column: 0, direction: 'Bidirectional' }],
        tableFilter: [],
        integrationTableFilter: [],
      },
      seed: { local: [{ id: 'C1', values: { name: 'Ann', email: 'a@x', phone: '1', city: 'Oslo' } }], integration: [] },
      operations: [
        { op: 'bulkSync', batchSize: 500, maxBatchesInFlight: 1 },
        { op: 'delete', side: 'local', id: 'C1' },
        { op: 'singleSync', recordId: 'I(C1)', side: 'integration' },
      ],
    },
  },
  {
    name: 'activities: a given id outside the filter whose coupling is skipped is counted skipped, not refused',
    scenario: {
      settings: {
        direction: 'Bidirectional',
        syncOnlyCoupledRecords: false,
        updateConflictResolution: 'None',
        deletionConflictResolution: 'None',
        sourceDeletion: 'KeepCoupling',
        fields: [
          { column: 0, direction: 'Bidirectional' },
          { column: 1, direction: 'Bidirectional', matchPriority: 0 },
        ],
        tableFilter: [],
        integrationTableFilter: [{ column: 0, notEqual: 'Cy' }],
      },
      seed: { local: [{ id: 'C1', values: { name: 'Cy', email: 'a@x', phone: '1', city: 'Oslo' } }], integration: [] },
      operations: [
        { op: 'matchBasedCoupling', createNewIfNoMatch: true, batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'edit', side: 'local', id: 'C1', values: { name: 'Ann!', email: 'a@x', phone: '1', city: 'Oslo' } },
        { op: 'bulkSync', batchSize: 1, maxBatchesInFlight: 1 },
        { op: 'bulkSync', recordIds: ['C1'], batchSize: 500, maxBatchesInFlight: 1 },
      ],
    },
  },
  ...(['A1,I(C1)/500/1', 'A1,I(C1)/1/1', 'I(C1),A1/1/1', 'A1,I(C1)/1/2'] as const).map((shape): Regression => {
    const [ids, batchSize, inFlight] = shape.split('/');
    return {
      name: `activities: ids of the other side are resolved when the pass starts: one its restore creates later is still notFound (${shape})`,
      scenario: {
        settings: settings({
          direction: 'ToIntegrationTable',
          deletionConflictResolution: 'RestoreRecords',
          fields: [{ column: 0, direction: 'Bidirectional', matchPriority: 0 }],
        }),
        seed: {
          local: [{ id: 'C1', values: { name: 'Ann', email: 'a@x', phone: '1', city: 'Oslo' } }],
          integration: [{ id: 'A1', values: { name: 'Ann', emailaddress1: 'a@x', telephone1: '1', address1_city: 'Oslo' } }],
        },
        operations: [
          { op: 'matchBasedCoupling', batchSize: 1, maxBatchesInFlight: 1 },
          { op: 'delete', side: 'integration', id: 'A1' },
          { op: 'bulkSync', recordIds: ids.split(','), side: 'integration', batchSize: Number(batchSize), maxBatchesInFlight: Number(inFlight) },
        ],
      },
    };
  }),
];
