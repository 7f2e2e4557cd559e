/** Deterministic workflow ids: a second start of the same run finds the running one instead of a duplicate. */
import type { Side } from '../common/types';

export const workflowIds = {
  bulkSync: (mapping: string): string => `bulk-sync/${mapping}`,
  singleSync: (mapping: string, side: Side, recordId: string): string => `single-sync/${mapping}/${side}/${recordId}`,
  retryFailed: (mapping: string): string => `retry-failed/${mapping}`,
  matchBasedCoupling: (mapping: string): string => `match-based-coupling/${mapping}`,
  setUpCoupling: (mapping: string, localId: string): string => `set-up-coupling/${mapping}/${localId}`,
  uncouple: (mapping: string): string => `uncouple/${mapping}`,
};
