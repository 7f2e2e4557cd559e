/**
 * Live sync, end to end: Business Central customers <-> Dataverse accounts,
 * both EMULATORS with their webhooks (delivery delay set to zero), our
 * receivers, the live sync with its default settings (500 ms debounce, 1,000
 * ids a run), the receivers' notifications through the worker's NotifyBatcher,
 * and a worker of ours. Latency is from a user's edit on one side
 * to the counterpart's new value read on the other; the time to the
 * receiver's notify is reported apart. The storm edits many customers in BC
 * within a few seconds and counts the sync jobs it took and what they wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LiveSync, type LiveSyncSettings } from '../client/live-sync';
import type { LiveChange } from '../common/inputs';
import { createWorker } from '../worker/create-worker';
import { emulatedMapping, startEmulatedSystems, BC_SYSTEM, DATAVERSE_SYSTEM } from '../worker/demo/emulated-systems';
import type { BusinessCentralConnector } from '../connectors/business-central';
import type { DataverseConnector } from '../connectors/dataverse';
import { startBcWebhookReceiver } from '../worker/receivers/bc-webhooks';
import { startDataverseWebhookReceiver } from '../worker/receivers/dataverse-webhooks';
import { NotifyBatcher } from '../worker/receivers/notify-batcher';
import { Store } from '../store/store';
import { BENCH_WORKER_OPTIONS, type Ctx } from './context';
import { loadAverage, log, percentile, round } from './stats';
import { CouplingSyncClient } from '../client';

const MAPPING = 'LIVE_BENCH';
const CLIENT_STATE = 'bench-client-state-0123456789';
const HEADER = { name: 'x-coupling-sync-key', value: 'bench-webhook-key-0123456789' };

export interface LiveCounts {
  /** Single changes measured per side and run. */
  changes: number;
  /** Customers edited by the storm (and seeded). */
  storm: number;
  /** Over how many seconds the storm's edits are spread. */
  stormSeconds: number;
}

export interface SidedSamples {
  p50: number[];
  p99: number[];
  deliveryP50: number[];
}

export interface StormResult {
  changes: number;
  seconds: number;
  /** From the storm's first edit until every counterpart had its value. */
  settledSeconds: number;
  syncJobs: number;
  /** Jobs that carried the edits (BC to Dataverse), and the echo runs of our own writes coming back. */
  toIntegrationJobs: number;
  fromIntegrationJobs: number;
  written: number;
  unchanged: number;
  failed: number;
  allArrived: boolean;
  notifications: number;
  liveRuns: number;
}

export interface LiveResults {
  bcToDataverse: SidedSamples;
  dataverseToBc: SidedSamples;
  storms: StormResult[];
  deliveryDelayMs: { businessCentral: number; dataverse: number };
}

