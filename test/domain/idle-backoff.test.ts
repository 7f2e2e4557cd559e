import { foundWork, nextInterval } from '../../common/idle-backoff';

const backoff = { normalMs: 30 * 60_000, upToMs: 720 * 60_000 };

test('idle runs double the interval up to the ceiling; a run with work restores the normal one', () => {
  const steps: number[] = [];
  let current = backoff.normalMs;
  for (let i = 0; i < 7; i++) steps.push((current = nextInterval(current, backoff, false)) / 60_000);
  expect(steps).toEqual([60, 120, 240, 480, 720, 720, 720]);
  expect(nextInterval(current, backoff, true)).toBe(backoff.normalMs);
  // A ceiling below the normal interval never shortens it; an interval changed by hand below normal starts from normal.
  expect(nextInterval(backoff.normalMs, { normalMs: backoff.normalMs, upToMs: 60_000 }, false)).toBe(backoff.normalMs);
  expect(nextInterval(60_000, backoff, false)).toBe(2 * backoff.normalMs);
});

test('work is anything written, coupled, uncoupled or failed; unchanged and skipped records are not', () => {
  const none = { inserted: 0, modified: 0, deleted: 0, coupled: 0, uncoupled: 0, failed: 0, unchanged: 5, skipped: 2 };
  expect(foundWork(none)).toBe(false);
  for (const k of ['inserted', 'modified', 'deleted', 'coupled', 'uncoupled', 'failed'] as const) expect(foundWork({ ...none, [k]: 1 })).toBe(true);
});
