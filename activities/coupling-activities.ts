/**
 * Activities of match-based coupling, manual coupling ("Set Up Coupling") and
 * uncoupling. Batch activities read and write in batches (one candidate query
 * per match level, one create call, one coupling write), return ids and counts
 * only, and are safe to repeat: couplings are unique per side in the store,
 * creates are keyed by the local record, and progress survives a retry
 * through heartbeat details.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../common/constants';
import { addCounters, emptyCounters, type FilterCondition, type JobCounters, type JobStatus, type Side, type SyncDirection } from '../common/types';
import { ThrottledError, type Connector, type RecordKey, type SourceRecord, type WriteResult } from '../connectors/connector';
import { isPermanentConfigurationError, isTransientError } from '../connectors/transient';
import { mapValues, mappingAllows, planFields, type FieldPlan } from '../domain/field-plan';
import { TransformationError } from '../domain/transform';
import type { StoredMapping } from '../domain/mapping';
import {
  applyLevel, describeUnmatched, finishMatching, initialMatchState, levelQueries, matchLevels,
  type LevelQuery, type MatchLevel, type MatchOutcome, type MatchRecord,
} from '../domain/matching';
import { creationKey } from '../domain/record-key';
import { conflictWinner } from '../domain/sync-decision';
import type { Coupling, CouplingWrite, JobErrorRow, Store } from '../store/store';
import type { ActivityDeps } from './deps';
import { connectorFor, loadMapping, loadPass, nonRetryable } from './pass-loader';
import { redact } from './redact';
import { retrySummary } from './sync-engine';

/** Which local records a match batch covers: a keyset range (as planned) or ids given by the caller. */
export type LocalSelection = { kind: 'range'; after: RecordKey | null; through: RecordKey } | { kind: 'ids'; ids: string[] };

/** Which couplings an uncouple batch removes. */
export type UncoupleSelection = { kind: 'ids'; ids: string[]; side: Side } | { kind: 'all'; maxCouplings: number };

export interface StartCouplingJobInput {
  mapping: string;
  jobId: string;
  type: 'Coupling' | 'Uncoupling';
  workflowId: string;
  runId: string;
  /** For match-based coupling: the criteria, the caller's filter and create-new are checked before any batch. */
  matchBased?: { filter: FilterCondition[]; createNewIfNoMatch?: boolean };
  /** Open a synchronization job for the records coupled; absent: the mapping's "sync after bulk coupling" for match-based, else no. */
  syncAfter?: boolean;
}

/** The synchronization job that follows the coupling ("Synchronize after coupling"). */
export interface SyncAfterJob {
  jobId: string;
  direction: SyncDirection;
  /** Counters stored so far: a continued run carries on from them. */
  counters: JobCounters;
}

export interface StartCouplingJobResult {
  jobId: string;
  startedAt: string;
  /** Counters stored so far on the job row. */
  counters: JobCounters;
  /** The caller's choice, or the mapping's default. */
  createNewIfNoMatch: boolean;
  sync: SyncAfterJob | null;
}

export interface PlanLocalBatchesInput {
  mapping: string;
  jobId: string;
  /** The caller's filter, on top of the mapping's table filter. */
  filter: FilterCondition[];
  after: RecordKey | null;
  batchSize: number;
  /** Ranges wanted; at most batchSize * count keys are scanned per call. */
  count: number;
  /** Counters so far, saved on the job row so the store shows progress. */
  counters: JobCounters;
}

export interface LocalRange {
  after: RecordKey | null;
  through: RecordKey;
  /** Uncoupled records in the range when it was planned. */
  size: number;
}

export interface PlanLocalBatchesResult {
  ranges: LocalRange[];
  /** Where the next plan starts: the last key scanned. */
  next: RecordKey | null;
  exhausted: boolean;
}

export interface MatchBatchInput {
  mapping: string;
  jobId: string;
  selection: LocalSelection;
  filter: FilterCondition[];
  createNewIfNoMatch: boolean;
  /** Return the ids coupled by a match, to synchronize them next. */
  returnCoupledIds: boolean;
  /** Attempts after which the batch's remaining records get error rows. */
  maxAttempts: number;
}

export interface MatchBatchResult {
  counters: JobCounters;
  /** Local records read (coupled ones included). */
  scanned: number;
  /** Local ids coupled to an existing record by this batch (empty unless asked for). */
  coupledLocalIds: string[];
}

