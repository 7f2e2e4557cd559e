/** Deterministic workflow ids: a second start of the same run finds the running one instead of a duplicate. */
import { createHash } from 'node:crypto';
import type { Side } from '../common/types';

/** Longest list of mapping names a full synchronization's id spells out; a longer one is named by its hash. */
const MAX_SPELT_OUT = 200;

export const workflowIds = {
  bulkSync: (mapping: string): string => `bulk-sync/${mapping}`,
  singleSync: (mapping: string, side: Side, recordId: string): string => `single-sync/${mapping}/${side}/${recordId}`,
  retryFailed: (mapping: string): string => `retry-failed/${mapping}`,
  matchBasedCoupling: (mapping: string): string => `match-based-coupling/${mapping}`,
  setUpCoupling: (mapping: string, localId: string): string => `set-up-coupling/${mapping}/${localId}`,
  uncouple: (mapping: string): string => `uncouple/${mapping}`,
  liveSync: (mapping: string): string => `live-sync/${mapping}`,
  logRetention: 'log-retention',
  /** `full-synchronization/all`, or the mappings asked for (in any order, once each): `full-synchronization/CONTACT,CUSTOMER`. */
  fullSynchronization: (mappings?: readonly string[]): string => {
    if (!mappings) return 'full-synchronization/all';
    const names = [...new Set(mappings)].sort().join(',');
    return `full-synchronization/${names.length <= MAX_SPELT_OUT ? names : createHash('sha256').update(names).digest('hex').slice(0, 32)}`;
  },
};
