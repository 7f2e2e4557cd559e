/**
 * Live sync's debounce window, waited in the worker. A Temporal timer shorter
 * than the server's timer shift (`history.timerProcessorMaxTimeShift`, 1 s by
 * default) fires about a second late whatever its duration: on the dev server
 * a 100 ms and a 500 ms timer both took about 1,050 ms. An activity waits to
 * the millisecond. It is an ordinary activity, not a local one: its completion
 * comes back through the server with the signals that arrived meanwhile, while
 * a local activity resolves inside the workflow task, before they are seen.
 */
import { Context } from '@temporalio/activity';
import { WORKER_WAIT_MAX_MS } from '../common/constants';

export function createLiveActivities() {
  return {
    async liveDebounce(input: { ms: number }): Promise<void> {
      await Context.current().sleep(Math.min(input.ms, WORKER_WAIT_MAX_MS));
    },
  };
}
