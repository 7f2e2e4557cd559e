/**
 * Activities of coupling jobs: opening and closing them, manual coupling
 * ("Set Up Coupling") and uncoupling. Match-based coupling's rounds are in
 * match-activities. Safe to repeat: couplings are unique per record and table,
 * and progress survives a retry through heartbeat details.
 */
import { Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../common/constants';
import { emptyCounters, type FilterCondition, type JobCounters, type JobStatus, type Side, type SyncDirection } from '../common/types';
import type { Connector } from '../connectors/connector';
import type { StoredMapping } from '../domain/mapping';
import { conflictWinner } from '../domain/sync-decision';
import type { Coupling } from '../store/store';
import type { ActivityDeps } from './deps';
import { checkLocalFilter, pendingOf, requireCreatePlan, requireMatchLevels } from './match-context';
import { connectorFor, loadMapping, loadPass, nonRetryable } from './pass-loader';
import { requireLease, type RunLease } from './run-lease';

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
  /** Match-based coupling: how many rounds (match priorities) it runs. */
  levels: number;
  sync: SyncAfterJob | null;
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
  /** Uncoupling a whole mapping holds its lease: nothing is removed once another run took it. */
  lease?: RunLease;
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
  /** Match-based coupling: count coupled and inserted from the couplings the job made (exact after any retry). */
  recount?: boolean;
}

/** Couplings removed per statement when uncoupling a whole mapping. */
const UNCOUPLE_PAGE = 1000;

/** The synchronization job that follows a coupling job: derived, so a continued run finds it again. */
export function syncJobIdOf(jobId: string): string {
  return `${jobId}-sync`;
}

/** Direction of "synchronize after coupling": the mapping's, or for bidirectional ones the side the conflict rule favours. */
export function syncAfterCouplingDirection(mapping: Pick<StoredMapping, 'direction' | 'updateConflictResolution'>): SyncDirection {
  if (mapping.direction !== 'Bidirectional') return mapping.direction;
  return conflictWinner(mapping.updateConflictResolution) ?? 'ToIntegrationTable';
}

function isCountResume(value: unknown): value is { uncoupled: number; done: boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { uncoupled?: unknown }).uncoupled === 'number';
}

function refusal(mapping: string, byLocal: Coupling | undefined, byIntegration: Coupling | undefined): string {
  const where = (c: Coupling): string => (c.mappingName === mapping ? '' : ` (coupled in mapping ${c.mappingName})`);
  const parts: string[] = [];
  if (byLocal) parts.push(`local record "${byLocal.localId}" is already coupled to integration record "${byLocal.integrationId}"${where(byLocal)}`);
  if (byIntegration) parts.push(`integration record "${byIntegration.integrationId}" is already coupled to local record "${byIntegration.localId}"${where(byIntegration)}`);
  return `Cannot couple in mapping ${mapping}: ${parts.join(' and ')}. Uncouple ${parts.length > 1 ? 'them' : 'it'} first.`;
}

/** Set Up Coupling's check of one record: it exists, and is within its side's table filter. */
async function requireRecord(connector: Connector, table: string, filter: FilterCondition[], id: string, field: 'localId' | 'integrationId', where: string): Promise<void> {
  const [inside] = await connector.getMany({ table, ids: [id], fields: [], filter });
  if (inside) return;
  const [exists] = filter.length ? await connector.getMany({ table, ids: [id], fields: [] }) : [];
  if (exists) throw nonRetryable(`Field "${field}": record "${id}" in ${where} is outside the mapping's ${field === 'localId' ? 'table filter' : 'integration table filter'}.`, FAILURE_TYPES.couplingRefused);
  throw nonRetryable(`Field "${field}": record "${id}" does not exist in ${where}.`, FAILURE_TYPES.couplingRefused);
}

