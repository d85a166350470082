/**
 * Opening an HTML report in headless Chromium (Debian's `chromium`, driven by playwright-core),
 * recording what a user's browser would do with it: every request, console error, page error
 * and dialog. A missing Chromium fails the test (CI installs it): it is never a skip.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface OpenedReport {
  page: Page;
  /** Every URL the page requested (the file itself included). */
  requests: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Messages of alert/confirm/prompt dialogs (a script injected through the log would open one). */
  dialogs: string[];
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} for the HTML report test: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export async function openReport(browser: Browser, file: string): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const opened: OpenedReport = { page, requests: [], errors: [], dialogs: [] };
  page.on('request', (request) => opened.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') opened.errors.push(message.text());
  });
  page.on('pageerror', (error) => opened.errors.push(error.message));
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return opened;
}
