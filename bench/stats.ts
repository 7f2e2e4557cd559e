/**
 * Small helpers every benchmark section shares: medians and percentiles,
 * rounding, timing, the machine's load average and the log line.
 */
import os from 'node:os';

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

export const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

export const log = (line: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Seconds `fn` took, by the monotonic clock. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The 1, 5 and 15 minute load averages, two decimals: on a shared 2-core machine a figure means little without them. */
export const loadAverage = (): number[] => os.loadavg().map((x) => round(x, 2));

/** A section's load averages at its start and end. */
export interface LoadWindow {
  atStart: number[];
  atEnd: number[];
}

/** Runs a section, noting the load average before and after it. */
export async function withLoad<T>(fn: () => Promise<T>): Promise<{ result: T; loadAverage: LoadWindow }> {
  const atStart = loadAverage();
  const result = await fn();
  return { result, loadAverage: { atStart, atEnd: loadAverage() } };
}
