/** The dependency pool a full synchronization runs its mappings with: plain promises, no dev server needed. */
import { runInDependencyOrder, type PoolItem } from '../../workflows/dependency-pool';

interface Trace {
  events: string[];
  notStarted: Record<string, string[]>;
  maxRunning: number;
}

/** Runs the pool with work that finishes when `release(name)` is called, recording starts and ends. */
function harness(items: PoolItem[], limit: number, failing: Set<string> = new Set(), stopAfter?: string) {
  const trace: Trace = { events: [], notStarted: {}, maxRunning: 0 };
  const releases = new Map<string, () => void>();
  let running = 0;
  let stopped = false;
  const done = runInDependencyOrder(items, limit, {
    run: (name) => {
      trace.events.push(`start ${name}`);
      running++;
      trace.maxRunning = Math.max(trace.maxRunning, running);
      return new Promise<boolean>((resolve) => {
        releases.set(name, () => {
          running--;
          trace.events.push(`end ${name}`);
          if (name === stopAfter) stopped = true;
          resolve(!failing.has(name));
        });
      });
    },
    notStarted: (name, blockedBy) => {
      trace.notStarted[name] = blockedBy;
    },
    stopped: () => stopped,
  });
  const tick = () => new Promise((r) => setImmediate(r));
  const release = async (name: string) => {
    await tick();
    const fn = releases.get(name);
    if (!fn) throw new Error(`${name} is not running; events: ${trace.events.join(', ')}`);
    fn();
    await tick();
  };
  return { trace, release, done };
}

const item = (name: string, ...dependsOn: string[]): PoolItem => ({ name, dependsOn });

test('a chain runs one after another; an independent item runs beside it', async () => {
  const { trace, release, done } = harness([item('A'), item('D'), item('B', 'A'), item('C', 'B')], 4);
  await release('A');
  await release('B');
  await release('D');
  await release('C');
  await done;
  expect(trace.events).toEqual(['start A', 'start D', 'end A', 'start B', 'end B', 'start C', 'end D', 'end C']);
  expect(trace.maxRunning).toBe(2);
});

test('at most `limit` at once, started in the given order', async () => {
  const { trace, release, done } = harness([item('A'), item('B'), item('C'), item('D')], 2);
  await release('B');
  await release('A');
  await release('C');
  await release('D');
  await done;
  expect(trace.events.slice(0, 4)).toEqual(['start A', 'start B', 'end B', 'start C']);
  expect(trace.maxRunning).toBe(2);
});

test('an item waits for all it depends on', async () => {
  const { trace, release, done } = harness([item('A'), item('B'), item('C', 'A', 'B')], 4);
  await release('A');
  expect(trace.events).not.toContain('start C');
  await release('B');
  await release('C');
  await done;
  expect(trace.events).toEqual(['start A', 'start B', 'end A', 'end B', 'start C', 'end C']);
});

test('a failure leaves its dependants, direct or not, not started, naming what blocked them; the others go on', async () => {
  const { trace, release, done } = harness([item('A'), item('D'), item('B', 'A'), item('C', 'B'), item('E', 'C', 'D')], 4, new Set(['A']));
  await release('A');
  expect(trace.notStarted).toEqual({ B: ['A'], C: ['B'], E: ['C'] });
  await release('D');
  await done;
  expect(trace.events).toEqual(['start A', 'start D', 'end A', 'end D']);
});

test('once stopped, nothing more starts; the pool ends when the running ones have', async () => {
  const { trace, release, done } = harness([item('A'), item('B'), item('C', 'A')], 1, new Set(), 'A');
  await release('A');
  await done;
  expect(trace.events).toEqual(['start A', 'end A']);
  expect(trace.notStarted).toEqual({});
});

test('a rejected item fails the pool', async () => {
  await expect(
    runInDependencyOrder([item('A')], 1, {
      run: () => Promise.reject(new Error('boom')),
      notStarted: () => undefined,
      stopped: () => false,
    }),
  ).rejects.toThrow('boom');
});

test('no items: done at once', async () => {
  await expect(runInDependencyOrder([], 4, { run: () => Promise.resolve(true), notStarted: () => undefined, stopped: () => false })).resolves.toBeUndefined();
});
