/** Throttling waited out within a budget; which connector failures count as passing. */
import { ThrottledError } from '../../connectors/connector';
import { TransientHttpError } from '../../connectors/http/http-client';
import { AuthenticationError } from '../../connectors/http/token-client';
import { isPermanentConfigurationError, isTransientError } from '../../connectors/transient';
import { waitOutThrottling } from '../../activities/throttle-wait';

test('waits each Retry-After within the budget, then lets the throttle through', async () => {
  const waits: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
  };
  let calls = 0;
  const flaky = async (): Promise<string> => {
    calls++;
    if (calls <= 2) throw new ThrottledError('slow down', 1000);
    return 'read';
  };
  await expect(waitOutThrottling(flaky, 5000, sleep)).resolves.toBe('read');
  expect(waits).toEqual([1000, 1000]);

  const always = async (): Promise<string> => {
    throw new ThrottledError('slow down', 2000);
  };
  waits.length = 0;
  await expect(waitOutThrottling(always, 5000, sleep)).rejects.toBeInstanceOf(ThrottledError);
  expect(waits).toEqual([2000, 2000]);

  const broken = async (): Promise<string> => {
    throw new Error('boom');
  };
  await expect(waitOutThrottling(broken, 5000, sleep)).rejects.toThrow('boom');
});

test('5xx and dropped connections pass; a refused secret does not', () => {
  expect(isTransientError(new TransientHttpError('HTTP 503', 503))).toBe(true);
  expect(isTransientError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isTransientError(new Error('SQLITE_CONSTRAINT: UNIQUE constraint failed'))).toBe(false);
  expect(isTransientError(new AuthenticationError('invalid_client'))).toBe(false);
  expect(isPermanentConfigurationError(new AuthenticationError('invalid_client'))).toBe(true);
  expect(isPermanentConfigurationError(new TransientHttpError('HTTP 500'))).toBe(false);
});
