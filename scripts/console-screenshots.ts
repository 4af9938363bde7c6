/**
 * Screenshots of every console page for docs/console/ (shown in the README and docs/console.md),
 * taken in Debian's chromium against the real local runtime with sample data: what a user sees
 * after `npm run serve`.
 *
 *   npx tsx scripts/console-screenshots.ts [--out docs/console]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { startLocalApiServer } from '#local/api-gateway.ts';
import { withMassLeave } from '#local/cli/mass-leave.ts';
import { startLocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, seedDynamoDbSegments, syncDynamoDbSegments } from '#local/sample-data.ts';
import { buildConsole } from './build-console.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/console' } } });
const OUT = resolve(String(values.out));
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const main = async (): Promise<void> => {
  mkdirSync(OUT, { recursive: true });
  const built = mkdtempSync(join(tmpdir(), 'console-shots-'));
  await buildConsole(built);
  const runtime = await startLocalRuntime({ senders: 2, autopilot: { kind: 'standin', ratePerSecond: 200 } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const dataset = generateSampleProfiles({ profiles: 3000, seed: 42 });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const server = await startLocalApiServer(runtime, 0, { consoleDir: built });
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const api = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    const connection = await api<{ id: string }>('dev-admin', 'POST', '/connections', {
      displayName: 'Marketing (Autopilot)',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: '2026-11' },
      sharing: 'admins+contributors',
      ratePerSecond: 200,
    });
    const exp = await api<{ id: string }>('dev-admin', 'POST', '/exports', {
      name: 'Newsletter and VIP',
      connectionId: connection.id,
      segmentIds: ['newsletter', 'vip'],
      dataMatching: { email: 'email', fields: { FirstName: 'first_name', LastName: 'last_name' } },
    });
    await api('dev-admin', 'POST', `/exports/${exp.id}/runs?dryRun=true`);
    const runUntilSettled = async (exportId: string): Promise<string> => {
      const { runId } = await api<{ runId: string }>('dev-admin', 'POST', `/exports/${exportId}/runs`);
      for (;;) {
        const run = await api<{ status: string }>('dev-admin', 'GET', `/runs/${runId}`);
        if (!['planning', 'sending', 'queued'].includes(run.status)) return runId;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const runId = await runUntilSettled(exp.id);
    // A list emptied upstream by mistake: the removal guardrail holds the next run for an admin.
    const vip = await api<{ id: string }>('dev-admin', 'POST', '/exports', {
      name: 'VIP',
      connectionId: connection.id,
      segmentIds: ['vip'],
      dataMatching: { email: 'email' },
      // The first export owns the list "VIP" already.
      listTitles: { vip: 'VIP alerts' },
    });
    await runUntilSettled(vip.id);
    await syncDynamoDbSegments(
      runtime.segmentWriter,
      dataset,
      withMassLeave(dataset, 'vip', Number.POSITIVE_INFINITY).dataset,
    );
    const heldRunId = await runUntilSettled(vip.id);
    // An export whose connection was removed, so the connections page shows what is detached.
    const old = await api<{ id: string }>('dev-admin', 'POST', '/connections', {
      displayName: 'Former agency account',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: '2026-11' },
    });
    await api('dev-admin', 'POST', '/exports', {
      name: 'Spring campaign',
      connectionId: old.id,
      segmentIds: ['active-customers'],
      dataMatching: { email: 'email' },
    });
    await api('dev-admin', 'DELETE', `/connections/${old.id}?detach=true`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const shot = async (
      name: string,
      hash: string,
      heading: RegExp | string,
      prepare?: () => Promise<void>,
    ): Promise<void> => {
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
      await page.getByRole('heading', { level: 1, name: heading }).first().waitFor();
      // Let data-driven sections settle (they load after the heading renders).
      await page.waitForLoadState('networkidle');
      if (prepare !== undefined) {
        await prepare();
        await page.waitForLoadState('networkidle');
      }
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      console.log(`wrote ${join(String(values.out), `${name}.png`)}`);
    };
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.screenshot({ path: join(OUT, 'sign-in.png'), fullPage: true });
    console.log(`wrote ${join(String(values.out), 'sign-in.png')}`);
    await signInAsAdmin(page);
    await shot('connections', '#/connections', 'Connections');
    await shot('connection-new', '#/connections/new', /Add/);
    await shot('connection', `#/connections/${encodeURIComponent(connection.id)}`, /Marketing/);
    await shot('exports', '#/exports', 'Exports');
    // With two segments chosen, so the data-matching picker offers the attributes they carry.
    await shot('export-new', '#/exports/new', /export/i, async () => {
      for (const id of ['newsletter', 'vip']) await page.locator(`#segment-${id}`).check();
      await page
        .getByLabel('Attribute to add')
        .locator('option', { hasText: 'company' })
        .waitFor({ state: 'attached' });
      await page.getByLabel('Attribute to add').selectOption('company');
    });
    await shot('export', `#/exports/${encodeURIComponent(exp.id)}`, /Newsletter and VIP/);
    await shot('run', `#/runs/${encodeURIComponent(runId)}`, /Run/);
    await shot('run-held', `#/runs/${encodeURIComponent(heldRunId)}`, /Run/, async () => {
      await page.getByRole('heading', { name: 'Removals awaiting approval' }).waitFor();
    });
    await shot('run-history', `#/exports/${encodeURIComponent(exp.id)}/runs`, /history|Runs/i);
    server.closeAllConnections();
    server.close();
  } finally {
    await browser.close();
    await runtime.close();
    rmSync(built, { recursive: true, force: true });
  }
};

const signInAsAdmin = async (page: Page): Promise<void> => {
  await page
    .getByRole('button', { name: /Sign in as admin/i })
    .first()
    .click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
