/**
 * Malformed inputs for every workflow, each with the field its failure message
 * must name. The same entries go through the typed client and, raw, the way
 * the Web UI starts a workflow (any JSON, no client-side validation).
 *
 * `stage` says who refuses it: 'schema' inputs break the shared zod schema, so
 * the typed client throws before anything starts and the workflow's first step
 * fails; 'worker' inputs are well-formed but name something that does not exist
 * (a mapping, a column), that the mapping forbids, or state only a run writes
 * (a continuation cursor), so the workflow or an activity refuses them before
 * any row is written.
 */
import { MAX_RECORD_IDS } from '../../common/constants';
import type { INPUT_SCHEMAS } from '../../common/inputs';

export type WorkflowKind = keyof typeof INPUT_SCHEMAS;

export type Category =
  'wrong type' | 'missing field' | 'extra field' | 'size' | 'nesting' | 'number' | 'unicode' | 'injection' | 'unknown name' | 'not an object';

export interface BadInput {
  label: string;
  workflow: WorkflowKind;
  input: unknown;
  /** Text the failure message must contain: the field's path as the message spells it. */
  field: string;
  stage: 'schema' | 'worker';
  category: Category;
  /** Set when the typed client cannot express the input at all; the entry then goes only through a raw start. */
  rawOnly?: string;
}

/** Mappings the test store holds (besides CUSTOMER), so 'worker' entries can name them. */
export const FIXTURE_MAPPINGS = {
  /** A mapping whose field mappings name columns the tables do not have. */
  badFields: 'BAD_FIELDS',
  /** A mapping that only reads from the integration side. */
  fromOnly: 'FROM_ONLY',
  /** A mapping whose local.system is "constructor": a name Object's prototype has. */
  protoSystem: 'PROTO_SYSTEM',
  /** A mapping that writes the integration table's id column. */
  writesId: 'WRITES_ID',
  /** Stored by an older version past today's save checks: a regexReplace pattern with a backreference (exponential on a backtracking engine). */
  legacyRegex: 'LEGACY_REGEX',
  /** Stored by an older version past today's save checks: a table filter "contains" with no value. */
  legacyFilter: 'LEGACY_FILTER',
  /** Depends on a mapping that was never saved (allowed at save; a full synchronization refuses it). */
  dependsOnUnsaved: 'DEPENDS_ON_UNSAVED',
} as const;

/** The mapping DEPENDS_ON_UNSAVED names in dependsOn, which the store does not hold. */
export const UNSAVED_DEPENDENCY = 'NEVER_SAVED';

export const WORKFLOW_TYPES: Record<WorkflowKind, string> = {
  bulkSync: 'bulkSyncWorkflow',
  singleSync: 'singleSyncWorkflow',
  retryFailed: 'retryFailedWorkflow',
  matchBasedCoupling: 'matchBasedCouplingWorkflow',
  setUpCoupling: 'setUpCouplingWorkflow',
  uncouple: 'uncoupleWorkflow',
  describeMapping: 'describeMappingWorkflow',
  fullSynchronization: 'fullSynchronizationWorkflow',
  liveSync: 'liveSyncWorkflow',
  logRetention: 'logRetentionWorkflow',
};

export const INJECTIONS = [
  "CUSTOMER'; DROP TABLE couplings; --",
  "x' OR '1'='1",
  '1; DELETE FROM account WHERE 1=1',
  "') UNION SELECT name FROM sqlite_master --",
  '%',
  '_',
  '\\',
  "Robert'); DROP TABLE customer;--",
] as const;

/** Nested objects `depth` levels deep: { a: { a: ... { a: 1 } } }. */
export function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** Nested lists `depth` levels deep: [[[ ... 1 ... ]]]. */
export function nestedList(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const manyIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `C${i}`);

const RTL = '\u202E';
const NUL = '\u0000';
const EMOJI = '\u{1F600}';
const ALL_KINDS: WorkflowKind[] = ['bulkSync', 'singleSync', 'retryFailed', 'matchBasedCoupling', 'setUpCoupling', 'uncouple', 'describeMapping', 'liveSync'];

/** The smallest valid input of each workflow (besides the mapping), so an entry breaks one thing at a time. */
const BASE: Record<WorkflowKind, Record<string, unknown>> = {
  bulkSync: {},
  singleSync: { recordId: 'C1' },
  retryFailed: {},
  matchBasedCoupling: {},
  setUpCoupling: { localId: 'C1', integrationId: 'A1' },
  uncouple: { recordIds: ['C1'] },
  describeMapping: {},
  fullSynchronization: { mappings: ['CUSTOMER'] },
  liveSync: {},
  logRetention: { days: 7 },
};

const withMapping = (kind: WorkflowKind, extra: Record<string, unknown> = {}, mapping: unknown = 'CUSTOMER'): Record<string, unknown> => ({
  mapping,
  ...BASE[kind],
  ...extra,
});