/** A LiveSync that notes when each notification left a receiver. */
class TimedLive extends LiveSync {
  readonly told: { at: number; change: LiveChange }[] = [];
  override notify(mapping: string, change: LiveChange, settings?: LiveSyncSettings): ReturnType<LiveSync['notify']> {
    this.told.push({ at: performance.now(), change });
    return super.notify(mapping, change, settings);
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 5, detail: () => unknown = () => ''): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`live bench: timed out waiting for ${what} ${JSON.stringify(detail())}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function liveRuns(ctx: Ctx, counts: LiveCounts): Promise<LiveResults> {
  const results: LiveResults = {
    bcToDataverse: { p50: [], p99: [], deliveryP50: [] },
    dataverseToBc: { p50: [], p99: [], deliveryP50: [] },
    storms: [],
    deliveryDelayMs: { businessCentral: 0, dataverse: 0 },
  };
  for (let run = 0; run < ctx.runs; run++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-live-'));
    const store = Store.open({ databaseUrl: `sqlite:${path.join(dir, 'store.sqlite')}` });
    await store.migrate();
    const emulated = await startEmulatedSystems({
      customers: counts.storm,
      subscriptionRules: { batchDelayMs: results.deliveryDelayMs.businessCentral },
      webhookRules: { delayMs: results.deliveryDelayMs.dataverse },
    });
    const { businessCentral: bc, dataverse: dv } = emulated;
    await store.saveMapping({
      ...emulatedMapping(MAPPING),
      fields: emulatedMapping(MAPPING).fields.map((f) => ({ ...f, useForMatching: undefined, matchPriority: undefined })),
    });
    const taskQueue = `bench-live-${randomUUID()}`;
    const worker = await createWorker({
      connection: ctx.native,
      store,
      systems: emulated.systems,
      taskQueue,
      workflowBundle: { code: ctx.bundleCode },
      workerOptions: BENCH_WORKER_OPTIONS,
    });
    try {
      await worker.runUntil(async () => {
        const sync = new CouplingSyncClient({ client: ctx.client, taskQueue });
        const live = new TimedLive(ctx.client, taskQueue);
        // As the worker runs them: one signal in flight per side, what arrives meanwhile in the next.
        const notifier = new NotifyBatcher(live);
        const bcReceiver = await startBcWebhookReceiver({ live: notifier, routes: [{ mapping: MAPPING, side: 'local', clientState: CLIENT_STATE }] });
        const dvReceiver = await startDataverseWebhookReceiver({
          live: notifier,
          routes: [{ mapping: MAPPING, side: 'integration', logicalName: 'account', header: HEADER }],
        });
        try {
          // Everything coupled first (customers to new accounts and back), then the subscriptions.
          await sync.bulkSync({ mapping: MAPPING });
          await live.start({ mapping: MAPPING });
          const bcConnector = emulated.systems[BC_SYSTEM] as BusinessCentralConnector;
          const dvConnector = emulated.systems[DATAVERSE_SYSTEM] as DataverseConnector;
          await bcConnector.subscriptions().ensure({ notificationUrl: bcReceiver.url(MAPPING), entitySet: 'customers', clientState: CLIENT_STATE });
          await dvConnector.webhooks().ensure({ name: `coupling-sync ${MAPPING}`, url: dvReceiver.url(MAPPING), logicalName: 'account', header: HEADER });
          const customers = bc.records('customers').map((c) => String(c.id));
          const couplings = await store.getCouplings(MAPPING, 'local', customers.slice(0, counts.changes));
          const pairs = couplings.map((c) => ({ customer: c.localId, account: c.integrationId }));

          const quiet = async (): Promise<void> => {
            // Our writes come back as notifications of the other side: wait for those echo runs to end too.
            let seen = -1;
            let last: unknown = null;
            await until(
              'the live sync to go quiet',
              async () => {
                // A busy worker may not answer a query in time: ask again.
                const s = await live.state(MAPPING).catch(() => null);
                last = s;
                if (!s) return false;
                const idle = s.phase === 'waiting' && s.pending.local + s.pending.integration === 0 && s.pending.many.length === 0;
                const stable = idle && s.notifications === seen;
                seen = s.notifications;
                return stable;
              },
              300_000,
              400,
              () => last,
            );
          };
          const measureSide = async (
            into: SidedSamples,
            edit: (pair: (typeof pairs)[number], value: string) => void,
            arrived: (pair: (typeof pairs)[number], value: string) => boolean,
            side: 'local' | 'integration',
          ) => {
            const latencies: number[] = [];
            const deliveries: number[] = [];
            for (const [i, pair] of pairs.entries()) {
              const value = `${side}-${run}-${i}`;
              const told = live.told.length;
              const started = performance.now();
              edit(pair, value);
              await until(`the ${side} edit ${i}`, () => arrived(pair, value));
              latencies.push(performance.now() - started);
              const notice = live.told.slice(told).find((t) => t.change.side === side);
              if (notice) deliveries.push(notice.at - started);
              await quiet();
            }
            into.p50.push(percentile(latencies, 50));
            into.p99.push(percentile(latencies, 99));
            into.deliveryP50.push(percentile(deliveries, 50));
          };
          await quiet();
          await measureSide(
            results.bcToDataverse,
            (p, v) => bc.edit('customers', p.customer, { city: v }),
            (p, v) => dv.get('accounts', p.account)?.address1_city === v,
            'local',
          );
          await measureSide(
            results.dataverseToBc,
            (p, v) => dv.edit('accounts', p.account, { address1_city: v }),
            (p, v) => bc.record('customers', p.customer)?.city === v,
            'integration',
          );

          // The storm: every customer edited once, spread evenly over stormSeconds.
          const before = new Set((await store.listJobs({ mappingName: MAPPING, limit: 10_000 })).map((j) => j.id));
          const notificationsBefore = (await live.state(MAPPING)).notifications;
          const runsBefore = (await live.state(MAPPING)).runs;
          const all = await store.getCouplings(MAPPING, 'local', customers);
          const accountOf = new Map(all.map((c) => [c.localId, c.integrationId]));
          const phone = new Map(customers.map((id, i) => [id, `storm-${run}-${i}`]));
          const started = performance.now();
          const slices = Math.max(1, counts.stormSeconds * 10);
          const per = Math.ceil(customers.length / slices);
          for (let s = 0; s < slices; s++) {
            for (const id of customers.slice(s * per, (s + 1) * per)) bc.edit('customers', id, { phoneNumber: phone.get(id) });
            const due = started + ((s + 1) * counts.stormSeconds * 1000) / slices;
            await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
          }
          const stormSeconds = (performance.now() - started) / 1000;
          const arrived = (): boolean => customers.every((id) => dv.get('accounts', accountOf.get(id) ?? '')?.telephone1 === phone.get(id));
          let allArrived = true;
          await until('the storm to arrive', arrived, 300_000, 250).catch(() => {
            allArrived = false;
          });
          const settledSeconds = (performance.now() - started) / 1000;
          await quiet();
          const jobs = (await store.listJobs({ mappingName: MAPPING, limit: 10_000 })).filter((j) => !before.has(j.id) && j.type === 'Synchronization');
          const to = jobs.filter((j) => j.direction === 'ToIntegrationTable');
          const state = await live.state(MAPPING);
          const sum = (key: 'inserted' | 'modified' | 'unchanged' | 'failed') => jobs.reduce((n, j) => n + j.counters[key], 0);
          const storm: StormResult = {
            changes: customers.length,
            seconds: round(stormSeconds, 1),
            settledSeconds: round(settledSeconds, 1),
            syncJobs: jobs.length,
            toIntegrationJobs: to.length,
            fromIntegrationJobs: jobs.length - to.length,
            written: sum('inserted') + sum('modified'),
            unchanged: sum('unchanged'),
            failed: sum('failed'),
            allArrived,
            notifications: state.notifications - notificationsBefore,
            liveRuns: state.runs - runsBefore,
          };
          results.storms.push(storm);
          await live.stop(MAPPING);
          log(
            `live run ${run + 1}: BC->Dataverse p50 ${round(results.bcToDataverse.p50[run])} ms p99 ${round(results.bcToDataverse.p99[run])} ms; ` +
              `Dataverse->BC p50 ${round(results.dataverseToBc.p50[run])} ms p99 ${round(results.dataverseToBc.p99[run])} ms; ` +
              `storm ${storm.changes} in ${storm.seconds} s: ${storm.syncJobs} jobs, ${storm.written} written, settled at ${storm.settledSeconds} s; load ${loadAverage().join(' ')}`,
          );
        } finally {
          await bcReceiver.close();
          await dvReceiver.close();
          await notifier.close();
        }
      });
    } finally {
      await emulated.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
