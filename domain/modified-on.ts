/**
 * Modified-on values are compared exactly as the source reports them: never
 * rounded through a Date (that is where BC's millisecond rounding came from).
 * Digit-only values (row versions) compare as integers; two ISO-8601
 * timestamps compare as instants, fraction digits exactly ("05Z" equals
 * "05.000Z" and is before "05.200Z"); anything else as strings.
 */
const DIGITS = /^\d+$/;
const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

interface Instant {
  /** Whole seconds since the epoch. */
  seconds: number;
  /** Fraction digits, without trailing zeros. */
  fraction: string;
}

function instantOf(value: string): Instant | null {
  const match = ISO_TIMESTAMP.exec(value);
  if (!match) return null;
  const millis = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(millis)) return null;
  return { seconds: millis / 1000, fraction: (match[2] ?? '').replace(/0+$/, '') };
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const x = a.fraction.padEnd(width, '0');
  const y = b.fraction.padEnd(width, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareModifiedOn(a: string, b: string): number {
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = instantOf(a);
  const y = instantOf(b);
  if (x && y) return compareInstants(x, y);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isLater(candidate: string, than: string | null | undefined): boolean {
  return than === null || than === undefined || compareModifiedOn(candidate, than) > 0;
}

/**
 * The watermark after a pass: the largest modified-on scanned, capped at the
 * job's start so records changed while the run went on are read again next
 * time, and never lower than before. Row versions have no relation to our
 * clock and are not capped.
 */
export function nextWatermark(previous: string | null, largestScanned: string | null, jobStartedAt: string): string | null {
  if (largestScanned === null) return previous;
  let candidate = largestScanned;
  const scanned = instantOf(largestScanned);
  const start = instantOf(jobStartedAt);
  if (scanned && start && compareInstants(scanned, start) > 0) candidate = jobStartedAt;
  if (previous !== null && compareModifiedOn(candidate, previous) <= 0) return previous;
  return candidate;
}