function perWorkflow(): BadInput[] {
  const out: BadInput[] = [];
  for (const kind of ALL_KINDS) {
    const base = BASE[kind];
    out.push(
      { label: 'no mapping', workflow: kind, input: { ...base }, field: '"mapping"', stage: 'schema', category: 'missing field' },
      { label: 'mapping is a number', workflow: kind, input: withMapping(kind, {}, 42), field: '"mapping"', stage: 'schema', category: 'wrong type' },
      { label: 'mapping carries SQL', workflow: kind, input: withMapping(kind, {}, INJECTIONS[0]), field: '"mapping"', stage: 'schema', category: 'injection' },
      {
        label: 'mapping with an emoji',
        workflow: kind,
        input: withMapping(kind, {}, `CUSTOMER${EMOJI}`),
        field: '"mapping"',
        stage: 'schema',
        category: 'unicode',
      },
      {
        label: 'unknown mapping',
        workflow: kind,
        input: withMapping(kind, {}, 'NO_SUCH_MAPPING'),
        field: '"mapping"',
        stage: 'worker',
        category: 'unknown name',
      },
      {
        label: 'mapping whose fields are not columns',
        workflow: kind,
        input: withMapping(kind, {}, FIXTURE_MAPPINGS.badFields),
        field: 'fields[0].localField',
        stage: 'worker',
        category: 'unknown name',
      },
    );
    if (kind === 'describeMapping') {
      out.push({
        label: 'unknown field',
        workflow: kind,
        input: withMapping(kind, { verbose: true }),
        field: '"verbose"',
        stage: 'schema',
        category: 'extra field',
        rawOnly: 'the typed describeMapping takes only the mapping name',
      });
    } else {
      out.push(
        { label: 'unknown field', workflow: kind, input: withMapping(kind, { dryRun: true }), field: '"dryRun"', stage: 'schema', category: 'extra field' },
        { label: 'input is a list', workflow: kind, input: [withMapping(kind)], field: 'expected one JSON object', stage: 'schema', category: 'not an object' },
        { label: 'input is a string', workflow: kind, input: 'CUSTOMER', field: 'expected one JSON object', stage: 'schema', category: 'not an object' },
        {
          label: 'retry override of the wrong type',
          workflow: kind,
          input: withMapping(kind, { retry: 'fast' }),
          field: '"retry"',
          stage: 'schema',
          category: 'wrong type',
        },
      );
    }
  }
  return out;
}

const bulkSync: BadInput[] = [
  {
    label: 'direction not an enum value',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', direction: 'Both' },
    field: '"direction"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction of a mapping, not a pass',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', direction: 'Bidirectional' },
    field: '"direction"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction is a number',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', direction: 1 },
    field: '"direction"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction with an RTL override',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', direction: `${RTL}ToIntegrationTable` },
    field: '"direction"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: '100,000 record ids',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: manyIds(100_000) },
    field: '"recordIds"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: `${MAX_RECORD_IDS + 1} record ids`,
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: manyIds(MAX_RECORD_IDS + 1) },
    field: '"recordIds"',
    stage: 'schema',
    category: 'size',
  },
  { label: 'empty id list', workflow: 'bulkSync', input: { mapping: 'CUSTOMER', recordIds: [] }, field: '"recordIds"', stage: 'schema', category: 'size' },
  {
    label: 'record ids as one string',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: 'C1,C2' },
    field: '"recordIds"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'numeric record id',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: [1, 2] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'empty record id',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: ['C1', ''] },
    field: '"recordIds[1]"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: '201-character record id',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: ['x'.repeat(201)] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'record id with a NUL byte',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: [`C1${NUL}`] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'record id that is an object',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', recordIds: [{ $ne: null }] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'side not an enum value',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', side: 'both' },
    field: '"side"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'fullSync as a string',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', fullSync: 'true' },
    field: '"fullSync"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'batchSize NaN',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', batchSize: Number.NaN },
    field: '"batchSize"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'batchSize "NaN"',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', batchSize: 'NaN' },
    field: '"batchSize"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'batchSize Infinity',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', batchSize: Number.POSITIVE_INFINITY },
    field: '"batchSize"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'batchSize "Infinity"',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', batchSize: 'Infinity' },
    field: '"batchSize"',
    stage: 'schema',
    category: 'number',
  },
  { label: 'batchSize -0', workflow: 'bulkSync', input: { mapping: 'CUSTOMER', batchSize: -0 }, field: '"batchSize"', stage: 'schema', category: 'number' },
  { label: 'batchSize 0.5', workflow: 'bulkSync', input: { mapping: 'CUSTOMER', batchSize: 0.5 }, field: '"batchSize"', stage: 'schema', category: 'number' },
  { label: 'batchSize 1e9', workflow: 'bulkSync', input: { mapping: 'CUSTOMER', batchSize: 1e9 }, field: '"batchSize"', stage: 'schema', category: 'number' },
  {
    label: 'maxBatchesInFlight -Infinity',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', maxBatchesInFlight: Number.NEGATIVE_INFINITY },
    field: '"maxBatchesInFlight"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'maxBatchesInFlight 33',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', maxBatchesInFlight: 33 },
    field: '"maxBatchesInFlight"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'batchesPerRun MAX_SAFE_INTEGER + 2',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', batchesPerRun: Number.MAX_SAFE_INTEGER + 2 },
    field: '"batchesPerRun"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'retry.maximumAttempts NaN',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', retry: { maximumAttempts: Number.NaN } },
    field: '"retry.maximumAttempts"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'retry.initialIntervalMs -0',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', retry: { initialIntervalMs: -0 } },
    field: '"retry.initialIntervalMs"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'unknown retry option',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', retry: { maximumAttempts: 2, backoff: 3 } },
    field: '"retry.backoff"',
    stage: 'schema',
    category: 'extra field',
  },
  {
    label: 'retry option nested 1,000 deep',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', retry: { maximumAttempts: nested(1000) } },
    field: '"retry.maximumAttempts"',
    stage: 'schema',
    category: 'nesting',
  },
  {
    label: 'unknown field nested 1,000 deep',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', options: nested(1000) },
    field: '"options"',
    stage: 'schema',
    category: 'nesting',
  },
  {
    label: 'field name in another case',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', Direction: 'ToIntegrationTable' },
    field: '"Direction"',
    stage: 'schema',
    category: 'unknown name',
  },
  {
    label: 'own "__proto__" field',
    workflow: 'bulkSync',
    input: JSON.parse('{"mapping":"CUSTOMER","__proto__":{"fullSync":true}}') as unknown,
    field: '"__proto__"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: '"constructor" field',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', constructor: { name: 'x' } },
    field: '"constructor"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'hand-made continuation',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', continuation: { passIndex: -1 } },
    field: '"continuation.passIndex"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'a continuation with counters and a cursor',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', continuation: { jobId: 'j', cursor: { modifiedOn: '9999', id: 'z' } } },
    field: '"continuation.cursor"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'a continuation of a job that does not exist',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', continuation: { jobId: 'no-such-job' } },
    field: 'Field "continuation"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'retryFailed continuing a job that does not exist',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', continuation: { jobId: 'no-such-job' } },
    field: 'Field "continuation"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'direction the mapping forbids',
    workflow: 'bulkSync',
    input: { mapping: FIXTURE_MAPPINGS.fromOnly, direction: 'ToIntegrationTable' },
    field: 'Field "direction"',
    stage: 'worker',
    category: 'unknown name',
  },
];

