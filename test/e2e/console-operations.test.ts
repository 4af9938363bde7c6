import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, type SampleDataset } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { expectAccessible, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The console's operations in chromium against the real local API, planner and senders: re-send a
 * contact, repair a list emptied by hand, retry the contacts that failed, and the audit trail
 * ("Activity") that only admins read.
 */
let runtime: LocalRuntime;
let browser: Browser;
let base: string;
let harness: ConsoleHarness;
let dataset: SampleDataset;
let connectionId: string;
let newsletterExport: string;
let vipExport: string;

/** Ends every wait on a final status: generous for a loaded 2-core machine, never a timing assertion. */
const FINAL = { timeout: 60_000 };
const NEWSLETTER_LIST = 'Newsletter subscribers';

const request = <T>(token: string, method: string, path: string, body?: unknown): Promise<T> =>
  harness.request<T>(token, method, path, body);

interface RunJson {
  id: string;
  status: string;
  progress: { failed: number };
  namedContacts?: { kind: string; count: number; retryOf?: string };
  drift?: { missing: number };
}

const getRun = (id: string) => request<RunJson>('dev-viewer', 'GET', `/runs/${id}`);

const ENDED = new Set(['succeeded', 'completed_with_errors', 'failed', 'cancelled', 'skipped']);

/** Polls the API (not the clock) until the run ends; the bound is on reads, not time. */
const waitForEnd = async (id: string): Promise<RunJson> => {
  await expect.poll(async () => ENDED.has((await getRun(id)).status), FINAL).toBe(true);
  return getRun(id);
};

const members = (title: string): string[] =>
  (runtime.standIn?.listMemberEmails(runtime.apiKey, title) ?? []).map((e) => e.toLowerCase()).sort();

beforeAll(async () => {
  dataset = generateSampleProfiles({ profiles: 120, seed: 11 });
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
  const create = async (name: string, segmentId: string) =>
    (
      await request<{ id: string }>('dev-contributor', 'POST', '/exports', {
        name,
        connectionId,
        segmentIds: [segmentId],
        dataMatching: { email: 'email', fields: { FirstName: 'first_name' } },
        scheduled: false,
      })
    ).id;
  newsletterExport = await create('Newsletter', 'newsletter');
  vipExport = await create('VIP', 'vip');
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

const factOf = async (page: Page, term: string): Promise<string> =>
  (await page.locator('dt', { hasText: term }).locator('xpath=following-sibling::dd[1]').innerText()).trim();

describe('the console: operations, in chromium', () => {
  it('re-sends one contact from the export page; the run says "Re-send of 1 contact" and never the address', async () => {
    const w = await watchedPage(browser, [400]);
    const { page } = w;
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${newsletterExport}`);
    await page.getByRole('heading', { level: 2, name: 'Re-send a contact' }).waitFor();
    await expectAccessible(page);

    const email = page.getByLabel('Email address');
    await email.fill('not an email');
    await page.getByRole('button', { name: 'Re-send contact' }).click();
    // The API's 400 names path.email: its reason sits at the field, tied to it for screen readers.
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#resend-email-error').innerText()).not.toBe('');
    expect(await email.getAttribute('aria-describedby')).toContain('resend-email-error');

    const [address] = [...expectedMembers(dataset, 'newsletter')];
    if (address === undefined) throw new Error('no newsletter member');
    await email.fill(address);
    await page.getByRole('button', { name: 'Re-send contact' }).click();
    await page.getByRole('link', { name: 'open the run' }).click();
    await page.getByRole('heading', { level: 1, name: 'Run' }).waitFor();
    await page.getByText('Re-send of 1 contact.').waitFor();
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    const runId = decodeURIComponent(page.url().split('#/runs/')[1] ?? '');
    expect((await getRun(runId)).namedContacts).toEqual({ kind: 'resend', count: 1 });
    expect(members(NEWSLETTER_LIST)).toContain(address.toLowerCase());
    expect(await page.content()).not.toContain(address);
    await expectAccessible(page);
    w.expectNoErrors();
    await w.context.close();
  });

  it('repairs a list emptied by hand: the run counts what was missing and the list is full again', async () => {
    const first = await request<{ runId: string }>(
      'dev-contributor',
      'POST',
      `/exports/${newsletterExport}/runs`,
    );
    expect((await waitForEnd(first.runId)).status).toBe('succeeded');
    const expected = [...expectedMembers(dataset, 'newsletter')].sort();
    expect(members(NEWSLETTER_LIST)).toEqual(expected);
    expect(runtime.standIn?.emptyList(runtime.apiKey, NEWSLETTER_LIST)).toBe(expected.length);

    const w = await watchedPage(browser);
    const { page } = w;
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${newsletterExport}`);
    const repair = page.getByRole('button', { name: 'Repair lists' });
    // Its one-sentence explanation is tied to the button, so a screen reader hears it too.
    expect(await repair.getAttribute('aria-describedby')).toBe('repair-hint');
    await repair.click();
    await page.getByRole('heading', { level: 1, name: 'Run' }).waitFor();
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    await page.getByRole('heading', { name: 'Repair: what the lists held' }).waitFor();
    await expect
      .poll(() => factOf(page, 'Missing from a list'))
      .toBe(expected.length.toLocaleString('en-US'));
    expect(members(NEWSLETTER_LIST)).toEqual(expected);
    await expectAccessible(page);
    w.expectNoErrors();
    await w.context.close();
  });

  it('offers Retry failed contacts only on a run with failures, and the retry sends exactly those', async () => {
    const refused = [...expectedMembers(dataset, 'vip')].slice(0, 2);
    expect(refused).toHaveLength(2);
    runtime.standIn?.setFaults({ rejectContacts: refused });
    let failedRun: RunJson;
    try {
      const started = await request<{ runId: string }>(
        'dev-contributor',
        'POST',
        `/exports/${vipExport}/runs`,
      );
      failedRun = await waitForEnd(started.runId);
    } finally {
      runtime.standIn?.setFaults(undefined);
    }
    expect(failedRun.status).toBe('completed_with_errors');
    expect(failedRun.progress.failed).toBe(2);

    const viewer = await watchedPage(browser);
    await signIn(viewer.page, 'Viewer');
    await open(viewer.page, `#/runs/${failedRun.id}`);
    await viewer.page.getByRole('heading', { name: 'Configuration' }).waitFor();
    await viewer.page.getByRole('status').getByText('Completed with errors').waitFor();
    expect(await viewer.page.getByRole('button', { name: 'Retry failed contacts' }).count()).toBe(0);
    viewer.expectNoErrors();
    await viewer.context.close();

    const w = await watchedPage(browser);
    const { page } = w;
    await signIn(page, 'Contributor');
    await open(page, `#/runs/${failedRun.id}`);
    await page.getByRole('button', { name: 'Retry failed contacts' }).click();
    await page.getByText(`Retry of 2 contacts from run ${failedRun.id}.`).waitFor();
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    const retryId = decodeURIComponent(page.url().split('#/runs/')[1] ?? '');
    expect(retryId).not.toBe(failedRun.id);
    expect((await getRun(retryId)).namedContacts).toEqual({ kind: 'retry', count: 2, retryOf: failedRun.id });
    for (const email of refused) expect(members('VIP')).toContain(email.toLowerCase());
    // Nothing failed in the retry: no button on its page.
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry failed contacts' }).count()).toBe(0);
    await expectAccessible(page);
    w.expectNoErrors();
    await w.context.close();
  });

  it('saves the repair options from the edit form’s Advanced section, offered in list mode only', async () => {
    const w = await watchedPage(browser);
    const { page } = w;
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${vipExport}/edit`);
    await page.getByRole('heading', { level: 1, name: 'Edit VIP' }).waitFor();
    await page.getByText('Advanced: list repair').click();
    await page.getByLabel('Repair on every run').check();
    await page.getByLabel('Remove members the product never sent').check();
    // Field mode cannot repair (its fields are not read back): the options go away with it.
    await page.getByLabel(/^A field per segment/).check();
    expect(await page.getByLabel('Repair on every run').count()).toBe(0);
    await page.getByLabel(/^A list per segment/).check();
    await page.getByLabel('Repair on every run').check();
    await page.getByLabel('Remove members the product never sent').check();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save export' }).click();
    await page.getByRole('heading', { level: 1, name: 'VIP' }).waitFor();
    expect(await factOf(page, 'List repair')).toBe('On every run; removes members the product never sent');
    const saved = await request<{ repair?: unknown }>('dev-admin', 'GET', `/exports/${vipExport}`);
    expect(saved.repair).toEqual({ everyRun: true, removeForeign: true });
    w.expectNoErrors();
    await w.context.close();
  });

  it('shows admins the Activity of an export and a connection, newest first, with Load more; contributors see none', async () => {
    const admin = await watchedPage(browser);
    const { page } = admin;
    await signIn(page, 'Admin');
    await open(page, `#/exports/${vipExport}`);
    const activity = page.locator('section', { has: page.getByRole('heading', { name: 'Activity' }) });
    await activity.getByText('Created the export').waitFor();
    await page.getByRole('button', { name: 'Turn schedule on' }).click();
    await page.getByText('Schedule turned on.').waitFor();
    // The page reloads the export, and the Activity with it: the edit comes first, its field named.
    const first = activity.locator('ol.activity > li').first();
    await first.getByText('Changed the export').waitFor();
    expect(await first.innerText()).toContain('scheduled: false → true');
    expect(await first.innerText()).toContain('by dev-admin (admin)');
    const entries = activity.locator('ol.activity > li');
    const oldest = entries.last();
    expect(await oldest.innerText()).toContain('Created the export');
    expect(await oldest.innerText()).toContain('by dev-contributor (contributor)');
    await expectAccessible(page);

    // Enough entries for a second page: each schedule change is one.
    for (let i = 0; i < 20; i++)
      await request('dev-admin', 'PUT', `/exports/${vipExport}/schedule`, { scheduled: i % 2 === 0 });
    await open(page, `#/exports/${newsletterExport}`);
    await page.getByRole('heading', { level: 1, name: 'Newsletter' }).waitFor();
    await open(page, `#/exports/${vipExport}`);
    await expect.poll(() => entries.count()).toBe(20);
    await activity.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => entries.count()).toBeGreaterThan(20);
    expect(await entries.last().innerText()).toContain('Created the export');

    await open(page, `#/connections/${connectionId}`);
    await page.getByRole('heading', { level: 1, name: 'Marketing' }).waitFor();
    await activity.getByText('Created the connection').waitFor();
    await expectAccessible(page);
    admin.expectNoErrors();
    await admin.context.close();

    // Not offered to a contributor: no Activity, and no 403 in its console.
    const contributor = await watchedPage(browser);
    await signIn(contributor.page, 'Contributor');
    await open(contributor.page, `#/exports/${vipExport}`);
    await contributor.page.getByRole('heading', { level: 2, name: 'Re-send a contact' }).waitFor();
    expect(await contributor.page.getByRole('heading', { name: 'Activity' }).count()).toBe(0);
    contributor.expectNoErrors();
    await contributor.context.close();
    expect((await harness.api('dev-contributor', 'GET', `/audit?resource=export/${vipExport}`)).status).toBe(
      403,
    );
  });
});
