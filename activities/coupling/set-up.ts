/**
 * Set Up Coupling: couples two records chosen by hand, or says exactly why
 * not. Safe to repeat: couplings are unique per record and table, and an
 * attempt that wrote the coupling is recognised by its heartbeat.
 */
import { Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../../common/constants';
import { emptyCounters, type FilterCondition } from '../../common/types';
import type { Connector } from '../../connectors/connector';
import type { Coupling } from '../../store/store';
import type { ActivityDeps } from '../deps';
import { pendingOf } from './match-context';
import { connectorFor, loadMapping } from '../pass-loader';
import { nonRetryable } from '../failure-policy';
import type { SetUpCouplingActivityInput, SetUpCouplingResult } from '../../common/protocol';

function refusal(mapping: string, byLocal: Coupling | undefined, byIntegration: Coupling | undefined): string {
  const where = (c: Coupling): string => (c.mappingName === mapping ? '' : ` (coupled in mapping ${c.mappingName})`);
  const parts: string[] = [];
  if (byLocal) parts.push(`local record "${byLocal.localId}" is already coupled to integration record "${byLocal.integrationId}"${where(byLocal)}`);
  if (byIntegration)
    parts.push(`integration record "${byIntegration.integrationId}" is already coupled to local record "${byIntegration.localId}"${where(byIntegration)}`);
  return `Cannot couple in mapping ${mapping}: ${parts.join(' and ')}. Uncouple ${parts.length > 1 ? 'them' : 'it'} first.`;
}

/** Set Up Coupling's check of one record: it exists, and is within its side's table filter. */
async function requireRecord(
  connector: Connector,
  table: string,
  filter: FilterCondition[],
  id: string,
  field: 'localId' | 'integrationId',
  where: string,
): Promise<void> {
  const [inside] = await connector.getMany({ table, ids: [id], fields: [], filter });
  if (inside) return;
  const [exists] = filter.length ? await connector.getMany({ table, ids: [id], fields: [] }) : [];
  if (exists)
    throw nonRetryable(
      `Field "${field}": record "${id}" in ${where} is outside the mapping's ${field === 'localId' ? 'table filter' : 'integration table filter'}.`,
      FAILURE_TYPES.couplingRefused,
    );
  throw nonRetryable(`Field "${field}": record "${id}" does not exist in ${where}.`, FAILURE_TYPES.couplingRefused);
}

export function createSetUpCouplingActivities(deps: ActivityDeps) {
  const { store } = deps;
  return {
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
      await requireRecord(
        integration,
        mapping.integration.table,
        mapping.integrationTableFilter,
        input.integrationId,
        'integrationId',
        `${mapping.integration.system}.${mapping.integration.table}`,
      );
      const current = async (): Promise<{ byLocal?: Coupling; byIntegration?: Coupling }> => ({
        byLocal: (await store.getRecordCouplings(mapping.local, 'local', [input.localId]))[0],
        byIntegration: (await store.getRecordCouplings(mapping.integration, 'integration', [input.integrationId]))[0],
      });
      const coupledNow = (c: { byLocal?: Coupling }): boolean => c.byLocal?.mappingName === mapping.name && c.byLocal.integrationId === input.integrationId;
      const before = await current();
      if (coupledNow(before)) {
        // An earlier attempt of this job may have written the coupling and died before returning: the coupling's job says so.
        const insertedBefore = ctx.info.attempt > 1 && (await store.jobTallies(mapping.name, input.jobId)).made > 0;
        return { counters: { ...emptyCounters(), coupled: insertedBefore ? 1 : 0 }, alreadyCoupled: !insertedBefore };
      }
      if (before.byLocal || before.byIntegration)
        throw nonRetryable(refusal(mapping.name, before.byLocal, before.byIntegration), FAILURE_TYPES.couplingRefused);
      await store.insertCouplings(mapping, null, input.jobId, [
        {
          localId: input.localId,
          integrationId: input.integrationId,
          lastSyncedLocalModifiedOn: null,
          lastSyncedIntegrationModifiedOn: null,
          pending: pendingOf(mapping),
        },
      ]);
      const after = await current();
      // The store refused a clash: someone else coupled one of the two in between.
      if (!coupledNow(after)) throw nonRetryable(refusal(mapping.name, after.byLocal, after.byIntegration), FAILURE_TYPES.couplingRefused);
      return { counters: { ...emptyCounters(), coupled: 1 }, alreadyCoupled: false };
    },
  };
}
