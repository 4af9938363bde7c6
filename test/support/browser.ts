import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Debian's chromium (`apt-get install chromium`; .ci/run installs it): Playwright's own browser
 * download cannot work on these machines. CHROMIUM_PATH points elsewhere when needed.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in CI has no user namespace for the sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen so far; a test ends by asserting none. */
  errors: string[];
  expectNoErrors(): void;
}

/**
 * A fresh context (no shared storage) and page whose console errors, uncaught exceptions and CSP
 * violations are collected. Error responses the console handles on purpose (4xx from the API)
 * also log a console error in chromium: those are ignored when `expectedStatuses` lists them.
 */
export const watchedPage = async (
  browser: Browser,
  expectedStatuses: number[] = [],
): Promise<WatchedPage> => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const handled = expectedStatuses.some((s) => text.includes(`status of ${s}`));
    if (!handled) errors.push(`${text} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { page, context, errors, expectNoErrors: () => expect(errors).toEqual([]) };
};

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. Injected through the
 * DevTools protocol, which the page's CSP does not govern (a script tag would be refused).
 */
export const axeViolations = async (page: Page): Promise<AxeViolation[]> => {
  await page.evaluate(AXE_SOURCE);
  // A string, so this file needs no DOM types: it runs in the page, where axe is now a global.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
};

export const expectAccessible = async (page: Page): Promise<void> => {
  expect(await axeViolations(page)).toEqual([]);
};