const singleSync: BadInput[] = [
  { label: 'no recordId', workflow: 'singleSync', input: { mapping: 'CUSTOMER' }, field: '"recordId"', stage: 'schema', category: 'missing field' },
  {
    label: 'recordId a number',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 42 },
    field: '"recordId"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'recordId a list',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: ['C1'] },
    field: '"recordId"',
    stage: 'schema',
    category: 'wrong type',
  },
  { label: 'recordId empty', workflow: 'singleSync', input: { mapping: 'CUSTOMER', recordId: '' }, field: '"recordId"', stage: 'schema', category: 'size' },
  {
    label: 'recordId 10,000 characters',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'x'.repeat(10_000) },
    field: '"recordId"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'recordId with a NUL byte',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: `C1${NUL}' OR 1=1` },
    field: '"recordId"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'recordId mistyped as recordID',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordID: 'C1' },
    field: '"recordID"',
    stage: 'schema',
    category: 'unknown name',
  },
  {
    label: 'side not an enum value',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'C1', side: 'remote' },
    field: '"side"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction in another case',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'C1', direction: 'toIntegrationTable' },
    field: '"direction"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction with an emoji',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'C1', direction: `ToIntegrationTable${EMOJI}` },
    field: '"direction"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'retry.heartbeatTimeoutMs too small',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'C1', retry: { heartbeatTimeoutMs: 10 } },
    field: '"retry.heartbeatTimeoutMs"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'retry.maximumAttempts Infinity',
    workflow: 'singleSync',
    input: { mapping: 'CUSTOMER', recordId: 'C1', retry: { maximumAttempts: Number.POSITIVE_INFINITY } },
    field: '"retry.maximumAttempts"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'direction the mapping forbids',
    workflow: 'singleSync',
    input: { mapping: FIXTURE_MAPPINGS.fromOnly, recordId: 'C1', direction: 'ToIntegrationTable' },
    field: 'Field "direction"',
    stage: 'worker',
    category: 'unknown name',
  },
];

const retryFailed: BadInput[] = [
  {
    label: 'includeSkipped "yes"',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', includeSkipped: 'yes' },
    field: '"includeSkipped"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'includeSkipped 1',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', includeSkipped: 1 },
    field: '"includeSkipped"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'direction empty',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', direction: '' },
    field: '"direction"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'recordIds (not a retryFailed field)',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', recordIds: ['C1'] },
    field: '"recordIds"',
    stage: 'schema',
    category: 'extra field',
  },
  {
    label: 'retry.maximumAttempts 0',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', retry: { maximumAttempts: 0 } },
    field: '"retry.maximumAttempts"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'retry.maximumAttempts 101',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', retry: { maximumAttempts: 101 } },
    field: '"retry.maximumAttempts"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'retry.initialIntervalMs "NaN"',
    workflow: 'retryFailed',
    input: { mapping: 'CUSTOMER', retry: { initialIntervalMs: 'NaN' } },
    field: '"retry.initialIntervalMs"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'direction the mapping forbids',
    workflow: 'retryFailed',
    input: { mapping: FIXTURE_MAPPINGS.fromOnly, direction: 'ToIntegrationTable' },
    field: 'Field "direction"',
    stage: 'worker',
    category: 'unknown name',
  },
];

const filterOf = (condition: unknown): Record<string, unknown> => ({ mapping: 'CUSTOMER', filter: [condition] });

/** Mappings that must not run (#13 items 8-11): refused when a run starts, naming the field, whatever the workflow. */
const refusedMappings: BadInput[] = [
  {
    label: 'local.system "constructor"',
    workflow: 'bulkSync',
    input: { mapping: FIXTURE_MAPPINGS.protoSystem },
    field: 'local.system "constructor"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'local.system "constructor"',
    workflow: 'singleSync',
    input: { mapping: FIXTURE_MAPPINGS.protoSystem, recordId: 'C1' },
    field: 'local.system "constructor"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'local.system "constructor"',
    workflow: 'matchBasedCoupling',
    input: { mapping: FIXTURE_MAPPINGS.protoSystem },
    field: 'local.system "constructor"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'a field written onto the integration id',
    workflow: 'bulkSync',
    input: { mapping: FIXTURE_MAPPINGS.writesId },
    field: 'fields[1].integrationField "id" is the id column',
    stage: 'worker',
    category: 'unknown name',
  },
  {
    label: 'a field written onto the integration id',
    workflow: 'singleSync',
    input: { mapping: FIXTURE_MAPPINGS.writesId, recordId: 'C1' },
    field: 'fields[1].integrationField "id" is the id column',
    stage: 'worker',
    category: 'unknown name',
  },
  {
    label: 'a stored regex with a backreference',
    workflow: 'bulkSync',
    input: { mapping: FIXTURE_MAPPINGS.legacyRegex },
    field: 'fields[0].transformation[0].pattern',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'a stored regex with a backreference',
    workflow: 'retryFailed',
    input: { mapping: FIXTURE_MAPPINGS.legacyRegex },
    field: 'fields[0].transformation[0].pattern',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'a stored table filter "contains" without a value',
    workflow: 'bulkSync',
    input: { mapping: FIXTURE_MAPPINGS.legacyFilter },
    field: 'tableFilter[0].value',
    stage: 'worker',
    category: 'missing field',
  },
  {
    label: 'a stored table filter "contains" without a value',
    workflow: 'matchBasedCoupling',
    input: { mapping: FIXTURE_MAPPINGS.legacyFilter },
    field: 'tableFilter[0].value',
    stage: 'worker',
    category: 'missing field',
  },
];

/** The filter grammar (common/filter-grammar.ts): one meaning in every connector, so what has none is refused. */
const filterGrammar: BadInput[] = [
  {
    label: 'filter "contains" without a value',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'contains' }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'filter "contains" an empty text',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'contains', value: '' }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'filter "startsWith" a number',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'startsWith', value: 1 }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "eq" a list',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: ['Oslo', 'Bergen'] }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "eq" null',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: null }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "gt" a boolean',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'gt', value: true }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "in" an empty list',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: [] }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'filter "in" a list of 101',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: manyIds(101) }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'filter "in" one text, not a list',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: 'Oslo' }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "in" mixed types',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: ['Oslo', 1, true] }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "notIn" holding null',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'notIn', value: ['Oslo', null] }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'filter "isNull" with a value',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'isNull', value: 'x' }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'extra field',
  },
];

const matchBasedCoupling: BadInput[] = [
  {
    label: 'filter as SQL text',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', filter: "city = 'Oslo' OR 1=1" },
    field: '"filter"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter field carries SQL',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city; DROP TABLE customer', op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter field quoted identifier',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: '"city" OR 1=1 --', op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter op raw SQL',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'LIKE', value: '%' }),
    field: '"filter[0].op"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter op "= 1 OR 1 ="',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: '= 1 OR 1 =', value: 'x' }),
    field: '"filter[0].op"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter value an operator object',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: { $ne: null } }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'filter condition with a raw "sql" key',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: 'x', sql: '1=1' }),
    field: '"filter[0].sql"',
    stage: 'schema',
    category: 'extra field',
  },
  {
    label: 'filter value of 1,001 characters',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: 'x'.repeat(1001) }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'filter value nested 500 lists deep',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: nestedList(500) }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'nesting',
  },
  {
    label: 'filter "in" list of 1,001',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: manyIds(1001) }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: '51 filter conditions',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', filter: Array.from({ length: 51 }, () => ({ field: 'city', op: 'eq', value: 'x' })) },
    field: '"filter"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'filter field with an emoji',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: `city${EMOJI}`, op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'filter field with a NUL byte',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: `ci${NUL}ty`, op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'filter field with an RTL override',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: `${RTL}ytic`, op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'filter value with a NUL byte',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'eq', value: `Oslo${NUL}` }),
    field: '"filter[0].value"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'filter "in" list holding a NUL byte',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', op: 'in', value: ['Oslo', `Os${NUL}lo`] }),
    field: '"filter[0].value',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'filter field empty',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: '', op: 'eq', value: 'x' }),
    field: '"filter[0].field"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'filter condition without op',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'city', value: 'x' }),
    field: '"filter[0].op"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'filter on a column the table lacks',
    workflow: 'matchBasedCoupling',
    input: filterOf({ field: 'no_such_column', op: 'eq', value: 'x' }),
    field: 'Field "filter[0].field"',
    stage: 'worker',
    category: 'unknown name',
  },
  {
    label: 'createNewIfNoMatch "false"',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', createNewIfNoMatch: 'false' },
    field: '"createNewIfNoMatch"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'syncAfterCoupling null',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', syncAfterCoupling: null },
    field: '"syncAfterCoupling"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: '100,000 record ids',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', recordIds: manyIds(100_000) },
    field: '"recordIds"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'batchSize NaN',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', batchSize: Number.NaN },
    field: '"batchSize"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'continuation cursor in the input',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', continuation: { cursor: "'; DROP TABLE couplings; --", jobId: 'j' } },
    // A cursor is kept on the job row by the run itself: the input may only name the job.
    field: '"continuation.cursor"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'continuation naming a job id that is SQL',
    workflow: 'matchBasedCoupling',
    input: { mapping: 'CUSTOMER', continuation: { jobId: "'; DROP TABLE couplings; --" } },
    // Well-formed for the schema (any short string): the store says it is no job of this run.
    field: 'Field "continuation"',
    stage: 'worker',
    category: 'injection',
  },
  {
    label: 'createNewIfNoMatch on a mapping that cannot create',
    workflow: 'matchBasedCoupling',
    input: { mapping: FIXTURE_MAPPINGS.fromOnly, createNewIfNoMatch: true },
    field: 'Field "createNewIfNoMatch"',
    stage: 'worker',
    category: 'unknown name',
  },
];

const setUpCoupling: BadInput[] = [
  {
    label: 'no localId',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', integrationId: 'A1' },
    field: '"localId"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'no integrationId',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 'C1' },
    field: '"integrationId"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'localId a number',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 1, integrationId: 'A1' },
    field: '"localId"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'integrationId null',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 'C1', integrationId: null },
    field: '"integrationId"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'localId empty',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: '', integrationId: 'A1' },
    field: '"localId"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'localId 201 characters',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 'x'.repeat(201), integrationId: 'A1' },
    field: '"localId"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'integrationId with a NUL byte',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 'C1', integrationId: `A1${NUL}` },
    field: '"integrationId"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'syncAfter "true"',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1', syncAfter: 'true' },
    field: '"syncAfter"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'ids as a pair object',
    workflow: 'setUpCoupling',
    input: { mapping: 'CUSTOMER', ids: { C1: 'A1' } },
    field: '"ids"',
    stage: 'schema',
    category: 'unknown name',
  },
];

const uncouple: BadInput[] = [
  {
    label: 'neither recordIds nor all',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER' },
    field: '"recordIds"',
    stage: 'schema',
    category: 'missing field',
  },
  {
    label: 'both recordIds and all',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', recordIds: ['C1'], all: true },
    field: '"recordIds"',
    stage: 'schema',
    category: 'extra field',
  },
  { label: 'all false', workflow: 'uncouple', input: { mapping: 'CUSTOMER', all: false }, field: '"all"', stage: 'schema', category: 'wrong type' },
  { label: 'all "true"', workflow: 'uncouple', input: { mapping: 'CUSTOMER', all: 'true' }, field: '"all"', stage: 'schema', category: 'wrong type' },
  {
    label: '100,000 record ids',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', recordIds: manyIds(100_000) },
    field: '"recordIds"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'null record id',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', recordIds: [null] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'side not an enum value',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', recordIds: ['C1'], side: 'both' },
    field: '"side"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'record id with an RTL override and a NUL byte',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', recordIds: [`${RTL}1C${NUL}`] },
    field: '"recordIds[0]"',
    stage: 'schema',
    category: 'unicode',
  },
];

const describeMapping: BadInput[] = [
  { label: 'mapping null', workflow: 'describeMapping', input: { mapping: null }, field: '"mapping"', stage: 'schema', category: 'wrong type' },
  { label: 'mapping blank', workflow: 'describeMapping', input: { mapping: '   ' }, field: '"mapping"', stage: 'schema', category: 'size' },
  { label: 'mapping 101 characters', workflow: 'describeMapping', input: { mapping: 'M'.repeat(101) }, field: '"mapping"', stage: 'schema', category: 'size' },
  {
    label: 'mapping with a NUL byte',
    workflow: 'describeMapping',
    input: { mapping: `CUSTOMER${NUL}` },
    field: '"mapping"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'mapping with an RTL override',
    workflow: 'describeMapping',
    input: { mapping: `${RTL}REMOTSUC` },
    field: '"mapping"',
    stage: 'schema',
    category: 'unicode',
  },
  { label: 'mapping as a LIKE pattern', workflow: 'describeMapping', input: { mapping: 'CUST%' }, field: '"mapping"', stage: 'schema', category: 'injection' },
];

const fullSync = (extra: Record<string, unknown>): Record<string, unknown> => ({ mappings: ['CUSTOMER'], ...extra });
const fullSynchronization: BadInput[] = [
  {
    label: 'mappings as one string',
    workflow: 'fullSynchronization',
    input: { mappings: 'CUSTOMER' },
    field: '"mappings"',
    stage: 'schema',
    category: 'wrong type',
  },
  { label: 'empty mapping list', workflow: 'fullSynchronization', input: { mappings: [] }, field: '"mappings"', stage: 'schema', category: 'size' },
  {
    label: '501 mappings',
    workflow: 'fullSynchronization',
    input: { mappings: Array.from({ length: 501 }, (_, i) => `M${i}`) },
    field: '"mappings"',
    stage: 'schema',
    category: 'size',
  },
  {
    label: 'mapping name a number',
    workflow: 'fullSynchronization',
    input: { mappings: ['CUSTOMER', 42] },
    field: '"mappings[1]"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'mapping name carries SQL',
    workflow: 'fullSynchronization',
    input: { mappings: [INJECTIONS[0]] },
    field: '"mappings[0]"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'mapping name with an RTL override',
    workflow: 'fullSynchronization',
    input: { mappings: [`${RTL}REMOTSUC`] },
    field: '"mappings[0]"',
    stage: 'schema',
    category: 'unicode',
  },
  {
    label: 'the one-mapping field of the other workflows',
    workflow: 'fullSynchronization',
    input: { mapping: 'CUSTOMER' },
    field: '"mapping"',
    stage: 'schema',
    category: 'extra field',
  },
  {
    label: 'onPopulated not an enum value',
    workflow: 'fullSynchronization',
    input: fullSync({ onPopulated: 'create' }),
    field: '"onPopulated"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'maxMappingsInFlight 0',
    workflow: 'fullSynchronization',
    input: fullSync({ maxMappingsInFlight: 0 }),
    field: '"maxMappingsInFlight"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'maxMappingsInFlight NaN',
    workflow: 'fullSynchronization',
    input: fullSync({ maxMappingsInFlight: Number.NaN }),
    field: '"maxMappingsInFlight"',
    stage: 'schema',
    category: 'number',
  },
  {
    label: 'input is a list',
    workflow: 'fullSynchronization',
    input: [fullSync({})],
    field: 'expected one JSON object',
    stage: 'schema',
    category: 'not an object',
  },
  {
    label: 'retry override of the wrong type',
    workflow: 'fullSynchronization',
    input: fullSync({ retry: 'fast' }),
    field: '"retry"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'unknown mapping',
    workflow: 'fullSynchronization',
    input: { mappings: ['CUSTOMER', 'NO_SUCH_MAPPING'] },
    field: '"mappings"',
    stage: 'worker',
    category: 'unknown name',
  },
  {
    label: 'mapping whose fields are not columns',
    workflow: 'fullSynchronization',
    input: { mappings: ['CUSTOMER', FIXTURE_MAPPINGS.badFields] },
    field: 'fields[0].localField',
    stage: 'worker',
    category: 'unknown name',
  },
  {
    label: 'mapping that depends on one never saved',
    workflow: 'fullSynchronization',
    input: { mappings: [FIXTURE_MAPPINGS.dependsOnUnsaved] },
    field: UNSAVED_DEPENDENCY,
    stage: 'worker',
    category: 'unknown name',
  },
];

const deletingRecords: BadInput[] = [
  {
    label: 'deleteRecords with all (records are deleted only by id)',
    workflow: 'uncouple',
    input: { mapping: 'CUSTOMER', all: true, deleteRecords: true },
    field: '"deleteRecords"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'restoreDeleted without ids',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', restoreDeleted: true },
    field: '"restoreDeleted"',
    stage: 'schema',
    category: 'wrong type',
  },
  {
    label: 'winner without ids',
    workflow: 'bulkSync',
    input: { mapping: 'CUSTOMER', winner: 'ToIntegrationTable' },
    field: '"winner"',
    stage: 'schema',
    category: 'wrong type',
  },
];

const logRetention: BadInput[] = [
  { label: 'no days', workflow: 'logRetention', input: {}, field: '"days"', stage: 'schema', category: 'missing field' },
  { label: 'days 0 (would delete today)', workflow: 'logRetention', input: { days: 0 }, field: '"days"', stage: 'schema', category: 'number' },
  { label: 'days as text', workflow: 'logRetention', input: { days: 'seven' }, field: '"days"', stage: 'schema', category: 'wrong type' },
  {
    label: 'a cutoff that is not a time',
    workflow: 'logRetention',
    input: { days: 7, before: "'; DELETE FROM sync_jobs; --" },
    field: '"before"',
    stage: 'schema',
    category: 'injection',
  },
  {
    label: 'a mapping (retention is for every mapping)',
    workflow: 'logRetention',
    input: { days: 7, mapping: 'CUSTOMER' },
    field: '"mapping"',
    stage: 'schema',
    category: 'extra field',
  },
];

export const BAD_INPUTS: BadInput[] = [
  ...perWorkflow(),
  ...bulkSync,
  ...singleSync,
  ...retryFailed,
  ...matchBasedCoupling,
  ...filterGrammar,
  ...refusedMappings,
  ...setUpCoupling,
  ...uncouple,
  ...describeMapping,
  ...fullSynchronization,
  ...logRetention,
  ...deletingRecords,
];

// ---- Hostile input that is not a workflow input -------------------------------------------------
// What a service answers, what a configuration file or the environment says, what a terminal user
// types: each list below is run by bad-input.test.ts, and docs/SECURITY.md says what each promises.

/** An @odata.nextLink a service (or something between it and us) might send, given the service's own origin. */
export interface HostileLink {
  label: string;
  link: (origin: URL) => string;
  /** Text the refusal must contain: the scheme and host the token would have gone to. */
  names: (origin: URL) => string;
}

const nextPort = (origin: URL): number => Number(origin.port) + 1;

/** Every one must end the read, non-retryable and naming where it pointed, with no request sent there. */
export const HOSTILE_LINKS: HostileLink[] = [
  { label: 'another host', link: () => 'https://collector.evil.example/api/next?$skiptoken=1', names: () => 'https://collector.evil.example' },
  {
    label: 'a host that starts like the service',
    link: (o) => `${o.protocol}//${o.hostname}.evil.example:${o.port}/next`,
    names: (o) => `${o.hostname}.evil.example`,
  },
  { label: 'the same host on another scheme', link: (o) => `https://${o.host}/next`, names: (o) => `https://${o.host}` },
  { label: 'the same host on another port', link: (o) => `${o.protocol}//${o.hostname}:${nextPort(o)}/next`, names: (o) => `${o.hostname}:${nextPort(o)}` },
  { label: 'the same machine by another name', link: (o) => `${o.protocol}//localhost:${o.port}/next`, names: (o) => `localhost:${o.port}` },
  { label: 'a protocol-relative link', link: () => '//evil.example/next', names: () => '//evil.example' },
  { label: 'the service as user info before another host', link: (o) => `${o.protocol}//${o.host}@evil.example/next`, names: () => '//evil.example' },
  { label: 'a backslash before the host', link: (o) => `${o.protocol}//evil.example\\@${o.host}/next`, names: () => '//evil.example' },
  { label: 'a file URL', link: () => 'file:///etc/passwd', names: () => 'file://' },
  { label: 'a link that is not a URL', link: () => 'http://[evil.example/next', names: () => 'not a URL' },
];

