import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OrttoClient } from '#lib/adapters/ortto/client.ts';
import { startLocalApiServer } from '#local/api-gateway.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, type SampleDataset, seedDynamoDbSegments } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { buildConsole } from '#scripts/build-console.ts';
import { expectAccessible, launchBrowser, type WatchedPage, watchedPage } from '#test/support/browser.ts';

/**
 * Ortto connections in the console, in chromium against the real local API and the Ortto stand-in:
 * an admin adds one (a key of another region is refused, naming Ortto), a contributor saves a
 * tag-mode export on it, the only mode the editor offers there, with its tag repair settings, and
 * reads a run's tag counts: one line when they all agreed, each tag and what was read back when one
 * was untagged by hand. The console harness starts no Ortto stand-in, so this file starts the same
 * pieces with one.
 */
let runtime: LocalRuntime;
let server: Server;
let browser: Browser;
let base: string;
let outdir: string;
let orttoKey: string;
let dataset: SampleDataset;

const CONNECTION = 'Ortto (console test)';
const SEGMENT = 'newsletter';

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'console-ortto-'));
  [, runtime, browser] = await Promise.all([
    buildConsole(outdir),
    startLocalRuntime({
      senders: 1,
      services: { dynamoEndpoint: inject('dynamoEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
      autopilot: { kind: 'standin', ratePerSecond: 100 },
      ortto: {},
    }),
    launchBrowser(),
  ]);
  dataset = generateSampleProfiles({ profiles: 20, seed: 7 });
  await seedDynamoDbSegments(runtime.segmentWriter, dataset);
  server = await startLocalApiServer(runtime, 0, { consoleDir: outdir });
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const key = runtime.ortto?.apiKey;
  if (key === undefined) throw new Error('the runtime started no Ortto stand-in');
  orttoKey = key;
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  await runtime?.close();
  if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
});

const signIn = async (page: Page, label: string): Promise<void> => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: `Sign in as ${label}`, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.ok, await res.clone().text()).toBe(true);
  return (await res.json()) as T;
};

/** Ends every wait on a final status: generous for a loaded 2-core machine, never a timing assertion. */
const FINAL = { timeout: 60_000 };
const ENDED = new Set(['succeeded', 'completed_with_errors', 'failed', 'cancelled', 'skipped']);

interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  drift?: { tags?: Array<{ tag: string; counted: number | null; readBack: boolean }> };
}

/** Polls the API (not the clock) until the run ends. */
const waitForEnd = async (id: string): Promise<RunJson> => {
  await expect
    .poll(async () => ENDED.has((await api<RunJson>('GET', `/runs/${id}`)).status), FINAL)
    .toBe(true);
  return api<RunJson>('GET', `/runs/${id}`);
};

/** A hash change, not a load: a load would forget the in-memory sign-in. */
const open = (page: Page, hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);

const factOf = async (page: Page, term: string): Promise<string> =>
  (await page.locator('dt', { hasText: term }).locator('xpath=following-sibling::dd[1]').innerText()).trim();

