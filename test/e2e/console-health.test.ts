import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { withMassLeave } from '#local/cli/mass-leave.ts';
import type { LocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, type SampleDataset, syncDynamoDbSegments } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { expectAccessible, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * What the console says about an export's notifications and health, in chromium against the real
 * local API, planner and senders: the webhook URL and its once-shown signing secret, the health
 * badge after a failing run, and a run the removal guardrail held, approved from the keyboard.
 */
let runtime: LocalRuntime;
let browser: Browser;
let base: string;
let harness: ConsoleHarness;
let dataset: SampleDataset;
let hookExport: string;
let holdExport: string;
let failingExport: string;

/** Ends every wait on a final status: generous for a loaded 2-core machine, never a timing assertion. */
const FINAL = { timeout: 60_000 };
const HOOK = 'https://hooks.example.com/services/T0/B0/console';
const SECRET = /whsec_[0-9a-f]{64}/;

const request = <T>(token: string, method: string, path: string, body?: unknown): Promise<T> =>
  harness.request<T>(token, method, path, body);

interface ExportJson {
  name: string;
  notifications?: { webhookUrl?: string };
  health: { state: string; failingRuns: number; runId: string } | null;
}
interface RunJson {
  status: string;
  hold?: { removals: number; targets: { target: string; members: number; removals: number }[] };
}

const getExport = (id: string) => request<ExportJson>('dev-viewer', 'GET', `/exports/${id}`);
const getRun = (id: string) => request<RunJson>('dev-viewer', 'GET', `/runs/${id}`);
const startRun = async (exportId: string): Promise<string> =>
  (await request<{ runId: string }>('dev-contributor', 'POST', `/exports/${exportId}/runs`)).runId;

beforeAll(async () => {
  dataset = generateSampleProfiles({ profiles: 120, seed: 7 });
  harness = await startConsoleHarness({ dataset });
  ({ runtime, browser, base } = harness);
  const connectionId = (
    await request<{ id: string }>('dev-admin', 'POST', '/connections', {
      displayName: 'Marketing',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: '2026-11' },
      sharing: 'admins+contributors',
      ratePerSecond: 100,
    })
  ).id;
  const create = async (name: string, segmentId: string, extra: object = {}) =>
    (
      await request<{ id: string }>('dev-contributor', 'POST', '/exports', {
        name,
        connectionId,
        segmentIds: [segmentId],
        dataMatching: { email: 'email' },
        ...extra,
      })
    ).id;
  hookExport = await create('VIP alerts', 'vip');
  failingExport = await create('Active customers', 'active-customers');
  // A guardrail this small holds a run that empties a list of a few dozen, not only one of thousands.
  holdExport = await create('Newsletter', 'newsletter', {
    removalGuardrail: { enabled: true, maxFraction: 0.1, minContacts: 5 },
  });
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

const tabTo = async (page: Page, selector: string): Promise<void> => {
  const matches = () =>
    page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`);
  for (let i = 0; i < 80 && !(await matches()); i++) await page.keyboard.press('Tab');
  expect(await matches(), `Tab reaches ${selector}`).toBe(true);
};

const focusedText = (page: Page) => page.evaluate('document.activeElement?.textContent ?? ""');

const secretPanel = (page: Page) => page.getByRole('region', { name: 'Webhook signing secret' });

describe('the console: notifications and health, in chromium', () => {
  it('a bad webhook URL is refused at its field, and nothing is saved', async () => {
    const contributor = await watchedPage(browser, [400]);
    const { page } = contributor;
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${hookExport}/edit`);
    const field = page.getByLabel('Webhook URL (optional)');
    await field.waitFor();
    expect(await field.getAttribute('type')).toBe('url');
    await page.getByText('HTTPS; Slack-compatible', { exact: false }).waitFor();
    await field.fill('http://hooks.example.com/services/T0/B0/plain');
    await page.getByRole('button', { name: 'Save export' }).click();
    await page.locator('#webhookUrl-error').getByText('Must use https://').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain('webhookUrl-error');
    // Said once, at the field: not again in the form's list of errors that name no field.
    expect(await page.getByRole('alert').innerText()).not.toContain('notifications.webhookUrl');
    expect((await getExport(hookExport)).notifications).toBeUndefined();
    await expectAccessible(page);
    contributor.expectNoErrors();
    await contributor.context.close();
  });

  it('setting a webhook URL shows its signing secret once; the API never returns it again', async () => {
    const contributor = await watchedPage(browser);
    const { page, context } = contributor;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${hookExport}/edit`);
    await page.getByLabel('Webhook URL (optional)').fill(HOOK);
    await page.getByRole('button', { name: 'Save export' }).click();

    await page.getByRole('heading', { level: 1, name: 'VIP alerts' }).waitFor();
    const panel = secretPanel(page);
    await panel
      .getByText('shown once: store it now; it signs every delivery (X-Autopilot-Export-Signature)', {
        exact: false,
      })
      .waitFor();
    const secret = (await panel.locator('code').innerText()).trim();
    expect(secret).toMatch(new RegExp(`^${SECRET.source}$`));
    await expectAccessible(page);
    await panel.getByRole('button', { name: 'Copy secret' }).click();
    await panel.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);

    // Neither the export nor the list carries it, to anyone.
    for (const path of [`/exports/${hookExport}`, '/exports']) {
      const body = await (await harness.api('dev-admin', 'GET', path)).text();
      expect(body).not.toMatch(SECRET);
      expect(body).toContain(HOOK);
    }

    await panel.getByRole('button', { name: 'Dismiss' }).click();
    expect(await panel.count()).toBe(0);
    await open(page, '#/exports');
    await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
    await open(page, `#/exports/${hookExport}`);
    await page.getByText('Health:').waitFor();
    expect(await secretPanel(page).count()).toBe(0);
    expect(await page.content()).not.toMatch(SECRET);

    // A reload signs out; signed in again, the export page has no secret to show.
    await page.reload();
    await signIn(page, 'Contributor');
    await open(page, `#/exports/${hookExport}`);
    await page.getByText('Health:').waitFor();
    expect(await secretPanel(page).count()).toBe(0);
    expect(await page.content()).not.toMatch(SECRET);

    // An edit of something else keeps the webhook (a save without it would remove it) and makes no secret.
    await open(page, `#/exports/${hookExport}/edit`);
    expect(await page.getByLabel('Webhook URL (optional)').inputValue()).toBe(HOOK);
    await page.getByLabel('Name', { exact: true }).fill('VIP alerts (renamed)');
    await page.getByRole('button', { name: 'Save export' }).click();
    await page.getByRole('heading', { level: 1, name: 'VIP alerts (renamed)' }).waitFor();
    expect(await secretPanel(page).count()).toBe(0);
    expect((await getExport(hookExport)).notifications).toEqual({ webhookUrl: HOOK });
    contributor.expectNoErrors();
    await contributor.context.close();
  });

  it('a run whose contacts Autopilot refuses turns the export’s badge to Failing, linking to the run', async () => {
    const refused = [...expectedMembers(dataset, 'active-customers')].slice(0, 2);
    expect(refused).toHaveLength(2);
    runtime.standIn?.setFaults({ rejectContacts: refused });
    try {
      const runId = await startRun(failingExport);
      expect((await runtime.waitForRun(runId, { timeoutMs: 60_000 })).status).toBe('completed_with_errors');
    } finally {
      runtime.standIn?.setFaults(undefined);
    }
    await expect.poll(async () => (await getExport(failingExport)).health?.state, FINAL).toBe('failing');
    const health = (await getExport(failingExport)).health;

    const viewer = await watchedPage(browser);
    const { page } = viewer;
    await signIn(page, 'Viewer');
    await open(page, '#/exports');
    const row = page.getByRole('row', { name: /Active customers/ });
    const badge = row.locator('.badge');
    await badge.getByText(/^Failing \(1 run, since \d{4}-\d\d-\d\d \d\d:\d\d UTC/).waitFor();
    expect(await badge.getAttribute('href')).toBe(`#/runs/${health?.runId}`);
    // Another export, never run, says so in words.
    expect(
      await page
        .getByRole('row', { name: /Newsletter/ })
        .locator('.badge')
        .innerText(),
    ).toBe('No finished run yet');
    await expectAccessible(page);
    await open(page, `#/exports/${failingExport}`);
    await page
      .locator('.badge')
      .getByText(/^Failing \(1 run/)
      .waitFor();
    viewer.expectNoErrors();
    await viewer.context.close();
  });

  it('a held run: a contributor may not decide; an admin reads the numbers and approves from the keyboard', async () => {
    const first = await startRun(holdExport);
    expect((await runtime.waitForRun(first, { timeoutMs: 60_000 })).status).toBe('succeeded');
    const members = expectedMembers(dataset, 'newsletter').size;
    expect(members).toBeGreaterThan(5);
    const emptied = withMassLeave(dataset, 'newsletter', Number.POSITIVE_INFINITY).dataset;
    await syncDynamoDbSegments(runtime.segmentWriter, dataset, emptied);
    const heldId = await startRun(holdExport);
    await runtime.waitForRunState(heldId, (r: RunRecord) => r.status === 'awaiting_approval', 60_000);
    const held = await getRun(heldId);
    const target = held.hold?.targets[0];
    expect(target).toMatchObject({ members, removals: members });
    await expect.poll(async () => (await getExport(holdExport)).health?.state, FINAL).toBe('held');

    const contributor = await watchedPage(browser);
    await signIn(contributor.page, 'Contributor');
    await open(contributor.page, '#/exports');
    const heldBadge = contributor.page.getByRole('row', { name: /Newsletter/ }).getByRole('link', {
      name: 'Held for approval',
    });
    expect(await heldBadge.getAttribute('href')).toBe(`#/runs/${heldId}`);
    await heldBadge.click();
    await contributor.page.getByRole('heading', { name: 'Removals awaiting approval' }).waitFor();
    await contributor.page.getByText('An admin approves or rejects these removals.').waitFor();
    expect(await contributor.page.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    contributor.expectNoErrors();
    await contributor.context.close();

    const admin = await watchedPage(browser);
    const { page } = admin;
    await signIn(page, 'Admin');
    await open(page, `#/runs/${heldId}`);
    const panel = page.getByRole('region', { name: 'Removals awaiting approval' });
    await panel.waitFor();
    const row = panel.getByRole('row', { name: target?.target ?? '' });
    expect((await row.getByRole('cell').allInnerTexts()).map((t) => t.trim())).toEqual([
      members.toLocaleString('en-US'),
      members.toLocaleString('en-US'),
      'Yes',
    ]);
    await panel.getByText(`${held.hold?.removals.toLocaleString('en-US')} removals were held`).waitFor();
    await expectAccessible(page);

    await tabTo(page, 'button.danger');
    expect(await focusedText(page)).toBe('Approve removals…');
    await page.keyboard.press('Enter');
    // The confirmation takes focus, so the keyboard goes on from the question it asks.
    await expect.poll(() => focusedText(page)).toBe('Yes, send the removals');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    // Decided, the panel stays as the record of who approved.
    await page.getByRole('heading', { name: 'Removals held by the guardrail' }).waitFor();
    await page.getByText(/^Approved by /).waitFor();
    expect(runtime.standIn?.listMemberEmails(runtime.apiKey, target?.target ?? '')).toEqual([]);
    // The approved run's success ends the hold on the export's health too.
    await expect.poll(async () => (await getExport(holdExport)).health?.state, FINAL).toBe('healthy');
    admin.expectNoErrors();
    await admin.context.close();
  });
});
