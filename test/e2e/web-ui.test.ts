/**
 * A person in the Temporal Web UI: a real headless Chromium (Debian's package,
 * driven by playwright-core) fills the Start Workflow form of the dev server's
 * UI, and the run completes and changes rows; a mistyped input fails at once.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium, statusInUi } from '../helpers/browser';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import type { Store } from '../../store/store';

let temporal: TestTemporal;
let browser: Browser;
let store: Store;
let cleanup: () => Promise<void>;
let sys: TestSystems;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  browser = await launchChromium();
  ({ store, cleanup } = await sqliteDialect.open());
  sys = await openTestSystems();
  await store.saveMapping(testMapping());
  await sys.local('customer').insert(Array.from({ length: 25 }, (_, i) => customer(i)));
});
afterAll(async () => {
  await browser?.close();
  await sys?.close();
  await cleanup?.();
  await temporal?.close();
});

async function startFromUi(page: Page, form: { workflowId: string; taskQueue: string; workflowType: string; input: string }): Promise<void> {
  const ui = process.env.TEMPORAL_TEST_UI_URL;
  await page.goto(`${ui}/namespaces/default/workflows/start-workflow`);
  // Typed key by key, as a person would: the form only takes what its key handlers saw.
  for (const [selector, text] of [
    ['#workflowId', form.workflowId],
    ['#taskQueue', form.taskQueue],
    ['#workflowType', form.workflowType],
  ]) {
    await page.click(selector);
    await page.keyboard.type(text);
  }
  await page.click('.cm-content');
  await page.keyboard.type(form.input);
  await page.click('#workflowId');
  // The editor closes brackets and quotes itself; what it holds must still be the JSON typed.
  expect(JSON.parse(await page.locator('.cm-content').innerText())).toEqual(JSON.parse(form.input));
  await page.click('[data-testid="start-workflow-button"]');
  // The UI starts the workflow, then navigates to it.
  for (let i = 0; i < 60; i++) {
    try {
      await temporal.client.workflow.getHandle(form.workflowId).describe();
      return;
    } catch {
      await page.waitForTimeout(250);
    }
  }
  await page.screenshot({ path: '.cache/web-ui-start-failed.png', fullPage: true });
  throw new Error(`the Web UI did not start ${form.workflowId}; see .cache/web-ui-start-failed.png`);
}

test('a bulk sync started from the Web UI form completes and the rows change', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const page = await browser.newPage();
    const workflowId = `ui-bulk-${Date.now()}`;
    await startFromUi(page, { workflowId, taskQueue, workflowType: 'bulkSyncWorkflow', input: '{"mapping": "CUSTOMER"}' });
    const result = await temporal.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ mapping: 'CUSTOMER', jobs: [{ status: 'succeeded', counters: { inserted: 25 } }] });
    expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 25 });
    expect(await store.countCouplings('CUSTOMER')).toBe(25);
    const text = await statusInUi(page, temporal.client, workflowId, /Completed/i);
    expect(text).toMatch(/bulkSyncWorkflow/);
    // The run is tagged with our search attributes, so it can be filtered by mapping in the UI.
    const described = await temporal.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['CouplingMapping', 'CUSTOMER'],
        ['CouplingRunKind', 'bulkSync'],
      ]),
    );
    await page.screenshot({ path: '.cache/web-ui-bulk-sync.png', fullPage: true });
    await page.close();
  });
});

test('a mistyped input in the Web UI fails at once, naming the field, and writes nothing', async () => {
  await withWorker(temporal, { store, systems: sys.systems }, async ({ taskQueue }) => {
    const page = await browser.newPage();
    const jobsBefore = (await store.listJobs()).length;
    const workflowId = `ui-bad-${Date.now()}`;
    await startFromUi(page, { workflowId, taskQueue, workflowType: 'bulkSyncWorkflow', input: '{"mapping": "CUSTOMER", "direction": "Both"}' });
    const error = await temporal.client.workflow
      .getHandle(workflowId)
      .result()
      .catch((e: unknown) => e as Error);
    expect((error as { cause?: Error }).cause?.message).toMatch(
      /field "direction" must be one of "ToIntegrationTable", "FromIntegrationTable" \(got string "Both"\)/,
    );
    // The status badge and then the failure message, which names the field.
    await statusInUi(page, temporal.client, workflowId, /Failed/i);
    const text = await statusInUi(page, temporal.client, workflowId, /must be one of/);
    expect(text).toMatch(/direction/);
    expect((await store.listJobs()).length).toBe(jobsBefore);
    await page.close();
  });
});