/**
 * Requests to the codec server (which decrypts payloads for whoever it answers), sent whole before the
 * answer is read, as a simple client does. `$TOKEN` stands for the server's token, `$UI` for the Web UI's origin.
 */
export interface CodecServerRequest {
  label: string;
  /** The server was started with a token. */
  token: boolean;
  headers: Record<string, string>;
  /** Bytes of body to send instead of a small valid one (over the server's 4 MiB limit). */
  bodyBytes?: number;
  chunked?: boolean;
  status: number;
}

const OVER_LIMIT = 24 * 1024 * 1024;

export const CODEC_SERVER_REQUESTS: CodecServerRequest[] = [
  { label: 'no Origin (not a browser) on a server without a token', token: false, headers: {}, status: 403 },
  { label: "another site's Origin", token: false, headers: { Origin: 'https://evil.example' }, status: 403 },
  { label: 'Origin "null" (a sandboxed page, a file)', token: false, headers: { Origin: 'null' }, status: 403 },
  { label: "the UI's origin on another port", token: false, headers: { Origin: 'http://localhost:8234' }, status: 403 },
  { label: 'no Origin and no token on a server with one', token: true, headers: {}, status: 401 },
  { label: 'a wrong token', token: true, headers: { Authorization: 'Bearer wrong-token' }, status: 401 },
  { label: 'the token with a character more', token: true, headers: { Authorization: 'Bearer $TOKENx' }, status: 401 },
  { label: 'the token under the Basic scheme', token: true, headers: { Authorization: 'Basic $TOKEN' }, status: 401 },
  { label: 'the token with no scheme', token: true, headers: { Authorization: '$TOKEN' }, status: 401 },
  { label: "the UI's origin without the token, on a server with one", token: true, headers: { Origin: '$UI' }, status: 401 },
  { label: 'a body over the limit, announced by Content-Length', token: false, headers: { Origin: '$UI' }, bodyBytes: OVER_LIMIT, status: 413 },
  { label: 'a body over the limit, chunked', token: false, headers: { Origin: '$UI' }, bodyBytes: OVER_LIMIT, chunked: true, status: 413 },
  { label: 'a body over the limit with the token', token: true, headers: { Authorization: 'Bearer $TOKEN' }, bodyBytes: OVER_LIMIT, status: 413 },
  // Accepted: what the UI and the Temporal CLI send.
  { label: "the UI's origin on a server without a token", token: false, headers: { Origin: '$UI' }, status: 200 },
  { label: 'the token, no Origin (the Temporal CLI with --codec-auth)', token: true, headers: { Authorization: 'Bearer $TOKEN' }, status: 200 },
  { label: '"bearer" in lower case', token: true, headers: { Authorization: 'bearer $TOKEN' }, status: 200 },
  { label: '"BEARER" in upper case', token: true, headers: { Origin: '$UI', Authorization: 'BEARER $TOKEN' }, status: 200 },
];

