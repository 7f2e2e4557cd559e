/**
 * Full synchronization's activities: the plan (which mappings run, each after
 * what it depends on, every one checked against its tables before the first
 * starts) and the review of one mapping (can it be synced as it is, or must
 * it be coupled by match fields first?).
 */
import { Context } from '@temporalio/activity';
import { FAILURE_TYPES, MAX_FULL_SYNC_MAPPINGS } from '../common/constants';
import { chunk } from '../common/collections';
import type { FilterCondition, MappingDirection, MappingReview, RecordKey } from '../common/types';
import type { Connector } from '../connectors/connector';
import { DependencyOrderError, dependencyOrder } from '../domain/dependency-order';
import { passDirections } from '../domain/field-plan';
import { needsCoupling, recordsToCount } from '../domain/full-sync-review';
import type { ActivityDeps } from './deps';
import { PLAN_CHECKS_IN_FLIGHT, PLAN_THROTTLE_BUDGET_MS, REVIEW_PAGE } from './defaults';
import { nonRetryable, readFailure } from './failure-policy';
import { connectorFor, loadMapping, loadPass } from './pass-loader';
import { waitOutThrottling } from './throttle-wait';
import type { FullSynchronizationPlan, PlanFullSynchronizationInput, ReviewMappingInput } from '../common/protocol';

/** Records of a table within a filter, counted up to `limit`: keys only, a page at a time, heartbeating between pages. */
async function countUpTo(connector: Connector, table: string, filter: FilterCondition[], limit: number): Promise<number> {
  const ctx = Context.current();
  let counted = 0;
  let after: RecordKey | null = null;
  while (counted < limit) {
    const wanted = Math.min(REVIEW_PAGE, limit - counted);
    const keys = await waitOutThrottling(() => connector.scanKeys({ table, filter, since: null, after, limit: wanted }), PLAN_THROTTLE_BUDGET_MS).catch(
      (error: unknown) => {
        throw readFailure(connector.name, error);
      },
    );
    counted += keys.length;
    if (keys.length < wanted) break;
    after = keys[keys.length - 1];
    ctx.heartbeat(counted);
  }
  return counted;
}

export function createFullSyncActivities(deps: ActivityDeps) {
  return {
    /**
     * The mappings asked for (all when none are) and, transitively, what they
     * depend on, in dependency order. Refused, non-retryable and naming them,
     * when a mapping or a dependency is not saved, when the dependencies make
     * a cycle (saves refuse one, but a store edited by hand may hold one), or
     * when a mapping cannot run against its tables: a run that cannot do all
     * of them starts none.
     */
    async planFullSynchronization(input: PlanFullSynchronizationInput): Promise<FullSynchronizationPlan> {
      const nodes = await deps.store.listMappingDependencies();
      let order;
      try {
        order = dependencyOrder(nodes, input.mappings);
      } catch (error) {
        if (!(error instanceof DependencyOrderError)) throw error;
        if (error.problem === 'unknownMapping') {
          // Worded as the other runs word an unknown mapping (store.requireMapping).
          const known = nodes.slice(0, 20).map((n) => n.name);
          const names = error.mappings.map((n) => `"${n}"`).join(', ');
          throw nonRetryable(
            `Field "mappings": no integration table mapping named ${names}; known mappings: ${known.length ? known.join(', ') : '(none yet)'}.`,
            FAILURE_TYPES.unknownMapping,
          );
        }
        throw nonRetryable(`Full synchronization refused: ${error.message}`, FAILURE_TYPES.invalidMapping);
      }
      if (order.length > MAX_FULL_SYNC_MAPPINGS) {
        throw nonRetryable(
          `Field "mappings": a full synchronization covers at most ${MAX_FULL_SYNC_MAPPINGS} mappings, and this one would cover ${order.length}; give fewer.`,
          FAILURE_TYPES.invalidInput,
        );
      }
      const directions = new Map<string, MappingDirection>();
      for (const part of chunk(order, PLAN_CHECKS_IN_FLIGHT)) {
        await Promise.all(
          part.map(async (node) => {
            const mapping = await loadMapping(deps, node.name);
            for (const direction of passDirections(mapping)) await loadPass(deps, mapping.name, direction);
            directions.set(mapping.name, mapping.direction);
          }),
        );
      }
      return { mappings: order.map((n) => ({ name: n.name, dependsOn: [...n.dependsOn], direction: directions.get(n.name) as MappingDirection })) };
    },

    /**
     * Counts a mapping's couplings and the records of each side within its
     * filters, each side only as far as the rule of domain/full-sync-review.ts
     * needs, and says whether it must be coupled before it is synced.
     */
    async reviewMapping(input: ReviewMappingInput): Promise<MappingReview> {
      const mapping = await loadMapping(deps, input.mapping);
      const couplings = await deps.store.countCouplings(mapping.name);
      const limit = recordsToCount(couplings);
      const [localRecords, integrationRecords] = await Promise.all([
        countUpTo(connectorFor(deps, mapping, mapping.local.system), mapping.local.table, mapping.tableFilter, limit),
        countUpTo(connectorFor(deps, mapping, mapping.integration.system), mapping.integration.table, mapping.integrationTableFilter, limit),
      ]);
      const counts = { localRecords, integrationRecords, couplings };
      return { ...counts, countedUpTo: limit, needsCoupling: needsCoupling(counts) };
    },
  };
}