export interface SetUpCouplingActivityInput {
  mapping: string;
  jobId: string;
  localId: string;
  integrationId: string;
}

export interface SetUpCouplingResult {
  counters: JobCounters;
  /** The two records were already coupled to each other: nothing to do. */
  alreadyCoupled: boolean;
}

export interface UncoupleBatchInput {
  mapping: string;
  jobId: string;
  selection: UncoupleSelection;
}

export interface UncoupleBatchResult {
  counters: JobCounters;
  /** For 'all': no coupling of the mapping is left. */
  done: boolean;
}

export interface FinishCouplingJobInput {
  mapping: string;
  jobId: string;
  counters: JobCounters;
  status: JobStatus;
  message: string | null;
}

/** Candidate rows asked for per local record before a query is split (a superset may be larger than the matches). */
const CANDIDATES_PER_RECORD = 20;
const MIN_CANDIDATE_LIMIT = 1000;
/** Couplings removed per statement when uncoupling a whole mapping. */
const UNCOUPLE_PAGE = 1000;
/** Contention rounds per batch: each round that loses a candidate to a parallel batch retries those records. */
const MAX_MATCH_ROUNDS = 10;

/** The synchronization job that follows a coupling job: derived, so a continued run finds it again. */
export function syncJobIdOf(jobId: string): string {
  return `${jobId}-sync`;
}

/** Direction of "synchronize after coupling": the mapping's, or for bidirectional ones the side the conflict rule favours. */
export function syncAfterCouplingDirection(mapping: Pick<StoredMapping, 'direction' | 'updateConflictResolution'>): SyncDirection {
  if (mapping.direction !== 'Bidirectional') return mapping.direction;
  return conflictWinner(mapping.updateConflictResolution) ?? 'ToIntegrationTable';
}

/** Everything a match batch works with, loaded once per attempt. */
interface MatchContext {
  store: Store;
  mapping: StoredMapping;
  levels: MatchLevel[];
  local: Connector;
  integration: Connector;
  jobId: string;
  createNew: boolean;
  /** Field plan of records created on the integration side; null without create-new. */
  createPlan: FieldPlan | null;
  /** Local fields read: the match fields and, with create-new, the mapped ones. */
  localFields: string[];
}

/** What a match batch remembers between attempts. */
interface MatchResume {
  counters: JobCounters;
  coupledLocalIds: string[];
  /** Local records that already have their error row in this job. */
  settledLocalIds: string[];
  scanned: number;
  throttledAttempts: number;
  done: boolean;
}

function isMatchResume(value: unknown): value is MatchResume {
  return typeof value === 'object' && value !== null && Array.isArray((value as MatchResume).coupledLocalIds) && Array.isArray((value as MatchResume).settledLocalIds);
}

function isCountResume(value: unknown): value is { uncoupled: number; done: boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { uncoupled?: unknown }).uncoupled === 'number';
}

