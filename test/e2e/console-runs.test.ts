import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, type SampleDataset } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { expectAccessible, type WatchedPage, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The run pages in chromium against the real local API, planner and senders (DynamoDB Local, the
 * Autopilot stand-in): a dry run's report, a real run watched to its end, the history, a cancel,
 * failed contacts shown masked, and what a viewer may not do.
 */
let runtime: LocalRuntime;
let browser: Browser;
let base: string;
let harness: ConsoleHarness;
let dataset: SampleDataset;
let connectionId: string;
let exportA: string;
let exportB: string;

/** Ends every wait on a final status: generous for a loaded 2-core machine, never a timing assertion. */
const FINAL = { timeout: 60_000 };

const request = <T>(token: string, method: string, path: string, body?: unknown): Promise<T> =>
  harness.request<T>(token, method, path, body);

interface RunJson {
  id: string;
  status: string;
  progress: { accepted: number; failed: number };
  dryRun: { adds: number; requests: number } | null;
  errorSamples: { email: string }[];
  config: { segmentIds: string[] } | null;
  permissions: { canCancel: boolean };
}

const startRun = async (exportId: string, dryRun = false): Promise<string> =>
  (
    await request<{ runId: string }>(
      'dev-contributor',
      'POST',
      `/exports/${exportId}/runs${dryRun ? '?dryRun=true' : ''}`,
    )
  ).runId;

const getRun = (id: string) => request<RunJson>('dev-viewer', 'GET', `/runs/${id}`);

const setRate = async (ratePerSecond: number): Promise<void> => {
  const c = await request<{ version: number }>('dev-admin', 'GET', `/connections/${connectionId}`);
  await request('dev-admin', 'PATCH', `/connections/${connectionId}`, { version: c.version, ratePerSecond });
};

beforeAll(async () => {
  dataset = generateSampleProfiles({ profiles: 120, seed: 7 });
  harness = await startConsoleHarness({ dataset });
  ({ runtime, browser, base } = harness);

  connectionId = (
    await request<{ id: string }>('dev-admin', 'POST', '/connections', {
      displayName: 'Marketing',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: '2026-11' },
      sharing: 'admins+contributors',
      ratePerSecond: 100,
    })
  ).id;
  const dataMatching = { email: 'email', fields: { FirstName: 'first_name', LastName: 'last_name' } };
  exportA = (
    await request<{ id: string }>('dev-contributor', 'POST', '/exports', {
      name: 'Newsletter and VIP',
      connectionId,
      segmentIds: ['newsletter', 'vip'],
      dataMatching,
    })
  ).id;
  exportB = (
    await request<{ id: string }>('dev-contributor', 'POST', '/exports', {
      name: 'Active customers',
      connectionId,
      segmentIds: ['active-customers'],
      dataMatching,
    })
  ).id;
});

afterAll(async () => {
  await harness?.close();
});

const signIn = async (page: Page, label: string): Promise<void> => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: `Sign in as ${label}`, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

/** A hash change, not a load: a load would forget the in-memory sign-in. */
const open = (page: Page, hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);

const statusText = (page: Page) => page.getByRole('status');

const factOf = async (page: Page, term: string): Promise<string> =>
  (
    await page
      .locator('dt', { hasText: new RegExp(`^${term}$`) })
      .locator('xpath=following-sibling::dd[1]')
      .innerText()
  ).trim();