/** Where the codec server may listen: without a token, only on a loopback address. */
export const CODEC_SERVER_HOSTS: { label: string; host: string; token: boolean; refused: boolean }[] = [
  { label: 'all IPv4 interfaces without a token', host: '0.0.0.0', token: false, refused: true },
  { label: 'all interfaces (IPv6) without a token', host: '::', token: false, refused: true },
  { label: 'a LAN address without a token', host: '192.168.1.20', token: false, refused: true },
  { label: 'a host name without a token', host: 'codec.internal.example', token: false, refused: true },
  { label: 'all IPv4 interfaces with a token', host: '0.0.0.0', token: true, refused: false },
  { label: 'localhost without a token', host: 'localhost', token: false, refused: false },
  { label: '127.0.0.1 without a token', host: '127.0.0.1', token: false, refused: false },
];

/** Temporal connection settings that would send the API key in clear text; `names` is what the refusal must say. */
export const CLEAR_TEXT_TEMPORAL: { label: string; env: Record<string, string>; names: string }[] = [
  {
    label: 'TLS off, API key, a remote host',
    env: { TEMPORAL_ADDRESS: 'temporal.example.com:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-clear-7f3a9c' },
    names: 'temporal.example.com:7233',
  },
  {
    label: 'TLS off, API key, a LAN address',
    env: { TEMPORAL_ADDRESS: '10.0.0.5:7233', TEMPORAL_TLS: 'no', TEMPORAL_API_KEY: 'Ak-clear-7f3a9c' },
    names: '10.0.0.5:7233',
  },
  {
    label: 'TLS off, API key, an IPv6 address',
    env: { TEMPORAL_ADDRESS: '[2001:db8::7]:7233', TEMPORAL_TLS: '0', TEMPORAL_API_KEY: 'Ak-clear-7f3a9c' },
    names: '[2001:db8::7]:7233',
  },
  {
    label: 'TLS off, API key, a host named like localhost',
    env: { TEMPORAL_ADDRESS: 'localhost.evil.example:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-clear-7f3a9c' },
    names: 'localhost.evil.example:7233',
  },
  {
    label: 'TLS off, API key, all interfaces',
    env: { TEMPORAL_ADDRESS: '0.0.0.0:7233', TEMPORAL_TLS: 'off', TEMPORAL_API_KEY: 'Ak-clear-7f3a9c' },
    names: '0.0.0.0:7233',
  },
];