export function createCouplingActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
    /** Checks what the run needs and opens its job row (and the sync job's), once whatever the retries. */
    async startCouplingJob(input: StartCouplingJobInput): Promise<StartCouplingJobResult> {
      const mapping = await loadMapping(deps, input.mapping);
      let createNewIfNoMatch = false;
      let levels = 0;
      if (input.matchBased) {
        levels = requireMatchLevels(mapping).length;
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
        levels,
        sync: syncJob && direction ? { jobId: syncJob.id, direction, counters: syncJob.counters } : null,
      };
    },

    /**
     * Couples two records chosen by hand, refusing when either does not exist,
     * is outside its table filter, or is coupled already (in any mapping of its
     * table). The new coupling was never synced: pending in every direction.
     */
    async setUpCoupling(input: SetUpCouplingActivityInput): Promise<SetUpCouplingResult> {
      const ctx = Context.current();
      const mapping = await loadMapping(deps, input.mapping);
      const local = connectorFor(deps, mapping, mapping.local.system);
      const integration = connectorFor(deps, mapping, mapping.integration.system);
      await requireRecord(local, mapping.local.table, mapping.tableFilter, input.localId, 'localId', `${mapping.local.system}.${mapping.local.table}`);
      await requireRecord(integration, mapping.integration.table, mapping.integrationTableFilter, input.integrationId, 'integrationId', `${mapping.integration.system}.${mapping.integration.table}`);
      // An earlier attempt that got this far may have written the coupling already.
      const insertedBefore = ctx.info.heartbeatDetails === 'inserting';
      const current = async (): Promise<{ byLocal?: Coupling; byIntegration?: Coupling }> => ({
        byLocal: (await store.getRecordCouplings(mapping.local, 'local', [input.localId]))[0],
        byIntegration: (await store.getRecordCouplings(mapping.integration, 'integration', [input.integrationId]))[0],
      });
      const coupledNow = (c: { byLocal?: Coupling }): boolean => c.byLocal?.mappingName === mapping.name && c.byLocal.integrationId === input.integrationId;
      const before = await current();
      if (coupledNow(before)) return { counters: { ...emptyCounters(), coupled: insertedBefore ? 1 : 0 }, alreadyCoupled: !insertedBefore };
      if (before.byLocal || before.byIntegration) throw nonRetryable(refusal(mapping.name, before.byLocal, before.byIntegration), FAILURE_TYPES.couplingRefused);
      ctx.heartbeat('inserting');
      await store.insertCouplings(mapping, null, input.jobId, [{
        localId: input.localId, integrationId: input.integrationId, lastSyncedLocalModifiedOn: null, lastSyncedIntegrationModifiedOn: null, pending: pendingOf(mapping),
      }]);
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
      await requireLease(deps, input.mapping, input.lease);
      if (selection.kind === 'ids') {
        uncoupled += await store.deleteCouplings(mapping.name, selection.side, selection.ids, input.jobId);
        ctx.heartbeat({ uncoupled, done: true });
        return done(true);
      }
      let afterId = 0;
      for (;;) {
        const page = await store.pageCouplings(mapping.name, { afterId, limit: UNCOUPLE_PAGE });
        if (page.length > 0) uncoupled += await store.deleteCouplings(mapping.name, 'local', page.map((x) => x.localId), input.jobId);
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

    /** Closes a job row with its counters; returns them as stored. */
    async finishCouplingJob(input: FinishCouplingJobInput): Promise<JobCounters> {
      // Couplings removed by an attempt killed before its heartbeat are counted by the store's tally.
      let counters = { ...input.counters, uncoupled: Math.max(input.counters.uncoupled, await store.countUncoupledBy(input.jobId)) };
      if (input.recount) {
        // A batch killed after its writes and before its heartbeat counted nothing; the couplings say what it did.
        const made = await store.countCoupledBy(input.mapping, input.jobId);
        const failedUnmatched = Math.max(0, counters.unmatched - counters.inserted);
        counters = { ...counters, coupled: made.matched + made.created, inserted: made.created, unmatched: failedUnmatched + made.created };
      }
      await store.updateJob(input.jobId, { counters, status: input.status, message: input.message, finished: true });
      deps.log?.(`job ${input.jobId} ${input.mapping} ${input.status} ${JSON.stringify(counters)}`);
      return counters;
    },
  };
}

export type CouplingActivities = ReturnType<typeof createCouplingActivities>;
