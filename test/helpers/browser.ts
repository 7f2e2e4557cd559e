/** Debian's Chromium, headless, driven by playwright-core (never a browser download). */
import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium) or set CHROMIUM_PATH.`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The page's globals tests read (the project compiles without the DOM library). */
export type BrowserGlobals = { document: { body: { innerText: string } } };

/**
 * Opens the run's page and waits for `expected` in what it renders. The UI loads its data after
 * the page itself, which takes seconds on a busy 2-core machine: waiting on the rendered text,
 * not a fixed pause, and reloading only if a page stays without it.
 */
export async function statusInUi(page: Page, client: Client, workflowId: string, expected: RegExp): Promise<string> {
  const ui = process.env.TEMPORAL_TEST_UI_URL;
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`);
    try {
      await page.waitForFunction(
        ([source, flags]) => new RegExp(source, flags).test((globalThis as unknown as BrowserGlobals).document.body.innerText),
        [expected.source, expected.flags] as const,
        { timeout: 20_000, polling: 250 },
      );
      return await page.locator('body').innerText();
    } catch {
      // Not rendered yet: load the page again.
    }
  }
  throw new Error(`the Web UI never showed ${expected} for ${workflowId}; it showed: ${(await page.locator('body').innerText()).slice(0, 600)}`);
}