describe('the console: runs, in chromium', () => {
  let contributor: WatchedPage;

  it('shows a dry run’s report: what would be sent, requests by kind and how long it would take', async () => {
    contributor = await watchedPage(browser);
    const { page } = contributor;
    await signIn(page, 'Contributor');
    const runId = await startRun(exportA, true);
    await open(page, `#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'Dry run' }).waitFor();
    await statusText(page).getByText('Succeeded').waitFor(FINAL);
    await page.getByRole('heading', { name: /Dry run report/ }).waitFor();
    const run = await getRun(runId);
    expect(run.dryRun?.adds).toBeGreaterThan(0);
    expect(await factOf(page, 'Contacts to add')).toBe(run.dryRun?.adds.toLocaleString('en-US'));
    expect(await factOf(page, 'Requests')).toBe(run.dryRun?.requests.toLocaleString('en-US'));
    await page.getByRole('table', { name: 'Requests by kind' }).waitFor();
    await page.getByText("Duration at Autopilot's documented 5 requests/s").waitFor();
    expect(await page.getByRole('button', { name: 'Cancel run…' }).count()).toBe(0);
    await expectAccessible(page);
    contributor.expectNoErrors();
  });

  it('follows a real run to its end, with its counts, then lists it in the history table and chart', async () => {
    const { page } = contributor;
    const runId = await startRun(exportA);
    await open(page, `#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'Run' }).waitFor();
    await statusText(page).getByText('Succeeded').waitFor(FINAL);
    expect(await page.locator('#run-progress-bar').getAttribute('value')).toBe('100');
    expect(await page.locator('#run-progress-text').innerText()).toMatch(/^100% \(\d+ of \d+ batches\)$/);
    const joins = ['newsletter', 'vip'].reduce((n, s) => n + expectedMembers(dataset, s).size, 0);
    const run = await getRun(runId);
    expect(run.progress.accepted).toBe(joins);
    expect(await factOf(page, 'Delivered')).toBe(joins.toLocaleString('en-US'));
    expect(await factOf(page, 'Failed')).toBe('0');
    expect(Number(await factOf(page, 'Requests sent'))).toBeGreaterThan(0);
    // The settings this run used, as the run froze them.
    expect(run.config?.segmentIds).toEqual(['newsletter', 'vip']);
    expect(await factOf(page, 'Membership')).toBe('A list per segment');
    expect(await factOf(page, 'Contacts who leave a segment')).toBe(
      'Taken off the list (or field set to false)',
    );
    expect((await factOf(page, 'Data matching')).split('\n')).toEqual([
      'Email from email',
      'First name from first_name',
      'Last name from last_name',
    ]);
    await expectAccessible(page);

    // What Autopilot holds now equals the segments (read from the stand-in).
    for (const segment of dataset.segments.filter((s) => s.id !== 'active-customers')) {
      const members = (runtime.standIn?.listMemberEmails(runtime.apiKey, segment.name) ?? []).map((e) =>
        e.toLowerCase(),
      );
      expect(members.sort(), segment.name).toEqual([...expectedMembers(dataset, segment.id)].sort());
    }

    await page.getByRole('link', { name: 'Run history' }).click();
    await page.getByRole('heading', { level: 1, name: 'Run history: Newsletter and VIP' }).waitFor();
    const rows = page.locator('table.history tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    // Newest first: the real run, then the dry run.
    expect(await rows.nth(0).innerText()).toMatch(
      new RegExp(`On demand\\s+No\\s+Succeeded\\s+${joins.toLocaleString('en-US')}\\s+0\\s+`),
    );
    expect(await rows.nth(1).innerText()).toMatch(/Dry run\s+Yes\s+Succeeded\s+0\s+0\s+.*\(would send\)/);
    const chart = page.getByRole('img');
    expect(await chart.getAttribute('aria-label')).toContain(
      `last 2 runs, oldest to newest; contacts sent from 0 to ${joins.toLocaleString('en-US')}, latest ${joins.toLocaleString('en-US')}`,
    );
    expect(await page.locator('.run-chart rect.bar-sent').count()).toBe(2);
    await expectAccessible(page);
    await rows
      .nth(0)
      .getByRole('link', { name: /^View run of / })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Run' }).waitFor();
    expect(page.url()).toContain(`#/runs/${runId}`);
    contributor.expectNoErrors();
  });

  it('cancels a slow run after asking; polls every 2 s until left; a viewer watching the same run sees no Cancel', async () => {
    const { page } = contributor;
    await setRate(1);
    const runId = await startRun(exportB);
    try {
      await open(page, `#/runs/${runId}`);
      const cancel = page.getByRole('button', { name: 'Cancel run…' });
      await cancel.waitFor();

      const viewer = await watchedPage(browser);
      await signIn(viewer.page, 'Viewer');
      await open(viewer.page, `#/runs/${runId}`);
      await viewer.page.getByRole('heading', { name: 'Configuration' }).waitFor();
      await statusText(viewer.page)
        .getByText(/Planning|Sending/)
        .waitFor();
      expect(await viewer.page.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
      expect((await getRun(runId)).permissions.canCancel).toBe(false);
      await expectAccessible(viewer.page);
      viewer.expectNoErrors();
      await viewer.context.close();

      // Polling on a fake clock: one read per 2 s while the run is active, none once the page is left.
      const poller = await watchedPage(browser);
      await poller.context.clock.install();
      let reads = 0;
      poller.page.on('request', (r) => {
        if (r.method() === 'GET' && r.url() === `${base}/runs/${runId}`) reads++;
      });
      await signIn(poller.page, 'Contributor');
      await poller.context.clock.pauseAt(Date.now() + 60_000);
      await open(poller.page, `#/runs/${runId}`);
      // Preact runs effects after a frame: each short step lets the next load start, well short of 2 s.
      await poller.context.clock.runFor(200);
      await statusText(poller.page)
        .getByText(/Planning|Sending/)
        .waitFor();
      await poller.context.clock.runFor(200);
      await poller.page.getByRole('button', { name: 'Cancel run…' }).waitFor();
      expect(reads).toBe(1);
      await poller.context.clock.runFor(2_000);
      await expect.poll(() => reads).toBe(2);
      await open(poller.page, '#/connections');
      await poller.page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
      await poller.context.clock.runFor(20_000);
      // A round trip after the timers ran, so a read they had started would have been seen by now.
      await poller.page.evaluate(`fetch('/openapi.json').then((r) => r.status)`);
      expect(reads).toBe(2);
      poller.expectNoErrors();
      await poller.context.close();

      // From the keyboard: the question takes focus, as the button that asked it is gone.
      await cancel.focus();
      await page.keyboard.press('Enter');
      await page.getByText('Contacts already sent stay in Autopilot').waitFor();
      await expect
        .poll(() => page.evaluate('document.activeElement?.textContent ?? ""'))
        .toBe('Yes, cancel the run');
      await expectAccessible(page);
      await page.keyboard.press('Enter');
      await statusText(page).getByText('Cancelled').waitFor();
      await statusText(page).getByText('Cancelled by dev-contributor.').waitFor();
      expect(await page.getByRole('button', { name: /Cancel run/ }).count()).toBe(0);
      expect((await getRun(runId)).status).toBe('cancelled');
    } finally {
      // Whatever failed above, the next test needs the export free and the normal rate back.
      if ((await getRun(runId)).status !== 'cancelled')
        await fetch(`${base}/runs/${runId}/cancel`, {
          method: 'POST',
          headers: { authorization: 'Bearer dev-admin' },
        });
      await setRate(100);
    }
    contributor.expectNoErrors();
  });

  it('shows contacts Autopilot refused with their reason and masked emails, never a full address', async () => {
    const { page } = contributor;
    // Two members the cancelled run did not reach: the next run sends them, and Autopilot refuses them.
    const onList = new Set(
      (runtime.standIn?.listMemberEmails(runtime.apiKey, 'Active customers') ?? []).map((e) =>
        e.toLowerCase(),
      ),
    );
    const refused = [...expectedMembers(dataset, 'active-customers')]
      .filter((e) => !onList.has(e))
      .slice(0, 2);
    expect(refused).toHaveLength(2);
    runtime.standIn?.setFaults({ rejectContacts: refused });
    try {
      const runId = await startRun(exportB);
      await open(page, `#/runs/${runId}`);
      await statusText(page).getByText('Completed with errors').waitFor(FINAL);
      const samples = page.locator('section', {
        has: page.getByRole('heading', { name: /Failed contacts/ }),
      });
      await samples.getByRole('table').waitFor();
      const run = await getRun(runId);
      expect(run.progress.failed).toBeGreaterThanOrEqual(2);
      expect(await samples.locator('tbody tr').count()).toBe(run.errorSamples.length);
      const html = await page.content();
      for (const email of refused) {
        expect(html).not.toContain(email);
        expect(html).toContain(`${email.slice(0, 1)}***${email.slice(email.lastIndexOf('@'))}`);
      }
      expect(await factOf(page, 'Failed')).toMatch(new RegExp(`^${run.progress.failed}`));
      await expectAccessible(page);
    } finally {
      runtime.standIn?.setFaults(undefined);
    }
    contributor.expectNoErrors();
    await contributor.context.close();
  });

  it('a viewer reads the history read-only', async () => {
    const viewer = await watchedPage(browser);
    const { page } = viewer;
    await signIn(page, 'Viewer');
    await open(page, `#/exports/${exportB}/runs`);
    await page.getByRole('heading', { level: 1, name: 'Run history: Active customers' }).waitFor();
    await expect.poll(() => page.locator('table.history tbody tr').count()).toBe(2);
    expect(await page.locator('main button').count()).toBe(0);
    await expectAccessible(page);
    viewer.expectNoErrors();
    await viewer.context.close();
  });
});
