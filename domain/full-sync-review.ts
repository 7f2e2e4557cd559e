/**
 * Full Synch. Review's question for one mapping: can it be synchronized as it
 * is, or would syncing create duplicates? Syncing creates a counterpart for
 * every uncoupled record, so when both tables already hold records and few
 * of them are coupled, most of those records probably have a counterpart
 * already, and coupling by match fields must come first. Pure.
 */

/**
 * Share of the smaller side's records that must be coupled for the mapping to
 * count as set up: below it (and with records on both sides), coupling comes
 * first. @default 0.5
 */
export const COUPLED_SHARE_REQUIRED = 0.5;

/**
 * How many records of each side the review needs to count to decide, given the
 * couplings: past this many on both sides the answer is "couple first", and
 * counting further changes nothing. So a review of an uncoupled mapping reads
 * one key of each side, however large the tables.
 */
export function recordsToCount(couplings: number): number {
  return Math.floor(couplings / COUPLED_SHARE_REQUIRED) + 1;
}

export interface ReviewCounts {
  /** Local records within the table filter, counted up to recordsToCount(couplings). */
  localRecords: number;
  /** Integration records within the integration table filter, counted the same way. */
  integrationRecords: number;
  /** Couplings of the mapping. */
  couplings: number;
}

/** Both sides hold records and fewer than COUPLED_SHARE_REQUIRED of the smaller side's are coupled. */
export function needsCoupling(counts: ReviewCounts): boolean {
  const smaller = Math.min(counts.localRecords, counts.integrationRecords);
  return smaller > 0 && counts.couplings < smaller * COUPLED_SHARE_REQUIRED;
}

/** Why a full synchronization does not sync a mapping as it is: what was counted, and what to do. */
export function populatedMessage(mapping: string, counts: ReviewCounts): string {
  const limit = recordsToCount(counts.couplings);
  const count = (n: number): string => (n >= limit ? `at least ${n}` : String(n));
  return (
    `Mapping ${mapping}: both tables already hold records (local ${count(counts.localRecords)}, integration ${count(counts.integrationRecords)}) ` +
    `and only ${counts.couplings} are coupled, so syncing would create duplicates of records that have a counterpart already; ` +
    `run match-based coupling first, or start the full synchronization with onPopulated "couple".`
  );
}
