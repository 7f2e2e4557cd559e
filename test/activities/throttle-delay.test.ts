/**
 * The wait after a throttle (activities/failure-policy.ts throttleDelayMs):
 * never less than the system's Retry-After, half as long again with every
 * earlier attempt of the activity, capped at 30 s unless the system asks for
 * more.
 */
import { throttleDelayMs, throttledFailure } from '../../activities/failure-policy';
import { ThrottledError } from '../../connectors/connector';

test('the first attempt waits Retry-After; each later one half as long again, up to 30 s', () => {
  expect([0, 1, 2, 3, 4, 5, 8, 9, 50].map((earlier) => throttleDelayMs(1000, earlier))).toEqual([1000, 1500, 2250, 3375, 5063, 7594, 25_629, 30_000, 30_000]);
});

test('a Retry-After longer than the cap is still honoured; a zero one still waits', () => {
  expect(throttleDelayMs(90_000, 0)).toBe(90_000);
  expect(throttleDelayMs(90_000, 4)).toBe(90_000);
  expect(throttleDelayMs(0, 0)).toBe(1);
});

test('the failure carries the delay as nextRetryDelay and says it', () => {
  const failure = throttledFailure('business-central', new ThrottledError('429', 1500), 'the batch', 2);
  expect(failure.nextRetryDelay).toBe(3375);
  expect(failure.message).toBe('business-central throttled the batch; retrying after 3375 ms');
});