/** Allowed: plain text with an API key to a loopback address (a local TLS-terminating proxy). */
export const LOOPBACK_TEMPORAL: { label: string; env: Record<string, string> }[] = [
  { label: 'localhost', env: { TEMPORAL_ADDRESS: 'localhost:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-proxy-7f3a9c' } },
  { label: '127.0.0.1', env: { TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-proxy-7f3a9c' } },
  { label: '[::1]', env: { TEMPORAL_ADDRESS: '[::1]:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-proxy-7f3a9c' } },
  { label: 'the default address', env: { TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'Ak-proxy-7f3a9c' } },
];

/**
 * SYSTEMS_CONFIG entries whose service or token URL is plain http to another machine: the bearer token or
 * the client secret would travel in clear text. Each is refused at start-up, naming the setting and the host.
 */
export const CLEAR_TEXT_SYSTEMS: { label: string; entry: Record<string, unknown>; names: string[] }[] = [
  {
    label: 'Dataverse environment over http',
    entry: { type: 'dataverse', environmentUrl: 'http://contoso.crm.dynamics.com' },
    names: ['environmentUrl', 'contoso.crm.dynamics.com'],
  },
  {
    label: 'Dataverse token URL over http',
    entry: { type: 'dataverse', tokenUrl: 'http://login.example.com/t/oauth2/v2.0/token' },
    names: ['tokenUrl', 'login.example.com'],
  },
  {
    label: 'Business Central API over http',
    entry: { type: 'businessCentral', apiUrl: 'http://bc.example.com/v2.0/t/production/api/v2.0' },
    names: ['apiUrl', 'bc.example.com'],
  },
  {
    label: 'Business Central token URL over http',
    entry: { type: 'businessCentral', tokenUrl: 'http://10.1.2.3/t/oauth2/v2.0/token' },
    names: ['tokenUrl', '10.1.2.3'],
  },
  {
    label: 'Business Central API on a host named like localhost',
    entry: { type: 'businessCentral', apiUrl: 'http://localhost.evil.example/api/v2.0' },
    names: ['apiUrl', 'localhost.evil.example'],
  },
  {
    label: 'a token URL that is not http at all',
    entry: { type: 'dataverse', tokenUrl: 'ftp://login.example.com/token' },
    names: ['tokenUrl', 'login.example.com'],
  },
];

/**
 * Files that are not JSON (SYSTEMS_CONFIG, `mappings import`), each holding an inline secret. Node's own
 * messages quote the text around the mistake; the refusal must say where (`at`) and quote nothing.
 */
export const MALFORMED_JSON: { label: string; text: string; at: string }[] = [
  { label: 'a stray word after the secret', text: '{"crm": {"type": "dataverse", "clientSecret": "Cs-inline-7f3a9c" x}}', at: 'line 1, column 66' },
  { label: 'the secret unquoted', text: '{\n  "crm": {\n    "clientSecret": Cs-inline-7f3a9c\n  }\n}', at: 'line 3, column 21' },
  { label: 'the secret as the only text', text: 'Cs-inline-7f3a9c', at: 'line 1, column 1' },
  { label: 'a string left open at the secret', text: '{"clientSecret": "Cs-inline-7f3a9c', at: 'line 1, column 18' },
  { label: 'a control character in the secret', text: '{"clientSecret": "Cs-inline\u00077f3a9c"}', at: 'line 1, column 18' },
  { label: 'a trailing comma after the secret', text: '{"clientSecret": "Cs-inline-7f3a9c",}', at: 'line 1, column 37' },
  { label: 'a comment beside the secret', text: '{"clientSecret": "Cs-inline-7f3a9c" // rotate me\n}', at: 'line 1, column 37' },
  { label: 'text after the JSON', text: '{"clientSecret": "Cs-inline-7f3a9c"} Cs-inline-7f3a9c', at: 'line 1, column 38' },
  { label: 'an empty file', text: '', at: 'line 1, column 1' },
];
/** The secret every MALFORMED_JSON text holds; no part of it may be echoed. */
export const MALFORMED_JSON_SECRET = 'Cs-inline-7f3a9c';

/**
 * Text a system of record may hold in a record id or an error message, which the CLI prints: terminal
 * escape sequences and other control characters must reach the terminal as visible escapes, never as
 * themselves (and never as a line of their own).
 */
export const TERMINAL_ESCAPES: { label: string; text: string }[] = [
  { label: 'clear the screen (CSI)', text: '\u001b[2J\u001b[H' },
  { label: 'set the window title (OSC)', text: '\u001b]0;owned\u0007' },
  { label: 'a hyperlink (OSC 8)', text: '\u001b]8;;https://evil.example\u001b\\click here\u001b]8;;\u001b\\' },
  { label: 'colours through the 8-bit CSI (C1)', text: '\u009b31mred' },
  { label: 'a carriage return over the line', text: 'C1\rC2 all fine' },
  { label: 'a line of its own', text: 'C1\n2026-01-01T00:00:00Z  CUSTOMER  C9 -> -  forged row' },
  { label: 'backspaces', text: 'C1\b\b\bC9' },
  { label: 'a right-to-left override', text: '\u202eC1' },
  { label: 'a NUL byte', text: 'C1\u0000' },
  { label: 'DEL', text: 'C\u007f1' },
];

/** CLI arguments a person may mistype: each ends with one sentence naming the option (`names`), exit 1 and nothing listed. */
export const BAD_CLI_ARGUMENTS: { label: string; args: string[]; names: string }[] = [
  { label: 'a word for --limit', args: ['jobs', '--limit', 'abc'], names: 'Option "limit"' },
  { label: 'a negative --limit (would list everything)', args: ['jobs', '--limit', '-1'], names: 'Option "limit"' },
  { label: '--limit 0', args: ['errors', '--limit', '0'], names: 'Option "limit"' },
  { label: 'a fraction for --limit', args: ['errors', '--limit', '1.5'], names: 'Option "limit"' },
  { label: 'digits then a word for --limit', args: ['jobs', '--limit', '10abc'], names: 'Option "limit"' },
  { label: 'an empty --limit', args: ['jobs', '--limit', ''], names: 'Option "limit"' },
  { label: '--limit NaN', args: ['errors', '--limit', 'NaN'], names: 'Option "limit"' },
  { label: '--limit Infinity', args: ['jobs', '--limit', 'Infinity'], names: 'Option "limit"' },
  { label: '--limit in hex', args: ['jobs', '--limit', '0x10'], names: 'Option "limit"' },
  { label: 'a --limit over the most a listing shows', args: ['jobs', '--limit', '10001'], names: 'Option "limit"' },
  { label: 'a word for --batch-size', args: ['bulk', 'CUSTOMER', '--batch-size', 'abc'], names: 'Option "batch-size"' },
  { label: 'a negative --batch-size', args: ['bulk', 'CUSTOMER', '--batch-size', '-5'], names: 'Option "batch-size"' },
];
