import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSampleProfiles, type SampleDataset } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { expectAccessible, type WatchedPage, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The product's whole first journey in one browser session, as issue 11 tells it: an admin adds a
 * connection (a rejected key first, then the good one); a contributor creates an export over two
 * segments, saves (nothing runs), dry-runs, runs, watches the run to its end and finds it in the
 * history; afterwards Autopilot's lists (the stand-in's) equal the segments. The other console
 * files test each page in depth; this one proves the pages make one path.
 */
let harness: ConsoleHarness;
let dataset: SampleDataset;
const SEGMENTS = [
  { id: 'newsletter', name: 'Newsletter subscribers' },
  { id: 'vip', name: 'VIP' },
] as const;
const CONNECTION = 'Autopilot (journey)';
const EXPORT = 'Newsletter and VIP (journey)';
/** Ends a wait on a final state: generous for a loaded 2-core machine, never a timing assertion. */
const FINAL = { timeout: 60_000 };

beforeAll(async () => {
  dataset = generateSampleProfiles({ profiles: 150, seed: 23 });
  harness = await startConsoleHarness({ dataset });
});

afterAll(async () => {
  await harness?.close();
});

const signIn = async (page: Page, label: string): Promise<void> => {
  await page.goto(`${harness.base}/`);
  await page.getByRole('button', { name: `Sign in as ${label}`, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

const hashId = (page: Page, prefix: string): string =>
  decodeURIComponent(new URL(page.url()).hash.slice(prefix.length));

describe('the console, one journey from connection to a verified run, in chromium', () => {
  let admin: WatchedPage;
  let contributor: WatchedPage;

  beforeAll(async () => {
    // The rejected key answers 4xx on purpose; chromium logs it, and the page handles it.
    admin = await watchedPage(harness.browser, [400, 422]);
    contributor = await watchedPage(harness.browser);
  });

  afterAll(async () => {
    await admin?.context.close();
    await contributor?.context.close();
  });

  it('an admin adds a connection: a rejected key is shown by its field, then the good key saves', async () => {
    const { page } = admin;
    await signIn(page, 'Admin');
    await page.getByRole('link', { name: 'Add connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add connection' }).waitFor();
    await page.getByLabel('Display name').fill(CONNECTION);
    await page.getByLabel('Autopilot API key').fill('not-the-right-key-000000');
    await page.getByLabel('I have read this and accept it').check();
    await page.getByLabel('Admins and contributors').check();
    // The stand-in's limit, so the run takes seconds rather than Autopilot's documented 5/s.
    await page.getByLabel('Rate budget (requests per second)').fill('100');
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('alert').getByText('Autopilot rejected this API key').waitFor();
    expect(
      await harness.request<{ connections: unknown[] }>('dev-admin', 'GET', '/connections'),
    ).toMatchObject({
      connections: [],
    });

    await page.getByLabel('Autopilot API key').fill(harness.runtime.apiKey);
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('status').getByText(`Added "${CONNECTION}".`).waitFor();
    await page.getByRole('link', { name: CONNECTION }).waitFor();
    admin.expectNoErrors();
  });

  it('a contributor creates an export over two segments; saving sends nothing', async () => {
    const { page } = contributor;
    await signIn(page, 'Contributor');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('link', { name: 'New export' }).click();
    await page.getByRole('heading', { level: 1, name: 'New export' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(EXPORT);
    await page.getByLabel('Connection').selectOption({ label: CONNECTION });
    for (const s of SEGMENTS) await page.getByRole('checkbox', { name: new RegExp(s.name) }).check();
    await page.locator('#dataMatching-fields-FirstName').fill('first_name');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save export' }).click();
    await page
      .getByRole('status')
      .getByText('Saved. Nothing was sent: saving never runs an export.')
      .waitFor();
    await page.getByRole('heading', { level: 1, name: EXPORT }).waitFor();

    const exportId = hashId(page, '#/exports/');
    const history = await harness.request<{ runs: unknown[] }>(
      'dev-viewer',
      'GET',
      `/exports/${exportId}/runs`,
    );
    expect(history.runs).toEqual([]);
    // Only the connection's key checks reached Autopilot: no contact was written, no list made.
    const routes = Object.keys(harness.runtime.standIn?.counts() ?? {});
    expect(routes.filter((r) => r.startsWith('POST') || r.startsWith('DELETE'))).toEqual([]);
  });

  it('dry-runs, then runs and follows the run to its end, and finds both in the history', async () => {
    const { page } = contributor;
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.waitForURL(/#\/runs\/.+/);
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    await page.getByRole('heading', { name: /Dry run report/i }).waitFor();

    await page.getByRole('link', { name: /^Export:/ }).click();
    await page.getByRole('heading', { level: 1, name: EXPORT }).waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/#\/runs\/.+/);
    const runId = hashId(page, '#/runs/');
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    expect(await page.locator('progress').getAttribute('value')).toBe('100');
    await expectAccessible(page);

    await page.getByRole('link', { name: 'Run history' }).click();
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).innerText()).toMatch(/On demand\s+No\s+Succeeded/);
    expect(await rows.nth(1).innerText()).toMatch(/Dry run\s+Yes\s+Succeeded/);
    expect(await rows.nth(0).getByRole('link').getAttribute('href')).toBe(
      `#/runs/${encodeURIComponent(runId)}`,
    );
    contributor.expectNoErrors();
  });

  it('leaves each Autopilot list equal to its segment', () => {
    for (const s of SEGMENTS) {
      const members = (harness.runtime.standIn?.listMemberEmails(harness.runtime.apiKey, s.name) ?? []).map(
        (e) => e.toLowerCase(),
      );
      expect(members.sort(), s.name).toEqual([...expectedMembers(dataset, s.id)].sort());
    }
  });
});
