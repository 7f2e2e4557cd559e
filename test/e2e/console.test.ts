/**
 * An administrator in the console, with a real headless Chromium: a record
 * that failed on a conflict is synchronized in the direction chosen and the
 * same run is in the Temporal Web UI; 20 failed rows are retried in one action;
 * 10,000 error rows are paged through. The screenshots go into the README.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, statusInUi, type BrowserGlobals } from '../helpers/browser';
import { connectTestTemporal, type TestTemporal, type WorkerHarness } from '../helpers/temporal';
import { account, customer, tick } from '../helpers/systems';
import { openSyncContext, type SyncContext } from '../helpers/sync-context';
import { SyncSchedules } from '../../client/schedules';
import { eventually } from '../helpers/eventually';
import { startConsole, type RunningConsole } from '../../console/server';
import type { MappingDefinition } from '../../domain/mapping';
import type { Faults } from '../helpers/faulty-connector';

/** The README's screenshots: refreshed with UPDATE_SCREENSHOTS=1, otherwise written beside the other test output. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : '.cache/screenshots';

let temporal: TestTemporal;
let browser: Browser;
beforeAll(async () => {
  temporal = await connectTestTemporal();
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await temporal?.close();
});

/** A store, the systems, a worker and the console over them; `fn` gets a fresh page. */
async function withConsole(
  mapping: Partial<MappingDefinition>,
  faults: { integration?: Faults },
  fn: (a: { ctx: SyncContext; harness: WorkerHarness; console: RunningConsole; page: Page }) => Promise<void>,
  prepare: (ctx: SyncContext) => Promise<void> = async () => {},
): Promise<void> {
  const ctx = await openSyncContext(temporal, mapping, faults);
  try {
    await prepare(ctx);
    await ctx.run(async (harness) => {
      const console = await startConsole(
        {
          store: ctx.store,
          sync: harness.sync,
          schedules: new SyncSchedules(temporal.client, harness.taskQueue),
          webUiUrl: process.env.TEMPORAL_TEST_UI_URL ?? null,
          namespace: 'default',
        },
        { port: 0 },
      );
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      try {
        await fn({ ctx, harness, console, page });
      } finally {
        await page.close();
        await console.close();
      }
    });
  } finally {
    await ctx.close();
  }
}

/** Waits until the run page (updated in place by htmx) shows the run closed; returns the outcome. */
async function outcomeOf(page: Page): Promise<string> {
  try {
    await page.waitForFunction(
      () => /Run .*: (Completed|Failed|Cancelled|Terminated)/.test((globalThis as unknown as BrowserGlobals).document.body.innerText),
      undefined,
      { timeout: 60_000, polling: 200 },
    );
  } catch (error) {
    throw new Error(`the run page never showed the run closed; at ${page.url()} it showed: ${(await page.locator('body').innerText()).slice(0, 800)}`, {
      cause: error,
    });
  }
  return page.locator('#run-outcome').innerText();
}