function messageOf(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

function newCouplingWrite(localId: string, integrationId: string, modifiedOn: { local: string | null; integration: string | null }): CouplingWrite {
  return {
    localId,
    integrationId,
    lastSyncedLocalModifiedOn: modifiedOn.local,
    lastSyncedIntegrationModifiedOn: modifiedOn.integration,
    result: 'Success',
    skipped: false,
    failureCount: 0,
    lastErrorMessage: null,
  };
}

async function checkLocalFilter(mapping: StoredMapping, local: Connector, filter: readonly FilterCondition[]): Promise<void> {
  if (filter.length === 0) return;
  const columns = new Set(await local.describeTable(mapping.local.table));
  const bad = filter.map((c, i) => ({ c, i })).filter(({ c }) => !columns.has(c.field));
  if (bad.length > 0) {
    throw nonRetryable(
      bad.map(({ c, i }) => `Field "filter[${i}].field": "${c.field}" is not a column of ${mapping.local.table}`).join('; ') +
        `; its columns are: ${[...columns].join(', ')}.`,
      FAILURE_TYPES.invalidInput,
    );
  }
}

function requireMatchLevels(mapping: StoredMapping): MatchLevel[] {
  const levels = matchLevels({ fields: mapping.fields });
  if (levels.length === 0) {
    throw nonRetryable(
      `Mapping ${mapping.name} has no match criteria: set useForMatching on at least one enabled field mapping that has both a localField and an integrationField.`,
      FAILURE_TYPES.invalidMapping,
    );
  }
  return levels;
}

function requireCreatePlan(mapping: StoredMapping): FieldPlan {
  if (!mappingAllows(mapping, 'ToIntegrationTable')) {
    throw nonRetryable(
      `Field "createNewIfNoMatch": mapping ${mapping.name} is ${mapping.direction}, so it cannot create records on the integration side; leave createNewIfNoMatch off.`,
      FAILURE_TYPES.invalidInput,
    );
  }
  try {
    return planFields(mapping, 'ToIntegrationTable');
  } catch (error) {
    throw nonRetryable(messageOf(error), FAILURE_TYPES.invalidMapping);
  }
}

async function loadMatchContext(deps: ActivityDeps, input: Pick<MatchBatchInput, 'mapping' | 'jobId' | 'createNewIfNoMatch'>): Promise<MatchContext> {
  const mapping = await loadMapping(deps, input.mapping);
  const levels = requireMatchLevels(mapping);
  const createPlan = input.createNewIfNoMatch ? requireCreatePlan(mapping) : null;
  return {
    store: deps.store,
    mapping,
    levels,
    local: connectorFor(deps, mapping, mapping.local.system),
    integration: connectorFor(deps, mapping, mapping.integration.system),
    jobId: input.jobId,
    createNew: input.createNewIfNoMatch,
    createPlan,
    localFields: [...new Set([...levels.flatMap((l) => l.fields.map((f) => f.localField)), ...(createPlan?.sourceFields ?? [])])],
  };
}

/** The local records of a planned range within the filters (coupled ones included), with these fields. */
async function readRange(c: MatchContext, range: Extract<LocalSelection, { kind: 'range' }>, filter: readonly FilterCondition[], fields: string[]): Promise<SourceRecord[]> {
  return c.local.readChanged({
    table: c.mapping.local.table,
    fields,
    filter: [...c.mapping.tableFilter, ...filter],
    since: null,
    after: range.after,
    through: range.through,
    limit: 1_000_000,
  });
}

/** Ids of the local records a selection covers (coupled ones included). */
async function selectLocalIds(c: MatchContext, selection: LocalSelection, filter: readonly FilterCondition[]): Promise<string[]> {
  if (selection.kind === 'ids') return [...new Set(selection.ids)];
  return (await readRange(c, selection, filter, [])).map((k) => k.id);
}

async function coupledLocalIdsOf(store: Store, mappingName: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set((await store.getCouplings(mappingName, 'local', ids)).map((x) => x.localId));
}

/**
 * Local records whose creation-key record already exists uncoupled on the
 * integration side: created by an attempt that crashed before coupling. They
 * are created again (the same key, so the same record) instead of matched.
 */
async function ownOrphans(c: MatchContext, records: readonly SourceRecord[]): Promise<Set<string>> {
  if (!c.createNew || records.length === 0) return new Set();
  const localIdByKey = new Map(records.map((r) => [creationKey(c.mapping.name, 'local', r.id), r.id]));
  const existing = await c.integration.getMany({ table: c.mapping.integration.table, ids: [...localIdByKey.keys()], fields: [] });
  if (existing.length === 0) return new Set();
  const taken = new Set((await c.store.getCouplings(c.mapping.name, 'integration', existing.map((e) => e.id))).map((x) => x.integrationId));
  return new Set(existing.filter((e) => !taken.has(e.id)).map((e) => localIdByKey.get(e.id) as string));
}

/**
 * Candidates of one level for these records: one query per combination of
 * fields with values. A result that reaches the limit may be cut short: the
 * query is split, and a single record whose list is still cut is undecidable.
 */
async function fetchCandidates(c: MatchContext, level: MatchLevel, locals: readonly MatchRecord[]): Promise<{ candidates: MatchRecord[]; undecidable: Set<string> }> {
  const found = new Map<string, MatchRecord>();
  const undecidable = new Set<string>();
  const run = async (query: LevelQuery): Promise<void> => {
    const limit = Math.max(MIN_CANDIDATE_LIMIT, query.locals.length * CANDIDATES_PER_RECORD);
    const rows = await c.integration.findCandidates({
      table: c.mapping.integration.table,
      fields: level.fields.map((f) => f.integrationField),
      filter: c.mapping.integrationTableFilter,
      conditions: query.conditions,
      limit,
    });
    if (rows.length >= limit && query.locals.length > 1) {
      const middle = Math.ceil(query.locals.length / 2);
      for (const half of [query.locals.slice(0, middle), query.locals.slice(middle)]) {
        for (const sub of levelQueries({ level, locals: half })) await run(sub);
      }
      return;
    }
    if (rows.length >= limit) undecidable.add(query.locals[0].id);
    for (const row of rows) found.set(row.id, { id: row.id, values: row.values });
  };
  for (const query of levelQueries({ level, locals })) await run(query);
  return { candidates: [...found.values()], undecidable };
}

/**
 * Matches records level by level; candidates already coupled in the store, or
 * known lost, are never taken. `beat` heartbeats between levels: a slow system
 * must not make a healthy batch look dead.
 */
async function decideMatches(c: MatchContext, pending: readonly MatchRecord[], knownCoupled: ReadonlySet<string>, beat: () => void): Promise<MatchOutcome[]> {
  let state = initialMatchState({ locals: pending });
  for (const level of c.levels) {
    if (state.pending.length === 0) break;
    const { candidates, undecidable } = await fetchCandidates(c, level, state.pending);
    const coupled = new Set(knownCoupled);
    if (candidates.length > 0) {
      for (const x of await c.store.getCouplings(c.mapping.name, 'integration', candidates.map((r) => r.id))) coupled.add(x.integrationId);
    }
    state = applyLevel({ state, level, candidates, coupledCandidateIds: coupled, undecidable });
    beat();
  }
  return finishMatching({ state });
}

interface CreateOutcome {
  writes: CouplingWrite[];
  /** Failed creates that retrying may fix. */
  retryable: { localId: string; message: string; kind: string; code?: string }[];
  /** Failed creates that retrying will not fix. */
  permanent: { localId: string; message: string; kind: string; code?: string }[];
}

/** Creates the records on the integration side, keyed by the local record so a repeat names the same record. */
async function createRecords(c: MatchContext, records: readonly SourceRecord[]): Promise<CreateOutcome> {
  const outcome: CreateOutcome = { writes: [], retryable: [], permanent: [] };
  if (records.length === 0 || !c.createPlan) return outcome;
  const plan = c.createPlan;
  // A value a transformation rule cannot take fails its record, not the batch.
  const creatable = records.filter((r) => {
    try {
      mapValues(plan, r.values);
      return true;
    } catch (error) {
      if (!(error instanceof TransformationError)) throw error;
      outcome.permanent.push({ localId: r.id, message: error.message, kind: 'permanent' });
      return false;
    }
  });
  const results: WriteResult[] = await c.integration.createMany(
    c.mapping.integration.table,
    creatable.map((r) => ({ key: creationKey(c.mapping.name, 'local', r.id), values: mapValues(plan, r.values) })),
  );
  results.forEach((result, i) => {
    const record = creatable[i];
    if (result.ok) {
      outcome.writes.push({ ...newCouplingWrite(record.id, result.id, { local: record.modifiedOn, integration: result.modifiedOn }), action: 'created' });
      return;
    }
    const message = result.error.code ? `${result.error.code}: ${result.error.message}` : result.error.message;
    (result.error.kind === 'permanent' ? outcome.permanent : outcome.retryable).push({ localId: record.id, message: redact(message), kind: result.error.kind, code: result.error.code });
  });
  return outcome;
}

function errorRow(c: MatchContext, localId: string, destinationId: string | null, message: string, attempts: number): JobErrorRow {
  return { jobId: c.jobId, mappingName: c.mapping.name, sourceRecordId: localId, destinationRecordId: destinationId, message: redact(message), fullMessage: null, attempts };
}

/** Local id -> integration id of the couplings that really exist now, for the ids we tried to couple. */
async function readBack(c: MatchContext, writes: readonly CouplingWrite[]): Promise<Map<string, string>> {
  if (writes.length === 0) return new Map();
  const rows: Coupling[] = await c.store.getCouplings(c.mapping.name, 'local', writes.map((w) => w.localId));
  return new Map(rows.map((r) => [r.localId, r.integrationId]));
}

/** The work of one match batch; `progress` is what earlier attempts already did and is extended in place. */
async function matchSelection(c: MatchContext, input: MatchBatchInput, progress: MatchResume, attempt: number, remember: () => void): Promise<void> {
  // A range is read with its values at once: a second read by id would cost as much again.
  const ranged = input.selection.kind === 'range' ? await readRange(c, input.selection, input.filter, c.localFields) : null;
  const ids = ranged ? ranged.map((r) => r.id) : await selectLocalIds(c, input.selection, input.filter);
  if (progress.scanned === 0) progress.scanned = ids.length;
  const coupled = await coupledLocalIdsOf(c.store, c.mapping.name, ids);
  const settled = new Set(progress.settledLocalIds);
  const isOpen = (id: string): boolean => !coupled.has(id) && !settled.has(id);
  const uncoupled = ids.filter(isOpen);
  const records = ranged
    ? ranged.filter((r) => isOpen(r.id))
    : uncoupled.length > 0 ? await c.local.getMany({ table: c.mapping.local.table, ids: uncoupled, fields: c.localFields }) : [];
  const byId = new Map(records.map((r) => [r.id, r]));
  // Given ids that do not exist are reported, not dropped; a range only holds records that existed when read.
  const missing = input.selection.kind === 'ids' ? uncoupled.filter((id) => !byId.has(id)) : [];

  /** Error rows are written before the heartbeat that counts them, so a retry neither loses nor repeats them. */
  const settle = async (rows: JobErrorRow[], counters: Partial<JobCounters>): Promise<void> => {
    await c.store.insertErrors(rows);
    progress.settledLocalIds.push(...rows.map((r) => r.sourceRecordId));
    progress.counters = addCounters(progress.counters, counters);
  };

  const orphans = await ownOrphans(c, records);
  let toCreate = records.filter((r) => orphans.has(r.id));
  let pending: MatchRecord[] = records.filter((r) => !orphans.has(r.id)).map((r) => ({ id: r.id, values: r.values }));
  const knownCoupled = new Set<string>();
  const unmatched: Extract<MatchOutcome, { kind: 'unmatched' }>[] = [];
  const retryable: CreateOutcome['retryable'] = [];

  for (let round = 0; round < MAX_MATCH_ROUNDS && (pending.length > 0 || toCreate.length > 0); round++) {
    const outcomes = pending.length > 0 ? await decideMatches(c, pending, knownCoupled, remember) : [];
    const matches = outcomes.filter((o): o is Extract<MatchOutcome, { kind: 'matched' }> => o.kind === 'matched');
    const misses = outcomes.filter((o): o is Extract<MatchOutcome, { kind: 'unmatched' }> => o.kind === 'unmatched');
    if (c.createNew) toCreate = [...toCreate, ...misses.map((o) => byId.get(o.localId) as SourceRecord)];
    else unmatched.push(...misses);

    // Create before coupling anything: a crash in between leaves nothing a retry would count twice.
    const created = await createRecords(c, toCreate);
    toCreate = [];
    const writes = [...matches.map((m) => ({ ...newCouplingWrite(m.localId, m.integrationId, { local: null, integration: null }), action: 'matched' })), ...created.writes];
    await c.store.insertCouplings(c.mapping.name, null, c.jobId, writes);
    const actual = await readBack(c, writes);

    const lost: MatchRecord[] = [];
    for (const m of matches) {
      const now = actual.get(m.localId);
      if (now === m.integrationId) {
        progress.counters.coupled++;
        if (input.returnCoupledIds) progress.coupledLocalIds.push(m.localId);
      } else if (now === undefined) {
        // A parallel batch coupled the candidate first: it is coupled for this record too; try again without it.
        knownCoupled.add(m.integrationId);
        lost.push({ id: m.localId, values: (byId.get(m.localId) as SourceRecord).values });
      }
      // Coupled to something else meanwhile (another run): nothing left to do for it.
    }
    const roundErrors: JobErrorRow[] = [];
    for (const w of created.writes) {
      const now = actual.get(w.localId);
      if (now === w.integrationId) progress.counters = addCounters(progress.counters, { inserted: 1, coupled: 1, unmatched: 1 });
      else if (now === undefined) {
        roundErrors.push(errorRow(c, w.localId, w.integrationId, `The record created for local record ${w.localId} (${w.integrationId}) is coupled to another local record; uncouple it and run again.`, attempt));
      }
    }
    for (const f of created.permanent) roundErrors.push(errorRow(c, f.localId, null, `No matching record, and creating one failed: ${f.message}`, attempt));
    await settle(roundErrors, { failed: roundErrors.length, unmatched: roundErrors.length });
    retryable.push(...created.retryable);
    remember();
    pending = lost;
  }
  if (pending.length > 0) {
    // Parallel batches kept taking these records' candidates first: the retry starts again from the store.
    throw ApplicationFailure.create({ message: `${pending.length} records lost their candidates to parallel batches ${MAX_MATCH_ROUNDS} times; retrying`, type: FAILURE_TYPES.recordsFailed });
  }
  if (retryable.length > 0 && attempt < input.maxAttempts) {
    throw ApplicationFailure.create({
      message: redact(retrySummary(retryable.length, ids.length, { id: retryable[0].localId, kind: retryable[0].kind, code: retryable[0].code }, 'records could not be created')),
      type: FAILURE_TYPES.recordsFailed,
    });
  }

  const finalErrors: JobErrorRow[] = [
    ...retryable.map((f) => errorRow(c, f.localId, null, `No matching record, and creating one failed: ${f.message}`, attempt)),
    ...unmatched.map((o) => errorRow(c, o.localId, o.candidateIds.length === 1 ? o.candidateIds[0] : null, describeUnmatched({ outcome: o, levels: c.levels }), attempt)),
  ];
  const missingErrors = missing.map((id) => errorRow(c, id, null, `Local record ${id} does not exist in ${c.mapping.local.system}.${c.mapping.local.table}.`, attempt));
  await settle([...finalErrors, ...missingErrors], { failed: finalErrors.length + missingErrors.length, unmatched: finalErrors.length });
  await recountCouplings(c, ids, progress);
  progress.done = true;
  remember();
}

/**
 * The batch's coupled and created counts, from the couplings this job made for
 * its records: an attempt that coupled records and died before its heartbeat
 * counted nothing, and its retry finds them coupled and skips them.
 */
async function recountCouplings(c: MatchContext, ids: readonly string[], progress: MatchResume): Promise<void> {
  const made = (await c.store.getCouplings(c.mapping.name, 'local', ids)).filter((m) => m.coupledByJobId === c.jobId);
  const created = made.filter((m) => m.coupledAction === 'created').length;
  progress.counters.unmatched += created - progress.counters.inserted;
  progress.counters.inserted = created;
  progress.counters.coupled = made.length;
}

/** After the batch's retries are exhausted: an error row for each of its uncoupled records, so none is dropped silently. */
async function failSelection(c: MatchContext, input: MatchBatchInput, progress: MatchResume, message: string, attempt: number): Promise<number> {
  const ids = await selectLocalIds(c, input.selection, input.filter);
  const coupled = await coupledLocalIdsOf(c.store, c.mapping.name, ids);
  const settled = new Set(progress.settledLocalIds);
  const failed = ids.filter((id) => !coupled.has(id) && !settled.has(id));
  await c.store.insertErrors(failed.map((id) => errorRow(c, id, null, `The batch failed after its retries were exhausted: ${message}`, attempt)));
  return failed.length;
}

function refusal(mapping: string, byLocal: Coupling | undefined, byIntegration: Coupling | undefined): string {
  const parts: string[] = [];
  if (byLocal) parts.push(`local record "${byLocal.localId}" is already coupled to integration record "${byLocal.integrationId}"`);
  if (byIntegration) parts.push(`integration record "${byIntegration.integrationId}" is already coupled to local record "${byIntegration.localId}"`);
  return `Cannot couple in mapping ${mapping}: ${parts.join(' and ')}. Uncouple ${parts.length > 1 ? 'them' : 'it'} first.`;
}

async function requireRecord(connector: Connector, table: string, id: string, field: 'localId' | 'integrationId', where: string): Promise<void> {
  const [found] = await connector.getMany({ table, ids: [id], fields: [] });
  if (!found) throw nonRetryable(`Field "${field}": record "${id}" does not exist in ${where}.`, FAILURE_TYPES.couplingRefused);
}

export function createCouplingActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Checks what the run needs and opens its job row (and the sync job's), once whatever the retries. */
    async startCouplingJob(input: StartCouplingJobInput): Promise<StartCouplingJobResult> {
      const mapping = await loadMapping(deps, input.mapping);
      let createNewIfNoMatch = false;
      if (input.matchBased) {
        requireMatchLevels(mapping);
        await checkLocalFilter(mapping, connectorFor(deps, mapping, mapping.local.system), input.matchBased.filter);
        createNewIfNoMatch = input.matchBased.createNewIfNoMatch ?? mapping.createNewIfNoMatch;
        if (createNewIfNoMatch) requireCreatePlan(mapping);
      }
      const wantSync = input.type === 'Coupling' && (input.syncAfter ?? (input.matchBased ? mapping.syncAfterBulkCoupling : false));
      const direction = wantSync ? syncAfterCouplingDirection(mapping) : null;
      if (direction) await loadPass(deps, mapping.name, direction);
      const common = { mappingName: mapping.name, workflowId: input.workflowId, runId: input.runId };
      const job = await store.createJob({ ...common, id: input.jobId, type: input.type, direction: null });
      const syncJob = direction ? await store.createJob({ ...common, id: syncJobIdOf(input.jobId), type: 'Synchronization', direction }) : null;
      return {
        jobId: job.id,
        startedAt: job.startedAt,
        counters: job.counters,
        createNewIfNoMatch,
        sync: syncJob && direction ? { jobId: syncJob.id, direction, counters: syncJob.counters } : null,
      };
    },

    /**
     * Plans the next match batches: keyset ranges of local records within the
     * filters, each holding up to batchSize uncoupled ones. Keys only, so the
     * workflow carries no record contents; coupled records cost no batch.
     */
    async planLocalBatches(input: PlanLocalBatchesInput): Promise<PlanLocalBatchesResult> {
      const mapping = await loadMapping(deps, input.mapping);
      const local = connectorFor(deps, mapping, mapping.local.system);
      await store.updateJob(input.jobId, { counters: input.counters });
      const limit = input.batchSize * input.count;
      const keys = await local.scanKeys({ table: mapping.local.table, filter: [...mapping.tableFilter, ...input.filter], since: null, after: input.after, limit });
      const coupled = await coupledLocalIdsOf(store, mapping.name, keys.map((k) => k.id));
      const ranges: LocalRange[] = [];
      let after = input.after;
      let size = 0;
      let last: RecordKey | null = null;
      for (const key of keys) {
        if (coupled.has(key.id)) continue;
        size++;
        last = key;
        if (size === input.batchSize) {
          ranges.push({ after, through: key, size });
          after = key;
          size = 0;
        }
      }
      if (size > 0 && last) ranges.push({ after, through: last, size });
      return { ranges, next: keys.length > 0 ? keys[keys.length - 1] : input.after, exhausted: keys.length < limit };
    },

    /**
     * Couples one batch of local records: skips coupled ones, matches the rest
     * level by level (one candidate query per level for the whole batch),
     * creates the unmatched ones when asked, and writes an error row saying
     * why for each record left unmatched. Resumable through heartbeat details.
     */
    async matchBatch(input: MatchBatchInput): Promise<MatchBatchResult> {
      const ctx = Context.current();
      const details: unknown = ctx.info.heartbeatDetails;
      const progress: MatchResume = isMatchResume(details)
        ? { ...details, counters: { ...details.counters }, coupledLocalIds: [...details.coupledLocalIds], settledLocalIds: [...details.settledLocalIds] }
        : { counters: emptyCounters(), coupledLocalIds: [], settledLocalIds: [], scanned: 0, throttledAttempts: 0, done: false };
      const result = (): MatchBatchResult => ({ counters: progress.counters, scanned: progress.scanned, coupledLocalIds: progress.coupledLocalIds });
      if (progress.done) return result();
      const attempt = ctx.info.attempt - progress.throttledAttempts;
      const remember = (): void => ctx.heartbeat({ ...progress } satisfies MatchResume);
      const c = await loadMatchContext(deps, input);
      try {
        await matchSelection(c, input, progress, attempt, remember);
        return result();
      } catch (error) {
        if (error instanceof ThrottledError) {
          // The system asks us to wait: not an attempt used up, never an error row.
          progress.throttledAttempts++;
          remember();
          throw ApplicationFailure.create({
            message: `${c.integration.name} throttled the batch; retrying after ${error.retryAfterMs} ms`,
            type: FAILURE_TYPES.throttled,
            nextRetryDelay: Math.max(1, error.retryAfterMs),
          });
        }
        // Passing outages retry for as long as the batch may run; refused credentials settle the records at once.
        const giveUp = isPermanentConfigurationError(error) || (!isTransientError(error) && attempt >= input.maxAttempts);
        if (error instanceof ApplicationFailure || !giveUp) throw error;
        const failed = await failSelection(c, input, progress, messageOf(error), attempt);
        progress.counters.failed += failed;
        progress.done = true;
        remember();
        return result();
      }
    },

    /** Couples two records chosen by hand, refusing when either is coupled already or does not exist. */
    async setUpCoupling(input: SetUpCouplingActivityInput): Promise<SetUpCouplingResult> {
      const ctx = Context.current();
      const mapping = await loadMapping(deps, input.mapping);
      const local = connectorFor(deps, mapping, mapping.local.system);
      const integration = connectorFor(deps, mapping, mapping.integration.system);
      await requireRecord(local, mapping.local.table, input.localId, 'localId', `${mapping.local.system}.${mapping.local.table}`);
      await requireRecord(integration, mapping.integration.table, input.integrationId, 'integrationId', `${mapping.integration.system}.${mapping.integration.table}`);
      // An earlier attempt that got this far may have written the coupling already.
      const insertedBefore = ctx.info.heartbeatDetails === 'inserting';
      const current = async (): Promise<{ byLocal?: Coupling; byIntegration?: Coupling }> => ({
        byLocal: (await store.getCouplings(mapping.name, 'local', [input.localId]))[0],
        byIntegration: (await store.getCouplings(mapping.name, 'integration', [input.integrationId]))[0],
      });
      const coupledNow = (c: { byLocal?: Coupling }): boolean => c.byLocal?.integrationId === input.integrationId;
      const before = await current();
      if (coupledNow(before)) return { counters: { ...emptyCounters(), coupled: insertedBefore ? 1 : 0 }, alreadyCoupled: !insertedBefore };
      if (before.byLocal || before.byIntegration) throw nonRetryable(refusal(mapping.name, before.byLocal, before.byIntegration), FAILURE_TYPES.couplingRefused);
      ctx.heartbeat('inserting');
      await store.insertCouplings(mapping.name, null, input.jobId, [newCouplingWrite(input.localId, input.integrationId, { local: null, integration: null })]);
      const after = await current();
      // The store refused a clash: someone else coupled one of the two in between.
      if (!coupledNow(after)) throw nonRetryable(refusal(mapping.name, after.byLocal, after.byIntegration), FAILURE_TYPES.couplingRefused);
      return { counters: { ...emptyCounters(), coupled: 1 }, alreadyCoupled: false };
    },

    /** Removes couplings (never records): the given ids, or up to maxCouplings of the whole mapping per call. */
    async uncoupleBatch(input: UncoupleBatchInput): Promise<UncoupleBatchResult> {
      const ctx = Context.current();
      const mapping = await loadMapping(deps, input.mapping);
      const details: unknown = ctx.info.heartbeatDetails;
      let uncoupled = isCountResume(details) ? details.uncoupled : 0;
      const done = (finished: boolean): UncoupleBatchResult => ({ counters: { ...emptyCounters(), uncoupled }, done: finished });
      if (isCountResume(details) && details.done) return done(true);
      const { selection } = input;
      if (selection.kind === 'ids') {
        uncoupled += await store.deleteCouplings(mapping.name, selection.side, selection.ids);
        ctx.heartbeat({ uncoupled, done: true });
        return done(true);
      }
      let afterId = 0;
      for (;;) {
        const page = await store.pageCouplings(mapping.name, { afterId, limit: UNCOUPLE_PAGE });
        if (page.length > 0) uncoupled += await store.deleteCouplings(mapping.name, 'local', page.map((x) => x.localId));
        ctx.heartbeat({ uncoupled, done: page.length < UNCOUPLE_PAGE });
        if (page.length < UNCOUPLE_PAGE) return done(true);
        if (uncoupled >= selection.maxCouplings) return done(false);
        afterId = page[page.length - 1].id;
      }
    },

    /** Saves a job's counters while the run goes on (before continuing as new). */
    async saveJobCounters(input: { jobId: string; counters: JobCounters }): Promise<void> {
      await store.updateJob(input.jobId, { counters: input.counters });
    },

    /** Closes a job row with its counters. */
    async finishCouplingJob(input: FinishCouplingJobInput): Promise<void> {
      await store.updateJob(input.jobId, { counters: input.counters, status: input.status, message: input.message, finished: true });
      deps.log?.(`job ${input.jobId} ${input.mapping} ${input.status} ${JSON.stringify(input.counters)}`);
    },
  };
}

export type CouplingActivities = ReturnType<typeof createCouplingActivities>;
