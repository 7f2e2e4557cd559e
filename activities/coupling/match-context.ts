/**
 * What every match-based coupling activity works with: the mapping's match
 * levels and connectors, loaded once per attempt; the local records a
 * selection covers (within the filters, uncoupled); the candidates of a level
 * in one query per combination of fields; and creating unmatched records.
 */
import { FAILURE_TYPES } from '../../common/constants';
import type { FilterCondition } from '../../common/types';
import type { Connector, SourceRecord } from '../../connectors/connector';
import { createValues, mappingAllows, planFields, type FieldPlan } from '../../domain/field-plan';
import type { UnmappedOption } from '../../domain/option-mapping';
import type { StoredMapping } from '../../domain/mapping';
import { levelQueries, matchLevels, type LevelQuery, type MatchLevel, type MatchRecord } from '../../domain/matching';
import { creationKey } from '../../domain/record-key';
import { MESSAGES } from '../../domain/sync-decision';
import { TransformationError } from '../../domain/transform';
import type { JobErrorRow, NewCoupling, Store } from '../../store/store';
import type { ActivityDeps } from '../deps';
import { connectorFor, loadMapping } from '../pass-loader';
import { nonRetryable } from '../failure-policy';
import { redact } from '../../support/redact';
import { writeErrorMessage } from '../sync/failures';
import { beginCreates } from '../creations';
import { lookupTranslator, type LookupTranslator } from '../sync/lookups';
import type { LocalSelection } from '../../common/protocol';
import { CANDIDATES_PER_RECORD, KEYSET_READ_LIMIT, MIN_CANDIDATE_LIMIT } from '../defaults';

export interface MatchContext {
  store: Store;
  mapping: StoredMapping;
  levels: MatchLevel[];
  local: Connector;
  integration: Connector;
  jobId: string;
  /** The run's filter, on top of the mapping's table filter. */
  filter: readonly FilterCondition[];
  createNew: boolean;
  /** Field plan of records created on the integration side; null without create-new. */
  createPlan: FieldPlan | null;
  /** Carries the create plan's lookup fields across; null when it has none. */
  createLookups: LookupTranslator | null;
  /** Local fields read: the match fields and, with create-new, the mapped ones. */
  localFields: string[];
}