describe('the console: Ortto connections and tag-mode exports, in chromium', () => {
  let admin: WatchedPage;
  let contributor: WatchedPage;
  let connectionId: string;

  it('an admin adds an Ortto connection: a key of another region is refused naming Ortto, then it is saved', async () => {
    // 400: the key of another region below is refused on purpose.
    admin = await watchedPage(browser, [400]);
    const { page } = admin;
    await signIn(page, 'Admin');
    await page.getByRole('link', { name: 'Add connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add connection' }).waitFor();
    await page.getByLabel('Display name').fill(CONNECTION);
    await page.getByLabel('Ortto', { exact: true }).check();
    // The key field, the rate hint and the consent now speak of Ortto.
    await page.getByLabel('Ortto API key').waitFor();
    expect(await page.locator('#consent-text').innerText()).toContain('the fields you map to Ortto');
    await page.getByLabel('Ortto region').selectOption('eu');
    await page.getByLabel('Ortto API key').fill(orttoKey);
    await page.getByLabel('I have read this and accept it').check();
    await page.getByRole('radio', { name: 'Admins and contributors' }).check();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save connection' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Ortto rejected this API key in the "eu" region').waitFor();
    expect(await alert.innerText()).not.toContain('Autopilot');
    expect(await page.getByLabel('Ortto API key').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page);

    // The stand-in's account is in the global region.
    await page.getByLabel('Ortto region').selectOption('global');
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(CONNECTION.replace(/[()]/g, '\\$&')) });
    expect(await row.getByRole('cell').first().innerText()).toBe('Ortto (Global)');
    const { connections } = await api<{ connections: Array<{ id: string; displayName: string }> }>(
      'GET',
      '/connections',
    );
    connectionId = connections.find((c) => c.displayName === CONNECTION)?.id ?? '';
    expect(await api('GET', `/connections/${connectionId}`)).toMatchObject({
      type: 'ortto',
      region: 'global',
    });
    await expectAccessible(page);
    admin.expectNoErrors();
  });

  it('its page shows the destination and region, and the rotation speaks of Ortto', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: CONNECTION }).click();
    await page.getByRole('heading', { level: 1, name: CONNECTION }).waitFor();
    expect(await page.locator('dt:text-is("Type") + dd').innerText()).toBe('Ortto (Global)');
    await page.getByLabel('New Ortto API key').waitFor();
    await page.getByLabel(/This key opens a different Ortto account/).waitFor();
    await expectAccessible(page);
    admin.expectNoErrors();
  });

  it('a contributor saves a tag-mode export on it: tags are the only mode offered, each segment named', async () => {
    contributor = await watchedPage(browser);
    const { page } = contributor;
    await signIn(page, 'Contributor');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('link', { name: 'New export' }).click();
    await page.getByRole('heading', { level: 1, name: 'New export' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Tagged newsletter');
    await page.getByLabel('Connection').selectOption(connectionId);
    await page.getByText('Sends to Ortto (Global).').waitFor();
    await page.locator(`#segment-${SEGMENT}`).check();
    const membership = page.getByRole('group', { name: 'Membership in Ortto' });
    await expect.poll(() => membership.getByRole('radio').count()).toBe(1);
    const tag = membership.getByLabel(/^A tag per segment/);
    expect(await tag.isChecked()).toBe(true);
    // The selection is priced in tag mode only.
    await expect.poll(() => membership.innerText()).toMatch(/at most \d+ request\(s\)/);
    await page.getByLabel(/^Tag for /).fill('Newsletter readers');
    // Tags are read back, so tag mode repairs: its settings speak of tags, not lists.
    await page.getByText('Advanced: tag repair').click();
    await page.getByLabel('Untag people the product never tagged').check();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save export' }).click();
    await page
      .getByRole('status')
      .getByText('Saved. Nothing was sent: saving never runs an export.')
      .waitFor();
    const { exports } = await api<{ exports: Array<Record<string, unknown>> }>('GET', '/exports');
    expect(exports.find((e) => e.name === 'Tagged newsletter')).toMatchObject({
      connectionId,
      membership: 'tag',
      membershipTags: { [SEGMENT]: 'Newsletter readers' },
      repair: { everyRun: false, removeForeign: true },
      connection: { type: 'ortto', region: 'global' },
    });
    await expectAccessible(page);
    contributor.expectNoErrors();
  });

  it('its export page offers Repair tags, explained, and states the tag repair settings', async () => {
    const { page } = contributor;
    const { exports } = await api<{ exports: Array<{ id: string; name: string }> }>('GET', '/exports');
    await open(page, `#/exports/${exports.find((e) => e.name === 'Tagged newsletter')?.id}`);
    await page.getByRole('heading', { level: 1, name: 'Tagged newsletter' }).waitFor();
    const repair = page.getByRole('button', { name: 'Repair tags' });
    expect(await repair.getAttribute('aria-describedby')).toBe('repair-hint');
    expect(await page.locator('#repair-hint').innerText()).toContain('back from Ortto');
    expect(await page.getByRole('button', { name: 'Repair lists' }).count()).toBe(0);
    expect(await factOf(page, 'Tag repair')).toBe(
      'Only when asked (Repair tags); every run counts its tags and reads back those whose count is off; ' +
        'untags people the product never tagged',
    );
    await expectAccessible(page);
    contributor.expectNoErrors();
  });

  it('a run whose tag counts all agreed says so in one line; one untagged by hand shows each tag and what was read back', async () => {
    const segments = ['newsletter', 'active-customers', 'vip'];
    const { id } = await api<{ id: string }>('POST', '/exports', {
      name: 'Three tags',
      connectionId,
      segmentIds: segments,
      dataMatching: { email: 'email', fields: {} },
      membership: 'tag',
      scheduled: false,
    });
    const start = async () => (await api<{ runId: string }>('POST', `/exports/${id}/runs`)).runId;
    expect((await waitForEnd(await start())).status).toBe('succeeded');
    const quiet = await waitForEnd(await start());
    expect(quiet.status, quiet.reason ?? '').toBe('succeeded');
    expect(quiet.drift?.tags?.map((t) => t.readBack)).toEqual([false, false, false]);

    const { page } = contributor;
    await open(page, `#/runs/${quiet.id}`);
    await page.getByRole('heading', { name: 'Configuration' }).waitFor();
    await page.getByText('3 tags counted, all as expected.').waitFor();
    expect(await page.locator('#drift-title').count()).toBe(0);
    await expectAccessible(page);

    // Someone in Ortto's web app untags two VIPs and tags a stranger with the VIP tag.
    const tag = 'Segment VIP';
    const vips = [...expectedMembers(dataset, 'vip')].sort();
    const standIn = runtime.ortto?.standIn;
    if (standIn === undefined) throw new Error('no Ortto stand-in');
    const client = new OrttoClient({ apiKey: orttoKey, baseUrl: standIn.url });
    const by = { mergeBy: ['str::email'] };
    await client.mergePeople(
      vips.slice(0, 2).map((email) => ({ fields: { 'str::email': email }, unsetTags: [tag] })),
      by,
    );
    await client.mergePeople([{ fields: { 'str::email': 'stranger@example.com' }, tags: [tag] }], by);

    await open(page, `#/exports/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Three tags' }).waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('heading', { level: 1, name: 'Run' }).waitFor();
    await page.getByRole('status').getByText('Succeeded').waitFor(FINAL);
    await page.getByRole('heading', { level: 2, name: 'Tags counted / read back' }).waitFor();
    // Only the VIP tag's count was off, so only it was read back; the stranger is left alone.
    expect(await factOf(page, tag)).toBe(
      `counted ${vips.length - 1}, expected ${vips.length}, 1 foreign: read back`,
    );
    const newsletter = expectedMembers(dataset, 'newsletter').size;
    expect(await factOf(page, 'Segment Newsletter subscribers')).toBe(
      `counted ${newsletter}, expected ${newsletter}: as expected`,
    );
    expect(await factOf(page, 'Tags read back')).toBe('1');
    expect(await factOf(page, 'Missing their tag (tagged again)')).toBe('2');
    expect(await factOf(page, 'Tagged, never tagged by this export')).toBe('1');
    expect(await page.locator('#drift-title').innerText()).not.toMatch(/list/i);
    expect(standIn.tagMemberEmails(orttoKey, tag).map((e) => e.toLowerCase())).toEqual(
      expect.arrayContaining(vips),
    );
    await expectAccessible(page);
    contributor.expectNoErrors();
  });
});
