import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles } from '#local/sample-data.ts';
import { expectAccessible, type WatchedPage, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The console's exports pages in chromium against the real local API: a contributor creates an
 * export from the keyboard, is refused over a small cap, dry-runs, runs, schedules, duplicates and
 * deletes; a viewer sees no write control; a stale edit shows what changed.
 */
let runtime: LocalRuntime;
let browser: Browser;
let base: string;
let harness: ConsoleHarness;
let sizes: Map<string, { name: string; profiles: number }>;
const SEGMENTS = ['newsletter', 'active-customers'] as const;
const connections = { main: '', tiny: '' };

const api = (token: string, method: string, path: string, body?: unknown): Promise<Response> =>
  harness.api(token, method, path, body);

const addConnection = async (displayName: string, cap: number): Promise<string> => {
  const res = await api('dev-admin', 'POST', '/connections', {
    displayName,
    apiKey: runtime.apiKey,
    consent: { accepted: true, noticeVersion: '2026-11' },
    sharing: 'admins+contributors',
    cap,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

beforeAll(async () => {
  harness = await startConsoleHarness({ dataset: generateSampleProfiles({ profiles: 20, seed: 11 }) });
  ({ runtime, browser, base } = harness);
  sizes = new Map((await runtime.segments.listSegments()).map((s) => [s.id, s]));
  const [a, b] = SEGMENTS.map((id) => sizes.get(id)?.profiles ?? 0);
  connections.main = await addConnection('Main connection', 100_000);
  // Each segment fits alone; together they do not.
  connections.tiny = await addConnection('Tiny cap connection', Math.max(a ?? 0, b ?? 0));
});

afterAll(async () => {
  await harness?.close();
});

const signIn = async (page: Page, label: string): Promise<void> => {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: `Sign in as ${label}`, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
  await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
};

/** Presses Tab until the focused element matches `selector`: the keyboard alone reaches it. */
const tabTo = async (page: Page, selector: string): Promise<void> => {
  const matches = () =>
    page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`);
  for (let i = 0; i < 80 && !(await matches()); i++) await page.keyboard.press('Tab');
  expect(await matches(), `Tab reaches ${selector}`).toBe(true);
};

const goHash = (page: Page, hash: string) => page.evaluate(`window.location.hash = ${JSON.stringify(hash)}`);
const idFromHash = (page: Page, prefix: string): string =>
  decodeURIComponent(new URL(page.url()).hash.slice(prefix.length));

type RunList = { runs: { id: string; trigger: string }[] };
const NAME = 'Weekly newsletter (console test)';

describe('the console: exports, in chromium', () => {
  let contributor: WatchedPage;
  let exportId = '';

  it('creates an export over two segments from the keyboard alone; saving runs nothing', async () => {
    // 400: the bad custom field name below; 409: the stale edit.
    contributor = await watchedPage(browser, [400, 409]);
    const { page } = contributor;
    await signIn(page, 'Contributor');
    await page.getByText('No exports yet.').waitFor();
    await expectAccessible(page);
    await tabTo(page, 'a.button[href="#/exports/new"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New export' }).waitFor();
    await page.getByRole('checkbox', { name: /Newsletter subscribers/ }).waitFor();
    await expectAccessible(page);

    await tabTo(page, '#name');
    const outline = await page.evaluate(
      'getComputedStyle(document.activeElement).outlineStyle + " " + getComputedStyle(document.activeElement).outlineWidth',
    );
    expect(outline).toBe('solid 3px');
    await page.keyboard.type(NAME);
    await tabTo(page, '#connectionId');
    // Type-ahead picks the option, as a keyboard user would.
    await page.keyboard.type('Main');
    expect(await page.locator('#connectionId').inputValue()).toBe(connections.main);
    for (const id of SEGMENTS) {
      await tabTo(page, `#segment-${id}`);
      await page.keyboard.press('Space');
    }
    await expect.poll(() => page.locator('.cap-meter').innerText()).toContain('2 segment(s)');
    // Each membership mode priced from the segment sizes (the API's upper bound for a first run).
    const [a, b] = SEGMENTS.map((id) => sizes.get(id)?.profiles ?? 0);
    await expect
      .poll(() => page.locator('label[for="membership-field"]').innerText())
      .toContain(`at most ${Math.ceil(((a ?? 0) + (b ?? 0)) / 100)} request(s)`);
    await tabTo(page, '#dataMatching-fields-FirstName');
    await page.keyboard.type('first_name');
    await tabTo(page, 'button[type="submit"]');
    await page.keyboard.press('Enter');

    await page
      .getByRole('status')
      .getByText('Saved. Nothing was sent: saving never runs an export.')
      .waitFor();
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    exportId = idFromHash(page, '#/exports/');
    const saved = (await (await api('dev-contributor', 'GET', `/exports/${exportId}`)).json()) as {
      segmentIds: string[];
      dataMatching: { fields: Record<string, string> };
      activeRunId: string | null;
    };
    expect(saved.segmentIds).toEqual([...SEGMENTS]);
    expect(saved.dataMatching.fields).toEqual({ FirstName: 'first_name' });
    expect(saved.activeRunId).toBeNull();
    const runs = (await (await api('dev-contributor', 'GET', `/exports/${exportId}/runs`)).json()) as RunList;
    expect(runs.runs).toEqual([]);
    await expectAccessible(page);
    contributor.expectNoErrors();
  });

  it('fills the cap meter past a small cap and refuses the save, naming the segments and the excess', async () => {
    const { page } = contributor;
    await goHash(page, '#/exports/new');
    await page.getByRole('heading', { level: 1, name: 'New export' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Too big');
    await page.getByLabel('Connection').selectOption(connections.tiny);
    for (const id of SEGMENTS) await page.locator(`#segment-${id}`).check();
    const [a, b] = SEGMENTS.map((id) => sizes.get(id) ?? { name: id, profiles: 0 });
    const cap = Math.max(a?.profiles ?? 0, b?.profiles ?? 0);
    const total = (a?.profiles ?? 0) + (b?.profiles ?? 0);
    await expect.poll(() => page.locator('.cap-meter').innerText()).toContain(`${total - cap} over the cap`);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Save export' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Not saved.').waitFor();
    const text = await alert.innerText();
    expect(text).toContain(
      `"${a?.name}" (${a?.profiles} profiles) and "${b?.name}" (${b?.profiles} profiles)`,
    );
    expect(text).toContain(`${total - cap} over`);
    const list = (await (await api('dev-contributor', 'GET', '/exports')).json()) as { exports: unknown[] };
    expect(list.exports).toHaveLength(1);
    contributor.expectNoErrors();
  });

  it('shows an API error next to the field it names', async () => {
    const { page } = contributor;
    await page.getByLabel('Connection').selectOption(connections.main);
    await page.getByRole('button', { name: 'Add custom field' }).click();
    await page.getByLabel('Autopilot field name').fill('Plan--Name');
    await page.getByLabel('Profile attribute').fill('plan');
    await page.getByRole('button', { name: 'Save export' }).click();
    await expect
      .poll(() => page.locator('#dataMatching-custom-0-name-error').textContent())
      .toBe('Must not contain "--" (the field-name separator)');
    expect(await page.getByLabel('Autopilot field name').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page);
    contributor.expectNoErrors();
  });

  it('dry-runs and runs from the export page, each landing on the run', async () => {
    const { page } = contributor;
    await goHash(page, `#/exports/${encodeURIComponent(exportId)}`);
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    await page.getByText('Never run.').waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.waitForURL(/#\/runs\/.+/);
    const dryId = idFromHash(page, '#/runs/');
    const dry = (await (await api('dev-contributor', 'GET', `/runs/${dryId}`)).json()) as { trigger: string };
    expect(dry.trigger).toBe('dry-run');
    await runtime.waitForRun(dryId);

    await goHash(page, `#/exports/${encodeURIComponent(exportId)}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(
      (url) => url.hash.startsWith('#/runs/') && !url.hash.endsWith(encodeURIComponent(dryId)),
    );
    const runId = idFromHash(page, '#/runs/');
    const run = (await (await api('dev-contributor', 'GET', `/runs/${runId}`)).json()) as {
      trigger: string;
      exportId: string;
    };
    expect(run).toMatchObject({ trigger: 'on-demand', exportId });
    const ended = await runtime.waitForRun(runId);
    expect(ended.status).toBe('succeeded');
    await goHash(page, '#/exports');
    const row = page.locator('tbody tr', { hasText: NAME });
    await expect.poll(() => row.innerText()).toContain('Succeeded');
    // The list shows the last run's counts as the export keeps them, in the run's unit.
    const { accepted, failed, dropped } = ended.progress;
    expect(accepted).toBeGreaterThan(0);
    expect(await row.innerText()).toContain(
      `${accepted.toLocaleString('en-US')} list memberships delivered, ${failed} failed, ${dropped} not sent`,
    );
    expect(await row.getByRole('link', { name: /Succeeded/ }).getAttribute('href')).toBe(
      `#/runs/${encodeURIComponent(runId)}`,
    );
    contributor.expectNoErrors();
  });

  it('creates the export scheduled, as the original connector runs it with every refresh, and turns the schedule off and on', async () => {
    const { page } = contributor;
    await page.getByRole('link', { name: NAME }).click();
    const scheduled = async () =>
      ((await (await api('dev-contributor', 'GET', `/exports/${exportId}`)).json()) as { scheduled: boolean })
        .scheduled;
    expect(await scheduled()).toBe(true);
    await page.getByRole('button', { name: 'Turn schedule off' }).click();
    await page.getByRole('status').getByText('Schedule turned off.').waitFor();
    expect(await scheduled()).toBe(false);
    await page.getByRole('button', { name: 'Turn schedule on' }).click();
    await page.getByRole('status').getByText('Schedule turned on.').waitFor();
    expect(await scheduled()).toBe(true);
    contributor.expectNoErrors();
  });

  it('on a stale edit shows what someone else changed, offers Reload, and never overwrites', async () => {
    const { page } = contributor;
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { level: 1, name: `Edit ${NAME}` }).waitFor();
    await expectAccessible(page);
    const current = (await (await api('dev-admin', 'GET', `/exports/${exportId}`)).json()) as Record<
      string,
      unknown
    >;
    const {
      name: _n,
      version,
      dataMatching,
      membership,
      onLeave,
      listTitles,
      membershipFields,
      membershipTags,
    } = current;
    const put = await api('dev-admin', 'PUT', `/exports/${exportId}`, {
      name: 'Renamed elsewhere',
      connectionId: current.connectionId,
      segmentIds: current.segmentIds,
      dataMatching,
      membership,
      onLeave,
      listTitles,
      membershipFields,
      membershipTags,
      adoptExistingLists: current.adoptExistingLists,
      cap: current.cap,
      capPolicy: current.capPolicy,
      scheduled: current.scheduled,
      version,
    });
    expect(put.status).toBe(200);
    await page.locator('#onLeave-keep').check();
    await page.getByRole('button', { name: 'Save export' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Your changes were not saved.').waitFor();
    await alert.getByText('Changed by dev-admin since you opened it: Name.').waitFor();
    expect(await page.getByRole('button', { name: 'Save export' }).isDisabled()).toBe(true);
    await expectAccessible(page);
    await alert.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit Renamed elsewhere' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Renamed elsewhere');
    expect(await page.locator('#onLeave-remove').isChecked()).toBe(true);
    const after = (await (await api('dev-admin', 'GET', `/exports/${exportId}`)).json()) as {
      onLeave: string;
    };
    expect(after.onLeave).toBe('remove');
    contributor.expectNoErrors();
  });

  it('duplicates the export, then deletes the copy after a confirmation', async () => {
    const { page } = contributor;
    await goHash(page, `#/exports/${encodeURIComponent(exportId)}`);
    await page.getByRole('heading', { level: 1, name: 'Renamed elsewhere' }).waitFor();
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('heading', { level: 1, name: 'Copy of Renamed elsewhere' }).waitFor();
    const copyId = idFromHash(page, '#/exports/');
    expect(copyId).not.toBe(exportId);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Delete export' }).click();
    await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
    await page.getByRole('status').getByText('Deleted "Copy of Renamed elsewhere".').waitFor();
    expect((await api('dev-contributor', 'GET', `/exports/${copyId}`)).status).toBe(404);
    expect((await api('dev-contributor', 'GET', `/exports/${exportId}`)).status).toBe(200);
    contributor.expectNoErrors();
    await contributor.context.close();
  });

  it('shows a contributor no write control on an export whose connection they may not use', async () => {
    const adminsOnly = await api('dev-admin', 'POST', '/connections', {
      displayName: 'Admins-only connection',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: '2026-11' },
      sharing: 'admins',
    });
    expect(adminsOnly.status).toBe(201);
    const created = await api('dev-admin', 'POST', '/exports', {
      name: 'Admins only export',
      connectionId: ((await adminsOnly.json()) as { id: string }).id,
      segmentIds: ['vip'],
      dataMatching: { email: 'email' },
    });
    expect(created.status).toBe(201);
    const other = await watchedPage(browser);
    const { page } = other;
    await signIn(page, 'Contributor');
    const row = page.locator('tbody tr', { hasText: 'Admins only export' });
    await expect.poll(() => row.innerText()).toContain('View only');
    await row.getByRole('link', { name: 'Admins only export' }).click();
    await page.getByRole('heading', { level: 1, name: 'Admins only export' }).waitFor();
    await page.getByText('Admins-only connection').waitFor();
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    // The edit page, reached by its address, says so instead of offering a form.
    await goHash(page, `#/exports/${encodeURIComponent(((await created.json()) as { id: string }).id)}/edit`);
    await page.getByText('You may not change this export.').waitFor();
    await expectAccessible(page);
    other.expectNoErrors();
    await other.context.close();
  });

  it('shows a viewer the exports read-only, with no write control', async () => {
    const viewer = await watchedPage(browser);
    const { page } = viewer;
    await signIn(page, 'Viewer');
    const row = page.locator('tbody tr', { hasText: 'Renamed elsewhere' });
    await expect.poll(() => row.innerText()).toContain('View only');
    expect(await page.getByRole('link', { name: 'New export' }).count()).toBe(0);
    await expectAccessible(page);
    await row.getByRole('link', { name: 'Renamed elsewhere' }).click();
    await page.getByRole('heading', { level: 1, name: 'Renamed elsewhere' }).waitFor();
    await page.getByText('Main connection').waitFor();
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    await expectAccessible(page);
    viewer.expectNoErrors();
    await viewer.context.close();
  });

  it('offers the selected segments’ attributes in a picker and adds a typed custom field from the keyboard alone; the saved export holds the mapping', async () => {
    await runtime.segmentWriter.putSegment({ id: 'partners', name: 'Partners' });
    await runtime.segmentWriter.putMembers('partners', [
      { id: 'pa-1', attributes: { email: 'pa-1@example.com', partner_tier: 'gold', seats: 3 } },
      { id: 'pa-2', attributes: { email: 'pa-2@example.com', partner_tier: 'silver', seats: 12 } },
    ]);
    // A segment whose source says nothing of its attributes (written before segments kept them).
    await runtime.segmentWriter.putSegment({ id: 'unlisted', name: 'Unlisted' });
    const name = 'Partners and VIPs (picker test)';
    // Segments no export on the main connection has a list for yet.
    const chosen = ['vip', 'partners'];
    const listed = (
      await harness.request<{ segments: { id: string; attributes?: string[] }[] }>(
        'dev-contributor',
        'GET',
        '/segments',
      )
    ).segments;
    // What the picker should offer, from the API's own answer: the union, each with its count.
    const carriers = new Map<string, number>();
    for (const segment of listed.filter((s) => chosen.includes(s.id)))
      for (const attribute of segment.attributes ?? [])
        carriers.set(attribute, (carriers.get(attribute) ?? 0) + 1);
    carriers.delete('email'); // mapped already, as the form starts with it
    expect(carriers.get('partner_tier')).toBe(1);
    expect(carriers.get('seats')).toBe(2);

    const editor = await watchedPage(browser);
    const { page } = editor;
    await signIn(page, 'Contributor');
    await goHash(page, '#/exports/new');
    await page.getByRole('heading', { level: 1, name: 'New export' }).waitFor();
    await page.getByRole('checkbox', { name: /Unlisted/ }).waitFor();
    await page.getByText('Choose segments to see the profile attributes they carry.').waitFor();
    await page.getByRole('checkbox', { name: /Unlisted/ }).check();
    await page
      .getByText(
        'The selected segment does not report the attributes its profiles carry; type attribute names by hand below.',
      )
      .waitFor();
    await page.getByRole('checkbox', { name: /Unlisted/ }).uncheck();

    await tabTo(page, '#name');
    await page.keyboard.type(name);
    await tabTo(page, '#connectionId');
    await page.keyboard.type('Main');
    for (const id of chosen) {
      await tabTo(page, `#segment-${id}`);
      await page.keyboard.press('Space');
    }
    const picker = page.getByLabel('Attribute to add');
    await expect
      .poll(async () => (await picker.locator('option').allInnerTexts()).slice(1).sort())
      .toEqual([...carriers].map(([a, n]) => `${a} (in ${n} of 2 selected segments)`).sort());
    await expectAccessible(page);

    // first_name fills the empty standard field it names; seats and partner_tier become custom fields.
    for (const attribute of ['first_name', 'seats', 'partner_tier']) {
      await tabTo(page, '#add-attribute');
      // Type-ahead, as a keyboard user picks from a select.
      await page.keyboard.type(attribute);
      expect(await picker.inputValue()).toBe(attribute);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Add field');
      await page.keyboard.press('Enter');
      if (attribute === 'seats') {
        // Focus lands on the new field's type, the one thing left to decide.
        await expect
          .poll(() => page.evaluate('document.activeElement?.id'))
          .toBe('dataMatching-custom-0-type');
        await page.keyboard.type('integer');
        expect(await page.locator('#dataMatching-custom-0-type').inputValue()).toBe('integer');
      }
    }
    expect(await page.getByLabel('First name (optional)').inputValue()).toBe('first_name');
    await page
      .getByRole('status')
      .getByText('Added custom field 2, "Partner tier", from partner_tier: choose its type.')
      .waitFor();
    // Mapped attributes are no longer offered.
    const left = await picker.locator('option').allInnerTexts();
    for (const attribute of ['first_name', 'seats', 'partner_tier'])
      expect(left.some((t) => t.startsWith(`${attribute} (`))).toBe(false);
    // An attribute missing from the sample is still typed by hand.
    await tabTo(page, '#add-custom-field');
    await page.keyboard.press('Enter');
    await tabTo(page, '#dataMatching-custom-2-name');
    await page.keyboard.type('Region');
    await tabTo(page, '#dataMatching-custom-2-source');
    await page.keyboard.type('region');
    await expectAccessible(page);
    await tabTo(page, 'button[type="submit"]');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { level: 1, name }).waitFor();
    const saved = await harness.request<{
      dataMatching: { fields: Record<string, string>; custom: unknown[] };
    }>('dev-contributor', 'GET', `/exports/${idFromHash(page, '#/exports/')}`);
    expect(saved.dataMatching.fields).toEqual({ FirstName: 'first_name' });
    expect(saved.dataMatching.custom).toEqual([
      { name: 'Seats', type: 'integer', source: 'seats' },
      { name: 'Partner tier', type: 'string', source: 'partner_tier' },
      { name: 'Region', type: 'string', source: 'region' },
    ]);
    editor.expectNoErrors();
    await editor.context.close();
  });
});