export function messageOf(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

export function requireMatchLevels(mapping: StoredMapping): MatchLevel[] {
  const levels = matchLevels({ fields: mapping.fields });
  if (levels.length === 0) {
    throw nonRetryable(
      `Mapping ${mapping.name} has no match criteria: set useForMatching on at least one enabled field mapping that has both a localField and an integrationField.`,
      FAILURE_TYPES.invalidMapping,
    );
  }
  return levels;
}

export function requireCreatePlan(mapping: StoredMapping): FieldPlan {
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

export async function checkLocalFilter(mapping: StoredMapping, local: Connector, filter: readonly FilterCondition[]): Promise<void> {
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

export async function loadMatchContext(
  deps: ActivityDeps,
  input: { mapping: string; jobId: string; filter: readonly FilterCondition[]; createNewIfNoMatch: boolean },
): Promise<MatchContext> {
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
    filter: input.filter,
    createNew: input.createNewIfNoMatch,
    createPlan,
    createLookups: createPlan ? lookupTranslator(deps, createPlan) : null,
    localFields: [...new Set([...levels.flatMap((l) => l.fields.map((f) => f.localField)), ...(createPlan?.sourceFields ?? [])])],
  };
}

/** A record of the scope refused with a reason (given ids only, or coupled in another mapping). */
export interface ScopeRefusal {
  localId: string;
  message: string;
}

export interface LocalScope {
  /** Uncoupled local records within the filters, with the context's fields. */
  records: SourceRecord[];
  refusals: ScopeRefusal[];
  /** Local records read (coupled ones included). */
  scanned: number;
}

/**
 * The local records of a selection that match-based coupling works on: within
 * the mapping's and the run's filters, not coupled in this mapping (left
 * alone), and not coupled in another mapping of the table (refused). Given ids
 * outside a filter or missing are refused, each with its reason.
 */
export async function readScope(c: MatchContext, selection: LocalSelection): Promise<LocalScope> {
  const filter = [...c.mapping.tableFilter, ...c.filter];
  const { local, mapping } = c;
  const table = mapping.local.table;
  const refusals: ScopeRefusal[] = [];
  let read: SourceRecord[];
  if (selection.kind === 'range') {
    read = await local.readChanged({
      table,
      fields: c.localFields,
      filter,
      since: null,
      after: selection.after,
      through: selection.through,
      limit: KEYSET_READ_LIMIT,
    });
  } else {
    // Ids coupled in this mapping already are left alone, whether their record still exists or not.
    const given = [...new Set(selection.ids)];
    const coupledHere = new Set((await c.store.getCouplings(mapping.name, 'local', given)).map((x) => x.localId));
    const ids = given.filter((id) => !coupledHere.has(id));
    read = ids.length ? await local.getMany({ table, ids, fields: c.localFields, filter }) : [];
    const found = new Set(read.map((r) => r.id));
    const absent = ids.filter((id) => !found.has(id));
    const existing = absent.length && filter.length ? new Set((await local.getMany({ table, ids: absent, fields: [] })).map((r) => r.id)) : new Set<string>();
    for (const id of absent) {
      refusals.push({
        localId: id,
        message: existing.has(id)
          ? `The local record ${id} is outside the mapping's table filter or the run's filter; it is not coupled.`
          : `Local record ${id} does not exist in ${mapping.local.system}.${table}.`,
      });
    }
  }
  const couplings = read.length
    ? await c.store.getRecordCouplings(
        mapping.local,
        'local',
        read.map((r) => r.id),
      )
    : [];
  const coupled = new Map(couplings.map((x) => [x.localId, x.mappingName]));
  for (const record of read) {
    const other = coupled.get(record.id);
    if (other !== undefined && other !== mapping.name) {
      refusals.push({
        localId: record.id,
        message: `The local record ${record.id} is already coupled in mapping ${other}; a record is coupled at most once per table.`,
      });
    }
  }
  return { records: read.filter((r) => !coupled.has(r.id)), refusals, scanned: read.length };
}

/**
 * Candidates of one level for these records: one query per combination of
 * fields with values. A result that reaches the limit may be cut short: the
 * query is split, and a single record whose list is still cut is undecidable.
 */
export async function fetchCandidates(
  c: MatchContext,
  level: MatchLevel,
  locals: readonly MatchRecord[],
): Promise<{ candidates: MatchRecord[]; undecidable: Set<string> }> {
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

export interface CreateOutcome {
  couplings: NewCoupling[];
  /** Failed creates that retrying may fix. */
  retryable: { localId: string; message: string; kind: string; code?: string }[];
  /** Failed creates that retrying will not fix. */
  permanent: { localId: string; message: string }[];
  /** Records created with a reference left empty (Clear Value on Failed Sync): a warning row each once coupled. */
  warnings: { localId: string; message: string }[];
}

/**
 * Creates the records on the integration side, keyed by the local record so a
 * repeat names the same record. A key whose record is already coupled (to
 * another local record, in any mapping) is never written over.
 */
export async function createRecords(c: MatchContext, records: readonly SourceRecord[], batchToken: string | undefined): Promise<CreateOutcome> {
  const outcome: CreateOutcome = { couplings: [], retryable: [], permanent: [], warnings: [] };
  if (records.length === 0 || !c.createPlan) return outcome;
  const plan = c.createPlan;
  const keyOf = (r: SourceRecord): string => creationKey(c.mapping.name, 'local', r.id);
  const taken = new Map((await c.store.getRecordCouplings(c.mapping.integration, 'integration', records.map(keyOf))).map((x) => [x.integrationId, x]));
  const translated = c.createLookups ? await c.createLookups(records) : null;
  // A value a transformation rule cannot take, or a reference that cannot be carried across, fails its record, not the
  // batch; unmapped options of `collect` fields are listed.
  const unmapped: UnmappedOption[] = [];
  const creatable: { record: SourceRecord; values: Record<string, unknown> }[] = [];
  for (const r of translated?.records ?? records) {
    const owner = taken.get(keyOf(r));
    if (owner && owner.localId !== r.id) {
      outcome.permanent.push({ localId: r.id, message: MESSAGES.createTargetCoupled('integration', keyOf(r), owner.mappingName, owner.localId) });
      continue;
    }
    const failing = translated?.problems.get(r.id)?.filter((p) => !p.clear) ?? [];
    if (failing.length > 0) {
      outcome.permanent.push({ localId: r.id, message: failing.map((p) => p.message).join(' ') });
      continue;
    }
    const cleared = translated?.problems.get(r.id) ?? [];
    if (cleared.length > 0) outcome.warnings.push({ localId: r.id, message: cleared.map((p) => p.message).join(' ') });
    try {
      creatable.push({ record: r, values: createValues(plan, r.values, unmapped) });
    } catch (error) {
      if (!(error instanceof TransformationError)) throw error;
      outcome.permanent.push({ localId: r.id, message: error.message });
    }
  }
  const account = await beginCreates(
    c.store,
    c.mapping.name,
    creatable.map(({ record }) => keyOf(record)),
    batchToken,
  );
  const results = await c.integration.createMany(
    c.mapping.integration.table,
    creatable.map(({ record, values }) => ({ key: keyOf(record), values })),
  );
  await account.noteResults(results.flatMap((r, i) => (r.ok ? [{ key: keyOf(creatable[i].record), existed: r.existed === true }] : [])));
  // After the create, so an attempt the system throttled lists nothing and its retry lists the values once.
  await c.store.noteUnmappedOptions(c.mapping.name, c.jobId, unmapped);
  results.forEach((result, i) => {
    const { record } = creatable[i];
    if (result.ok) {
      // A record the key named already (created again after an uncoupling) is coupled as found: not created, and not
      // matched (so not synchronized after coupling, as a created one is not).
      const coupledAction = account.fresh(keyOf(record), result.existed) ? 'created' : 'found';
      outcome.couplings.push({
        localId: record.id,
        integrationId: result.id,
        lastSyncedLocalModifiedOn: record.modifiedOn,
        lastSyncedIntegrationModifiedOn: result.modifiedOn,
        coupledAction,
      });
      return;
    }
    const message = redact(writeErrorMessage(result.error));
    if (result.error.kind === 'permanent') outcome.permanent.push({ localId: record.id, message });
    else outcome.retryable.push({ localId: record.id, message, kind: result.error.kind, code: result.error.code });
  });
  return outcome;
}

export function errorRow(
  c: Pick<MatchContext, 'jobId' | 'mapping'>,
  localId: string,
  destinationId: string | null,
  message: string,
  attempts: number,
): JobErrorRow {
  return {
    jobId: c.jobId,
    mappingName: c.mapping.name,
    sourceRecordId: localId,
    destinationRecordId: destinationId,
    message: redact(message),
    fullMessage: null,
    attempts,
  };
}

/** Directions a never-synced coupling of this mapping is pending in: every one the mapping allows. */
export function pendingOf(mapping: Pick<StoredMapping, 'direction'>): { toIntegration: boolean; fromIntegration: boolean } {
  return { toIntegration: mapping.direction !== 'FromIntegrationTable', fromIntegration: mapping.direction !== 'ToIntegrationTable' };
}

/** The fields matching reads of a source record. */
export function asMatchRecords(records: readonly SourceRecord[]): MatchRecord[] {
  return records.map((r) => ({ id: r.id, values: r.values }));
}
