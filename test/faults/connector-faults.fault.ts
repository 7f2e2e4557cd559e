/**
 * Faults of the services themselves, from the Business Central and Dataverse
 * EMULATORS through the real connectors: 429 storms with Retry-After, 5xx,
 * responses slower than the batch's heartbeat timeout, and a connection dropped
 * after the service applied a write. Each scenario couples the demo's records,
 * then syncs to Dataverse (faults there) and back to BC (faults there); both
 * sides must end with every record coupled once, no duplicates, no error rows.
 */
import type { Store } from '../../store/store';
import type { Fault } from '../../emulators/common/emulator-server';
import { emulatedMapping, startEmulatedSystems, type EmulatedSystems } from '../../worker/demo/emulated-systems';
import { sqliteDialect } from '../helpers/stores';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { tally, writeSection, type InvariantTally } from './results';

const MAPPING = 'CONNECTOR-FAULTS';
/** Two attempts per record: the faults below must not spend them (throttling and outages do not count). */
const RETRY = { maximumAttempts: 2, initialIntervalMs: 100, heartbeatTimeoutMs: 3000 };

interface Scenario {
  name: string;
  fault: Fault;
  times: number;
  /** What must hold besides consistency. */
  expect?: (ctx: { elapsedMs: number }) => boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: '429 storm with Retry-After 1 s on every write batch and read',
    fault: { kind: 'throttle', retryAfterSeconds: 1 },
    times: 6,
    expect: ({ elapsedMs }) => elapsedMs >= 1000,
  },
  { name: '5xx answers (service outage)', fault: { kind: 'serverError', status: 503 }, times: 6 },
  { name: 'a write slower than the batch heartbeat timeout (3 s)', fault: { kind: 'slow', delayMs: 5000 }, times: 1 },
  { name: 'connection dropped after the service applied a write batch', fault: { kind: 'dropAfterWrite' }, times: 2 },
];

let temporal: TestTemporal;
const started = Date.now();
const tallies = new Map<string, InvariantTally>();
const trials: Record<string, string | number | boolean>[] = [];

beforeAll(async () => {
  temporal = await connectTestTemporal();
});

afterAll(async () => {
  writeSection({
    id: 'connector-faults',
    title: 'Connector faults (Business Central and Dataverse emulators)',
    fault:
      'Each scenario injects its fault into the Dataverse emulator while 126 customers are created there, then into the Business Central emulator while 50 accounts come back as customers (after match-based coupling of 174 pairs), with two attempts per record.',
    runs: trials.length,
    passed: trials.filter((t) => t.held === true).length,
    invariants: [...tallies.values()],
    metrics: {},
    trials,
    notes: [
      "Throttling waits the Retry-After (half as long again for each earlier attempt of the activity, up to 30 s) and 5xx answers are retried with backoff without spending a record's attempts; a slow write is timed out by its heartbeat and retried while it still runs, and the idempotent creates (Dataverse upsert by GUID, Business Central number look-up) make both attempts name one record.",
    ],
    seconds: (Date.now() - started) / 1000,
  });
  await temporal?.close();
});

async function consistent(store: Store, systems: EmulatedSystems): Promise<{ name: string; ok: boolean }[]> {
  const customers = systems.businessCentral.records('customers');
  const accounts = systems.dataverse.all('accounts');
  const couplings = await store.getCouplings(
    MAPPING,
    'local',
    customers.map((c) => String(c.id)),
  );
  const lower = (v: unknown): string =>
    String(v ?? '')
      .trim()
      .toLowerCase();
  return [
    { name: 'every Business Central customer coupled once', ok: couplings.length === customers.length },
    {
      name: 'every Dataverse account coupled once',
      ok: new Set(couplings.map((c) => c.integrationId)).size === accounts.length && accounts.length === customers.length,
    },
    { name: 'no duplicate customer (by name)', ok: new Set(customers.map((c) => lower(c.displayName))).size === customers.length },
    { name: 'no duplicate account (by name)', ok: new Set(accounts.map((a) => lower(a.name))).size === accounts.length },
  ];
}

test.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
  const { store, cleanup } = await sqliteDialect.open();
  const systems = await startEmulatedSystems();
  const held: { name: string; ok: boolean }[] = [];
  try {
    await store.saveMapping(emulatedMapping(MAPPING));
    await withWorker(temporal, { store, systems: systems.systems }, async ({ sync }) => {
      await sync.matchBasedCoupling({ mapping: MAPPING });
      const writes = (url: string, method: string): boolean => method === 'POST' && url.endsWith('$batch');
      systems.dataverse.injectFault({
        fault: scenario.fault,
        times: scenario.times,
        when: (r) => scenario.fault.kind === 'throttle' || writes(r.url, r.method),
      });
      const t0 = Date.now();
      const toDataverse = await sync.bulkSync({ mapping: MAPPING, direction: 'ToIntegrationTable', retry: RETRY });
      const elapsedMs = Date.now() - t0;
      systems.businessCentral.injectFault({
        fault: scenario.fault,
        times: scenario.times,
        when: (r) => scenario.fault.kind === 'throttle' || writes(r.url, r.method),
      });
      const toBc = await sync.bulkSync({ mapping: MAPPING, direction: 'FromIntegrationTable', retry: RETRY });
      const jobs = [...toDataverse.jobs, ...toBc.jobs];
      const errors = (await Promise.all(jobs.map((j) => store.listErrors({ jobId: j.jobId })))).flat();
      held.push(
        { name: 'the runs completed', ok: jobs.every((j) => j.status === 'succeeded') },
        { name: 'no error rows', ok: errors.length === 0 },
        {
          name: 'the fault was injected',
          ok: [systems.dataverse.log, systems.businessCentral.log].every(
            (log) => log.some((l) => l.status >= 429) || scenario.fault.kind === 'slow' || scenario.fault.kind === 'dropAfterWrite',
          ),
        },
        { name: 'inserted counters match the records created', ok: toDataverse.jobs[0].counters.inserted === 126 && toBc.jobs[0].counters.inserted === 50 },
        ...(scenario.expect ? [{ name: 'waited at least Retry-After', ok: scenario.expect({ elapsedMs }) }] : []),
        ...(await consistent(store, systems)),
      );
    });
    expect(held.filter((h) => !h.ok)).toEqual([]);
  } finally {
    tally(tallies, null, held);
    trials.push({
      scenario: scenario.name,
      held: held.length > 0 && held.every((h) => h.ok),
      failed: held
        .filter((h) => !h.ok)
        .map((h) => h.name)
        .join('; '),
    });
    await systems.close();
    await cleanup();
  }
});
