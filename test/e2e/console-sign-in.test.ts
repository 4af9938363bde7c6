import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcStandin, startOidcStandin } from '#local/oidc-standin.ts';
import { expectAccessible, watchedPage } from '#test/support/browser.ts';
import { type ConsoleHarness, startConsoleHarness } from '#test/support/console-harness.ts';

/**
 * The console's OIDC sign-in (authorization code + PKCE) in chromium, against the local OIDC
 * stand-in on another loopback origin and the real local API, which verifies the stand-in's tokens.
 */
let browser: Browser;
let standin: OidcStandin;
let base: string;
let harness: ConsoleHarness;
/** The local API's clock (seconds): moved forward to expire a token without waiting. */
let apiNow: number | undefined;

beforeAll(async () => {
  standin = await startOidcStandin();
  harness = await startConsoleHarness({
    server: {
      consoleAuth: { kind: 'oidc', issuer: standin.issuer, clientId: standin.clientId },
      jwtIssuer: {
        issuer: standin.issuer,
        publicKey: standin.publicKey,
        clientId: standin.clientId,
        nowSeconds: () => apiNow ?? Math.floor(Date.now() / 1000),
      },
    },
  });
  ({ browser, base } = harness);
  standin.redirectUris.add(`${base}/`);
});

afterAll(async () => {
  await harness?.close();
  await standin?.close();
});

const signInPage = async (page: Page): Promise<void> => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
};

const signIn = async (page: Page, user: string): Promise<void> => {
  standin.next = { user };
  await signInPage(page);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
};

/** Authorization headers of the API requests the page sends from now on. */
const authorizations = (page: Page): (string | undefined)[] => {
  const seen: (string | undefined)[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === base && !url.pathname.startsWith('/console/') && url.pathname !== '/') {
      seen.push(request.headers().authorization);
    }
  });
  return seen;
};

describe('the console signs in with OIDC (code + PKCE), in chromium', () => {
  it('tells the console to use the issuer and lets it fetch from the issuer`s origin only then', async () => {
    const res = await fetch(`${base}/console/config.json`);
    expect(await res.json()).toEqual({
      auth: {
        kind: 'oidc',
        issuer: standin.issuer,
        clientId: standin.clientId,
        redirectUri: `${base}/`,
        scopes: ['openid', 'email', 'profile'],
      },
    });
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${standin.issuer}`);
  });

  it('offers one Sign in button, goes through the issuer and comes back signed in as that user', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await signInPage(page);
    expect(await page.getByRole('button', { name: /Sign in as/ }).count()).toBe(0);
    await expectAccessible(page);
    const sent = authorizations(page);
    const exchanged = standin.seen.tokens.length;
    await signIn(page, 'dev-contributor');
    const header = page.getByRole('banner');
    // The name and role come from GET /me, which read the stand-in's access token.
    await expect
      .poll(() => header.textContent())
      .toContain('Signed in as contributor@example.local (contributor)');
    expect(standin.seen.tokens.slice(exchanged)).toEqual([{ ok: true }]);
    expect(sent.length).toBeGreaterThan(0);
    for (const authorization of sent) expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    // The code and state are gone from the address bar.
    expect(new URL(page.url()).search).toBe('');
    await expectAccessible(page);
    watched.expectNoErrors();
    await watched.context.close();
  });

  it('keeps no token, verifier or state in localStorage, sessionStorage or cookies once signed in', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await signIn(page, 'dev-admin');
    const stored = (await page.evaluate(
      '({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })',
    )) as { local: number; session: number; cookie: string };
    expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
    expect(await watched.context.cookies([base, standin.issuer])).toEqual([]);
    watched.expectNoErrors();
    await watched.context.close();
  });

  it('refuses an answer with the wrong state, in words, without exchanging the code', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await signInPage(page);
    const exchanged = standin.seen.tokens.length;
    standin.next = { user: 'dev-admin', state: 'forged-state' };
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('state mismatch');
    expect(standin.seen.tokens.length).toBe(exchanged);
    expect(await page.getByRole('banner').textContent()).not.toContain('Signed in as');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await expectAccessible(page);
    watched.expectNoErrors();
    await watched.context.close();
  });

  it('says so in words when the user refuses at the issuer', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    await signInPage(page);
    standin.next = { error: 'access_denied' };
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('cancelled or refused');
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    watched.expectNoErrors();
    await watched.context.close();
  });

  it('signs out at the issuer, then sends no authenticated request and offers sign-in again', async () => {
    const watched = await watchedPage(browser);
    const { page } = watched;
    const sent = authorizations(page);
    await signIn(page, 'dev-admin');
    // The exports page's own requests finish before sign-out, so any request counted after it is the page's.
    const loaded = Promise.all(
      ['/exports', '/segments'].map((path) =>
        page.waitForResponse((r) => new URL(r.url()).pathname === path),
      ),
    );
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
    await loaded;
    const beforeSignOut = sent.length;
    expect(sent.filter((a) => a?.startsWith('Bearer '))).toHaveLength(beforeSignOut);
    const logouts = standin.seen.logouts.length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    expect(standin.seen.logouts.slice(logouts)).toEqual([
      { client_id: standin.clientId, post_logout_redirect_uri: `${base}/` },
    ]);
    await page.goto(`${base}/#/connections`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    expect(await page.getByRole('banner').textContent()).not.toContain('Signed in as');
    expect(sent.slice(beforeSignOut).filter((a) => a !== undefined)).toEqual([]);
    watched.expectNoErrors();
    await watched.context.close();
  });

  it('takes the user back to sign in, saying why, when the API refuses an expired token', async () => {
    const watched = await watchedPage(browser, [401]);
    const { page } = watched;
    await signIn(page, 'dev-viewer');
    apiNow = Math.floor(Date.now() / 1000) + standin.tokenLifetimeSeconds + 1;
    try {
      await page.getByRole('link', { name: 'Exports' }).click();
      await expect
        .poll(() => page.getByRole('alert').first().textContent())
        .toContain('Your sign-in has ended');
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await page.getByRole('banner').textContent()).not.toContain('Signed in as');
    } finally {
      apiNow = undefined;
    }
    watched.expectNoErrors();
    await watched.context.close();
  });
});
