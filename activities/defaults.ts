/**
 * The activities' limits and timings, in one place. Each is a named constant
 * documented with its default; the reason it has that value is beside it.
 */

/** How long a run's lease on its mapping lasts without renewal (leased activities renew it every quarter of this). @default 10 minutes */
export const RUN_LOCK_TTL_MS = 10 * 60_000;

/** How long a loaded mapping is reused before it is read from the store again. @default 2 seconds */
export const MAPPING_CACHE_MS = 2000;

/** The longest a throttled activity's next attempt waits beyond the system's Retry-After (the batch retry policy's longest interval). @default 30 seconds */
export const THROTTLE_BACKOFF_MAX_MS = 30_000;

/** A throttled activity's wait grows by this factor for each earlier attempt, from the system's Retry-After (failure-policy.ts throttleDelayMs). @default 1.5 */
export const THROTTLE_BACKOFF_GROWTH = 1.5;

/** Retry-After waited inside one planning attempt (a control activity's start-to-close timeout is a minute). @default 30 seconds */
export const PLAN_THROTTLE_BUDGET_MS = 30_000;

/**
 * The most keys one keyset read of a range may return. A range is bounded by
 * its planned keys (a batch), so this is a safety bound, not a page size.
 * @default 1,000,000
 */
export const KEYSET_READ_LIMIT = 1_000_000;

/** Couplings removed per statement when uncoupling a whole mapping. @default 1000 */
export const UNCOUPLE_PAGE = 1000;

/** Match-based coupling: claims resolved into couplings per statement. @default 1000 */
export const RESOLVE_PAGE = 1000;

/** Match-based coupling: candidate rows asked for per local record before a query is split (a superset may be larger than the matches). @default 20 */
export const CANDIDATES_PER_RECORD = 20;

/** Match-based coupling: the smallest candidate limit of one query. @default 1000 */
export const MIN_CANDIDATE_LIMIT = 1000;

/** Full synchronization's review: keys read per call while counting a side's records (only as many as the decision needs). @default 5000 */
export const REVIEW_PAGE = 5000;

/** Full synchronization's plan: mappings checked against their tables at once. @default 8 */
export const PLAN_CHECKS_IN_FLIGHT = 8;
