import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExport } from '#lib/use-cases/manage-exports.ts';
import type { LocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles } from '#local/sample-data.ts';
import { axeViolations, expectAccessible, type WatchedPage, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The web console in a real browser against the real local API (DynamoDB Local, the Autopilot
 * stand-in): one browser for the file, one page per signed-in user.
 */
let runtime: LocalRuntime;
let browser: Browser;
let base: string;
let harness: ConsoleHarness;

beforeAll(async () => {
  harness = await startConsoleHarness({ dataset: generateSampleProfiles({ profiles: 20, seed: 5 }) });
  ({ runtime, browser, base } = harness);
});

afterAll(async () => {
  await harness?.close();
});

const signIn = async (page: Page, label: string): Promise<void> => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByRole('button', { name: `Sign in as ${label}`, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

const NAME = 'Newsletter (console test)';
const DOWN_NAME = 'Added while Autopilot was down';

describe('the console: sign-in and connections, in chromium', () => {
  let admin: WatchedPage;

  it('serves the console with a CSP that forbids inline code and framing, and nosniff', async () => {
    for (const path of ['/', '/console/app.js', '/console/app.css']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect((await fetch(`${base}/console/../package.json`)).status).not.toBe(200);
    expect((await fetch(`${base}/connections`)).status).toBe(401);
  });

  it('the axe check finds what it should: an unlabelled control fails it', async () => {
    const probe = await watchedPage(browser);
    await probe.page.setContent(
      '<!doctype html><html lang="en"><title>t</title><main><input type="text"></main></html>',
    );
    expect((await axeViolations(probe.page)).map((v) => v.id)).toContain('label');
    await probe.context.close();
  });

  it('works from the keyboard alone, with a visible focus ring', async () => {
    const keys = await watchedPage(browser);
    const { page } = keys;
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    const focused = () => page.evaluate('document.activeElement?.textContent ?? ""') as Promise<string>;
    for (let i = 0; i < 10 && (await focused()) !== 'Sign in as Admin'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign in as Admin');
    const outline = (await page.evaluate(
      'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth',
    )) as string;
    expect(outline).toBe('solid 3px');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    for (let i = 0; i < 10 && (await focused()) !== 'Add connection'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Add connection' }).waitFor();
    keys.expectNoErrors();
    await keys.context.close();
  });

  it('signs in as admin from a page that says it is the local stand-in, and shows who is signed in', async () => {
    // 400s: the rejected key and the missing consent below are answered 400 on purpose.
    admin = await watchedPage(browser, [400, 409]);
    await admin.page.goto(`${base}/`);
    await admin.page.getByText('This is a local stand-in for the real sign-in').waitFor();
    await expectAccessible(admin.page);
    await admin.page.getByRole('button', { name: 'Sign in as Admin', exact: true }).click();
    const header = admin.page.getByRole('banner');
    // Who is signed in comes from GET /me: the dev token's email claim and its role.
    await expect.poll(() => header.textContent()).toContain('Signed in as admin@example.local (admin)');
    await admin.page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    await admin.page.getByText('No connections yet.').waitFor();
    await expectAccessible(admin.page);
    admin.expectNoErrors();
  });

  it('shows Autopilot rejecting a key next to the key field, then refuses a missing consent by its checkbox', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Add connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add connection' }).waitFor();
    await expectAccessible(page);
    await page.getByLabel('Display name').fill(NAME);
    await page.getByLabel('Autopilot API key').fill('not-the-standin-key-0000');
    await page.getByLabel('I have read this and accept it').check();
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('alert').getByText('Autopilot rejected this API key').waitFor();
    const key = page.getByLabel('Autopilot API key');
    await expect.poll(() => key.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#apiKey-error').textContent()).toBe('Rejected by Autopilot');
    await expectAccessible(page);

    await key.fill(runtime.apiKey);
    await page.getByLabel('I have read this and accept it').uncheck();
    await page.getByRole('button', { name: 'Save connection' }).click();
    await expect
      .poll(() => page.locator('#consent-error').textContent())
      .toContain('an admin has to accept the data-privacy notice');
    expect(await page.locator('#apiKey-error').count()).toBe(0);
    admin.expectNoErrors();
  });

  it('saves with the good key, consent and a named export user, then lists the connection with its status, sharing, rate and cap', async () => {
    const { page } = admin;
    await page.getByLabel('I have read this and accept it').check();
    await page.getByLabel('Admins only').check();
    await page.getByLabel('User id').fill('dev-contributor-2');
    await page.getByLabel('Name (optional)').fill('Second contributor');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Second contributor (dev-contributor-2)').waitFor();
    await page.getByLabel('Rate budget (requests per second)').fill('4');
    // Holds the save in the browser, to see the form say it is working (no timing involved).
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`${base}/connections`, async (route) => {
      if (route.request().method() === 'POST') await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Save connection' }).click();
    const saving = page.getByRole('button', { name: 'Saving…' });
    await saving.waitFor();
    expect(await saving.isDisabled()).toBe(true);
    release();
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    await page.getByRole('status').getByText(`Added "${NAME}".`).waitFor();
    const row = page.locator('tbody tr', { hasText: NAME });
    await row.waitFor();
    await page.unroute(`${base}/connections`);
    expect(await row.innerText()).toMatch(/Autopilot\s+OK\s+Admins only\s+4 requests\/s\s+100,000 contacts/);
    // The key as its last 4 characters; screen readers hear "ending in" instead of the dots.
    expect(await row.locator('td').last().textContent()).toBe(`•••• ending in ${runtime.apiKey.slice(-4)}`);
    expect(await row.innerText()).not.toContain(runtime.apiKey);
    await expectAccessible(page);
    admin.expectNoErrors();
  });

  it('a contributor sees name and type only, with no key, settings or Add button', async () => {
    const contributor = await watchedPage(browser);
    await signIn(contributor.page, 'Contributor');
    const { page } = contributor;
    await page.getByRole('link', { name: NAME }).waitFor();
    expect(await page.getByRole('link', { name: 'Add connection' }).count()).toBe(0);
    expect(await page.getByRole('columnheader').allInnerTexts()).toEqual(['Name', 'Type', 'You can use it']);
    // Shared with admins only and not naming this contributor (it names dev-contributor-2).
    expect(await page.locator('tbody tr', { hasText: NAME }).innerText()).toMatch(/Autopilot\s+No$/);
    expect(await page.getByText('ending in').count()).toBe(0);
    await expectAccessible(page);
    await page.getByRole('link', { name: NAME }).click();
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    await page.getByText('Admins see and change its settings.').waitFor();
    expect(await page.locator('form, input').count()).toBe(0);
    expect(await page.getByText('ending in').count()).toBe(0);
    expect(await page.content()).not.toContain(runtime.apiKey);
    await expectAccessible(page);
    contributor.expectNoErrors();
    await contributor.context.close();
  });

  it('a viewer gets no write controls, and the API refuses a write forced with the viewer token (403 in words)', async () => {
    const viewer = await watchedPage(browser, [403]);
    await signIn(viewer.page, 'Viewer');
    const { page } = viewer;
    await page.getByRole('link', { name: NAME }).waitFor();
    expect(await page.getByRole('link', { name: 'Add connection' }).count()).toBe(0);
    await page.goto(`${base}/#/connections/new`);
    await page.getByText('Only admins can add connections.').waitFor();
    expect(await page.locator('main form, main input, main button').count()).toBe(0);
    await expectAccessible(page);
    // Forced through the page itself: the controls are hidden, but the API is what refuses.
    const forced = (await page.evaluate(`fetch('/connections', {
        method: 'POST',
        headers: { authorization: 'Bearer dev-viewer', 'content-type': 'application/json' },
        body: JSON.stringify({ displayName: 'x', apiKey: 'abcdefgh12', consent: { accepted: true, noticeVersion: '2026-11' } }),
      }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.json() }))`)) as {
      status: number;
      type: string;
      body: { detail: string };
    };
    expect(forced.status).toBe(403);
    expect(forced.type).toContain('application/problem+json');
    expect(forced.body.detail).toMatch(/[a-z]{3,} .*[a-z]{3,}/);
    viewer.expectNoErrors();
    await viewer.context.close();
  });

  it('tells a contributor named as export user that they may use the connection', async () => {
    const named = await watchedPage(browser);
    await signIn(named.page, 'Contributor 2');
    const row = named.page.locator('tbody tr', { hasText: NAME });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Autopilot\s+Yes$/);
    named.expectNoErrors();
    await named.context.close();
  });

  it('renames on the detail page, and on a stale edit says so and reloads instead of overwriting', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: NAME }).click();
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    const key = page.locator('dt', { hasText: 'API key' }).locator('+ dd');
    expect(await key.textContent()).toBe(`•••• ending in ${runtime.apiKey.slice(-4)}`);
    expect(await page.content()).not.toContain(runtime.apiKey);
    await expectAccessible(page);
    await page.getByLabel('Display name').fill(`${NAME} v2`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved.').waitFor();
    await page.getByRole('heading', { level: 1, name: `${NAME} v2` }).waitFor();

    // Someone else saves first: the form still holds the version it read.
    const id = decodeURIComponent(page.url().split('#/connections/')[1] ?? '');
    const auth = { authorization: 'Bearer dev-admin', 'content-type': 'application/json' };
    const current = (await (await fetch(`${base}/connections/${id}`, { headers: auth })).json()) as {
      version: number;
    };
    const patched = await fetch(`${base}/connections/${id}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ version: current.version, displayName: 'Renamed elsewhere' }),
    });
    expect(patched.status).toBe(200);
    await page.getByLabel('Cap (most contacts one export may send)').fill('5000');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('The connection changed since you read it').waitFor();
    await alert.getByText('Your changes were not saved.').waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await expectAccessible(page);
    await alert.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('heading', { level: 1, name: 'Renamed elsewhere' }).waitFor();
    expect(await page.getByLabel('Display name').inputValue()).toBe('Renamed elsewhere');
    expect(await page.getByLabel('Cap (most contacts one export may send)').inputValue()).toBe('100000');
    admin.expectNoErrors();
  });

  it('shows a rejected replacement key by its field, then removes the connection, detaching the export that uses it', async () => {
    const { page } = admin;
    await page.getByLabel('New Autopilot API key').fill('still-not-the-key-1234');
    await page.getByRole('button', { name: 'Replace key' }).click();
    await expect.poll(() => page.locator('#rotate-apiKey-error').textContent()).toBe('Rejected by Autopilot');

    const id = decodeURIComponent(page.url().split('#/connections/')[1] ?? '');
    const segments = await runtime.segments.listSegments();
    await createExport(
      runtime.exportDeps,
      {
        name: 'Weekly newsletter',
        connectionId: id,
        segmentIds: segments.slice(0, 1).map((s) => s.id),
        dataMatching: { email: 'email', updatedAt: 'updated_at' },
      },
      { id: 'dev-admin', role: 'admin' },
    );
    await page.reload();
    // A reload forgets the in-memory sign-in, by design.
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign in as Admin', exact: true }).click();
    await page.getByRole('link', { name: 'Renamed elsewhere' }).click();
    await page.getByText('1 export(s) use it.').waitFor();
    await page.getByRole('listitem').getByText('Weekly newsletter').waitFor();
    await page.getByRole('button', { name: 'Remove connection…' }).click();
    await page.getByRole('button', { name: 'Detach 1 export(s) and remove' }).click();
    await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
    await page.getByRole('status').getByText('Removed "Renamed elsewhere"; 1 export(s) detached.').waitFor();
    await page.getByText('No connections yet.').waitFor();
    // The export it detached is listed under the connections, linking to where a connection is chosen again.
    const detached = page.getByRole('region', { name: 'Detached exports' });
    await detached.waitFor();
    await page.getByText('1 export has no connection and will not run').waitFor();
    const link = detached.getByRole('link', { name: 'Choose a connection for “Weekly newsletter”' });
    const exported = (
      await harness.request<{ exports: { id: string; name: string }[] }>('dev-admin', 'GET', '/exports')
    ).exports;
    const weekly = exported.find((e) => e.name === 'Weekly newsletter');
    expect(await link.getAttribute('href')).toBe(`#/exports/${encodeURIComponent(weekly?.id ?? '')}/edit`);
    await expectAccessible(page);
    admin.expectNoErrors();
  });
  it('says by the key field that Autopilot could not be reached while it is down, then adds and rotates once it is back', async () => {
    // 503s: the key checks below fail on purpose while the stand-in drops or refuses them.
    const down = await watchedPage(browser, [503]);
    const { page } = down;
    const standIn = runtime.standIn;
    if (standIn === undefined) throw new Error('the console harness runs the Autopilot stand-in');
    const struck = () => Object.values(standIn.faultCounts()).reduce((n, c) => n + c.injected, 0);
    await signIn(page, 'Admin');
    await page.getByRole('link', { name: 'Add connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add connection' }).waitFor();
    await page.getByLabel('Display name').fill(DOWN_NAME);
    await page.getByLabel('Autopilot API key').fill(runtime.apiKey);
    await page.getByLabel('I have read this and accept it').check();

    // The connection to Autopilot drops without an answer.
    standIn.setFaults({ rules: [{ kind: 'reset', routes: ['GET /lists'] }] });
    try {
      await page.getByRole('button', { name: 'Save connection' }).click();
      await expect
        .poll(() => page.locator('#apiKey-error').textContent())
        .toBe('Autopilot could not be reached; try again.');
      expect(await page.getByLabel('Autopilot API key').getAttribute('aria-invalid')).toBe('true');
      const alert = await page.getByRole('alert').innerText();
      expect(alert).toContain('Autopilot could not be reached to check the key; try again shortly.');
      expect(alert).not.toMatch(/rejected/i);
      expect(struck()).toBeGreaterThan(0);
      await expectAccessible(page);
    } finally {
      standIn.setFaults(undefined);
    }
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('status').getByText(`Added "${DOWN_NAME}".`).waitFor();

    await page.getByRole('link', { name: DOWN_NAME }).click();
    await page.getByRole('heading', { level: 1, name: DOWN_NAME }).waitFor();
    // Autopilot answers, but only with 503s.
    standIn.setFaults({ rules: [{ kind: 'error', status: 503, routes: ['GET /lists'] }] });
    try {
      await page.getByLabel('New Autopilot API key').fill(runtime.apiKey);
      await page.getByRole('button', { name: 'Replace key' }).click();
      await expect
        .poll(() => page.locator('#rotate-apiKey-error').textContent())
        .toBe('Autopilot could not be reached; try again.');
      expect(await page.getByRole('alert').innerText()).toContain('it answered 503');
      expect(struck()).toBeGreaterThan(0);
    } finally {
      standIn.setFaults(undefined);
    }
    await page.getByRole('button', { name: 'Replace key' }).click();
    await page.getByRole('status').getByText('API key replaced.').waitFor();
    expect(await page.locator('#rotate-apiKey-error').count()).toBe(0);
    down.expectNoErrors();
    await down.context.close();
  });

  it('lets an admin attach a detached export to another connection from the link under the list; others are not shown it', async () => {
    const contributor = await watchedPage(browser);
    await signIn(contributor.page, 'Contributor');
    await contributor.page.getByRole('link', { name: DOWN_NAME }).waitFor();
    expect(await contributor.page.getByRole('region', { name: 'Detached exports' }).count()).toBe(0);
    expect(await contributor.page.getByText('no connection').count()).toBe(0);
    contributor.expectNoErrors();
    await contributor.context.close();

    const { page } = admin;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    const detached = page.getByRole('region', { name: 'Detached exports' });
    await detached.getByRole('link', { name: 'Choose a connection for “Weekly newsletter”' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit Weekly newsletter' }).waitFor();
    expect(await page.getByLabel('Connection').inputValue()).toBe('');
    const { connections } = await harness.request<{ connections: { id: string; displayName: string }[] }>(
      'dev-admin',
      'GET',
      '/connections',
    );
    const target = connections.find((c) => c.displayName === DOWN_NAME);
    if (target === undefined) throw new Error(`no connection named ${DOWN_NAME}`);
    await page.getByLabel('Connection').selectOption(target.id);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save export' }).click();
    await page
      .getByRole('status')
      .getByText('Saved. Nothing was sent: saving never runs an export.')
      .waitFor();
    await page.getByRole('heading', { level: 1, name: 'Weekly newsletter', exact: true }).waitFor();
    const id = decodeURIComponent(page.url().split('#/exports/')[1] ?? '');
    const attached = await harness.request<{ connectionId: string | null; status: string }>(
      'dev-admin',
      'GET',
      `/exports/${encodeURIComponent(id)}`,
    );
    expect(attached).toMatchObject({ connectionId: target.id, status: 'ready' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('link', { name: DOWN_NAME }).waitFor();
    expect(await page.getByRole('region', { name: 'Detached exports' }).count()).toBe(0);
    admin.expectNoErrors();
  });
});
