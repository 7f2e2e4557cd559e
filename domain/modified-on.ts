/**
 * Modified-on values are compared exactly as the source reports them: never
 * parsed into Dates (that is where BC's millisecond rounding came from).
 * Digit-only values (row versions) compare as integers; others as strings,
 * which orders ISO-8601 UTC timestamps of one format correctly.
 */
const DIGITS = /^\d+$/;

export function compareModifiedOn(a: string, b: string): number {
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isLater(candidate: string, than: string | null | undefined): boolean {
  return than === null || than === undefined || compareModifiedOn(candidate, than) > 0;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The watermark after a pass: the largest modified-on scanned, capped at the
 * job's start so records changed while the run went on are read again next time.
 * Row versions have no relation to our clock and are not capped.
 */
export function nextWatermark(previous: string | null, largestScanned: string | null, jobStartedAt: string): string | null {
  if (largestScanned === null) return previous;
  let candidate = largestScanned;
  if (ISO_TIMESTAMP.test(candidate) && ISO_TIMESTAMP.test(jobStartedAt) && candidate > jobStartedAt) candidate = jobStartedAt;
  if (previous !== null && compareModifiedOn(candidate, previous) < 0) return previous;
  return candidate;
}
