/**
 * A Schedule's idle back-off: a scheduled run that found nothing to do doubles
 * the interval, up to the ceiling (BC's inactivity timeout, 720 minutes by
 * default); a run that found work, or a live change, restores the normal one.
 * Pure: the activity that updates the Schedule applies it.
 */

/** A duration as a person writes it: "30 minutes", "5m", "1 hour", "2 days". */
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*$/i;

/** @default '720 minutes' (BC's default inactivity timeout) */
export const DEFAULT_IDLE_UP_TO = '720 minutes';

export interface IdleBackoff {
  /** The interval the Schedule was given. */
  normalMs: number;
  /** How far idle runs may lengthen it. */
  upToMs: number;
}

/** The interval after a run: doubled when it found nothing (at most the ceiling), the normal one when it found work. */
export function nextInterval(currentMs: number, backoff: IdleBackoff, foundWork: boolean): number {
  if (foundWork) return backoff.normalMs;
  const ceiling = Math.max(backoff.normalMs, backoff.upToMs);
  return Math.min(Math.max(currentMs, backoff.normalMs) * 2, ceiling);
}

/** Whether a run's counters say it did anything (wrote, coupled, uncoupled or failed a record). */
export function foundWork(counters: { inserted: number; modified: number; deleted: number; coupled: number; uncoupled: number; failed: number }): boolean {
  return counters.inserted + counters.modified + counters.deleted + counters.coupled + counters.uncoupled + counters.failed > 0;
}
