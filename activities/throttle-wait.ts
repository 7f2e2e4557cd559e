/**
 * Waits out a system's Retry-After inside the activity, within a budget. Control
 * activities have a bounded number of attempts; without this, a burst of 429s
 * on the planning scan would spend them and fail the run, when the system only
 * asked us to wait.
 */
import { ThrottledError } from '../connectors/connector';

export async function waitOutThrottling<T>(
  read: () => Promise<T>,
  budgetMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  let waited = 0;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ThrottledError) || waited + error.retryAfterMs > budgetMs) throw error;
      await sleep(error.retryAfterMs);
      waited += error.retryAfterMs;
    }
  }
}