test('a record that failed on a conflict: Synchronize local → integration succeeds, and the same run is in the Temporal Web UI', async () => {
  await withConsole(
    { direction: 'Bidirectional', syncOnlyCoupledRecords: true, updateConflictResolution: 'None' },
    {},
    async ({ ctx, harness, console, page }) => {
      await harness.sync.setUpCoupling({ mapping: 'CUSTOMER', localId: 'C1', integrationId: 'A1' });
      const failed = await harness.sync.bulkSync({ mapping: 'CUSTOMER' });
      expect(failed.jobs.reduce((n, j) => n + j.counters.failed, 0)).toBeGreaterThan(0);

      await page.goto(`${console.url}/mappings`);
      await page.locator('tr[data-mapping="CUSTOMER"]').waitFor();
      expect(await page.locator('tr[data-mapping="CUSTOMER"]').innerText()).toMatch(/Bidirectional/);
      await page.screenshot({ path: `${SCREENSHOTS}/console-mappings.png`, fullPage: true });

      await page.goto(`${console.url}/jobs?mapping=CUSTOMER`);
      expect(await page.locator('tbody tr').count()).toBe(failed.jobs.length + 1); // and Set Up Coupling's
      await page.screenshot({ path: `${SCREENSHOTS}/console-jobs.png`, fullPage: true });

      await page.goto(`${console.url}/couplings?mapping=CUSTOMER`);
      const row = page.locator('tr[data-key="local:C1"]');
      expect(await row.innerText()).toMatch(/changed on both sides/);
      await page.screenshot({ path: `${SCREENSHOTS}/console-couplings-and-errors.png`, fullPage: true });

      await row.locator('input[name="ids"]').check();
      await page.selectOption('select[name="direction"]', 'ToIntegrationTable');
      await page.click('button[value="sync"]');
      expect(await outcomeOf(page)).toBe('Completed');
      expect(await page.locator('#run-status tbody').innerText()).toMatch(/succeeded/);

      expect(await ctx.sys.integration('account').where('id', 'A1').first()).toMatchObject({ name: 'Local name' });
      const [coupling] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
      expect(coupling).toMatchObject({ lastToIntegrationResult: 'Success', skipped: false });

      // The run's own link into the Temporal Web UI shows the same run, completed.
      // This run's jobs alone (one per direction: the chosen one writes, the other finds the pair in sync), not the earlier run's under the same id.
      const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
      const own = jobs.filter((j) => j.runId === jobs[0].runId);
      expect(own.map((j) => [j.direction, j.counters.modified, j.counters.failed])).toEqual(
        expect.arrayContaining([
          ['ToIntegrationTable', 1, 0],
          ['FromIntegrationTable', 0, 0],
        ]),
      );
      expect(await page.locator('#run-status tbody tr').count()).toBe(own.length);
      const href = await page.locator('#run-status a.ext').first().getAttribute('href');
      const workflowId = decodeURIComponent(/workflows\/([^/]+)\//.exec(href ?? '')?.[1] ?? '');
      expect(workflowId).toBe('bulk-sync/CUSTOMER');
      const ui = await browser.newPage();
      try {
        expect(await statusInUi(ui, temporal.client, workflowId, /Completed/i)).toMatch(/bulkSyncWorkflow/);
      } finally {
        await ui.close();
      }
      await page.goto(`${console.url}/couplings?mapping=CUSTOMER`);
      expect(await page.locator('tr[data-key="local:C1"]').count()).toBe(0);
    },
    async (ctx) => {
      await ctx.sys.local('customer').insert([customer(1, { name: 'Local name' })]);
      await ctx.sys.integration('account').insert([account('A1', { name: 'Remote name', emailaddress1: 'c1@example.com', modified_on: tick() })]);
    },
  );
});

test('20 failed rows, selected at once and retried in one action once the cause is fixed, all succeed', async () => {
  const faults: Faults = { rejectValues: (values) => values.address1_city === 'Nowhere' };
  await withConsole({}, { integration: faults }, async ({ ctx, harness, console, page }) => {
    await ctx.sys.local('customer').insert(Array.from({ length: 20 }, (_, i) => customer(i + 1)));
    await harness.sync.bulkSync({ mapping: 'CUSTOMER' });
    await ctx.sys.local('customer').update({ city: 'Nowhere', modified_on: tick() });
    const failing = await harness.sync.bulkSync({ mapping: 'CUSTOMER' });
    expect(failing.jobs[0].counters).toMatchObject({ failed: 20 });

    await page.goto(`${console.url}/couplings?mapping=CUSTOMER&view=failed`);
    expect(await page.locator('input[name="ids"]').count()).toBe(20);
    faults.rejectValues = undefined; // the administrator fixed the cause
    const jobsBefore = (await ctx.store.listJobs({ mappingName: 'CUSTOMER' })).length;
    await page.check('#select-all');
    expect(await page.locator('input[name="ids"]:checked').count()).toBe(20);
    await page.click('button[value="retry"]');
    expect(await outcomeOf(page)).toBe('Completed');

    const jobs = await ctx.store.listJobs({ mappingName: 'CUSTOMER' });
    expect(jobs).toHaveLength(jobsBefore + 1);
    expect(jobs[0].counters).toMatchObject({ modified: 20, failed: 0 });
    expect((await ctx.rows('integration')).every((r) => r.address1_city === 'Nowhere')).toBe(true);
    await page.goto(`${console.url}/couplings?mapping=CUSTOMER&view=failed`);
    expect(await page.locator('input[name="ids"]').count()).toBe(0);
  });
});

test('a record coupled to a deleted record: Restore record creates its counterpart again; Delete record deletes the one left', async () => {
  await withConsole({}, {}, async ({ ctx, harness, console, page }) => {
    await ctx.sys.local('customer').insert([customer(1), customer(2)]);
    await harness.sync.bulkSync({ mapping: 'CUSTOMER' });
    const [c1] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
    await ctx.sys.integration('account').where('id', c1.integrationId).delete();
    await ctx.sys.local('customer').where('id', 'C1').update({ name: 'Changed after delete', modified_on: tick() });
    expect((await harness.sync.bulkSync({ mapping: 'CUSTOMER' })).jobs[0].counters).toMatchObject({ failed: 1 });

    await page.goto(`${console.url}/couplings?mapping=CUSTOMER&record=C1`);
    const row = page.locator('tr[data-key="local:C1"]');
    expect(await row.innerText()).toMatch(/coupled to a deleted record/);
    await row.locator('input[name="ids"]').check();
    await page.click('button[value="restore"]');
    expect(await outcomeOf(page)).toBe('Completed');
    const [after] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C1']);
    expect(after).toMatchObject({ lastToIntegrationResult: 'Success' });
    expect(await ctx.sys.integration('account').where('id', after.integrationId).first()).toMatchObject({ name: 'Changed after delete' });

    // The other answer: Delete record deletes the record whose counterpart is gone, and its coupling.
    const [c2] = await ctx.store.getCouplings('CUSTOMER', 'local', ['C2']);
    await ctx.sys.integration('account').where('id', c2.integrationId).delete();
    await page.goto(`${console.url}/couplings?mapping=CUSTOMER&record=C2`);
    await page.locator('tr[data-key="local:C2"] input[name="ids"]').check();
    await page.click('button[value="delete"]');
    expect(await outcomeOf(page)).toBe('Completed');
    expect(await ctx.sys.local('customer').where('id', 'C2').first()).toBeUndefined();
    expect(await ctx.store.getCouplings('CUSTOMER', 'local', ['C2'])).toEqual([]);
  });
});

test('the Mappings page pauses, resumes and triggers the Schedule, and starts a full synchronization', async () => {
  await withConsole({}, {}, async ({ ctx, harness, console, page }) => {
    await ctx.sys.local('customer').insert([customer(1)]);
    const schedules = new SyncSchedules(temporal.client, harness.taskQueue);
    await schedules.create('CUSTOMER', { every: '1 hour' });
    try {
      await page.goto(`${console.url}/mappings`);
      const row = page.locator('tr[data-mapping="CUSTOMER"]');
      expect(await row.innerText()).toMatch(/every 1 hour/);
      await row.locator('button', { hasText: 'Pause' }).click();
      expect(await page.locator('.notice').innerText()).toBe('The Schedule is paused.');
      expect(await schedules.describe('CUSTOMER')).toMatchObject({ paused: true, note: 'Paused from the console' });
      await page.locator('tr[data-mapping="CUSTOMER"] button', { hasText: 'Resume' }).click();
      expect((await schedules.describe('CUSTOMER')).paused).toBe(false);
      await page.locator('tr[data-mapping="CUSTOMER"] button', { hasText: 'Run now' }).click();
      await eventually('the run the console triggered', async () =>
        (await ctx.store.listJobs({ mappingName: 'CUSTOMER' })).some((j) => j.status === 'succeeded'),
      );

      await page.goto(`${console.url}/mappings`);
      await page.click('button:has-text("Run full synchronization")');
      expect(await outcomeOf(page)).toBe('Completed');
      expect(await ctx.sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 1 });
    } finally {
      await schedules.delete('CUSTOMER');
    }
  });
});

test('10,000 error rows are paged through newest first, each once; markup in a message is shown, not run', async () => {
  await withConsole({}, {}, async ({ ctx, console, page }) => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      jobId: `job-${Math.floor(i / 1000)}`,
      mappingName: 'CUSTOMER',
      sourceRecordId: `R${i}`,
      destinationRecordId: null,
      message: i === 9_999 ? '<img src=x onerror="globalThis.pwned=1"> is not a valid e-mail' : `failure ${i}`,
      fullMessage: null,
      attempts: 1,
    }));
    for (let i = 0; i < rows.length; i += 1000) await ctx.store.insertErrors(rows.slice(i, i + 1000));

    const seen: number[] = [];
    await page.goto(`${console.url}/errors?mapping=CUSTOMER&limit=1000`);
    expect(await page.locator('tbody tr').first().innerText()).toContain('<img src=x onerror="globalThis.pwned=1">');
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    for (let pages = 1; ; pages++) {
      const ids = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number((tr as unknown as { dataset: { error: string } }).dataset.error)));
      seen.push(...ids);
      const older = page.locator('a[rel="next"]');
      if ((await older.count()) === 0) break;
      expect(pages).toBeLessThan(11);
      await older.click();
      await page.waitForLoadState();
    }
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });
});
