import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '#functions/api/handler.ts';
import { startLocalApiServer } from '#local/api-gateway.ts';
import { consoleAsset } from '#local/console-assets.ts';
import { verifiedClaims } from '#local/jwt-verifier.ts';
import { type OidcStandin, startOidcStandin } from '#local/oidc-standin.ts';
import type { LocalRuntime } from '#local/runtime.ts';
import { ApiHarness } from '#test/support/api-harness.ts';

let standin: OidcStandin;
let server: Server;
let api: string;
let now = Math.floor(Date.now() / 1000);
const REDIRECT = 'https://console.test/';

beforeAll(async () => {
  standin = await startOidcStandin();
  standin.redirectUris.add(REDIRECT);
  const runtime = {
    handlers: { api: createApiHandler(new ApiHarness().apiDeps) },
  } as unknown as LocalRuntime;
  server = await startLocalApiServer(runtime, 0, {
    jwtIssuer: {
      issuer: standin.issuer,
      publicKey: standin.publicKey,
      clientId: standin.clientId,
      nowSeconds: () => now,
    },
  });
  const address = server.address();
  api = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await standin?.close();
});

const verifier = () => randomBytes(32).toString('base64url');
const challengeOf = (v: string) => createHash('sha256').update(v).digest('base64url');

/** /authorize as a browser would follow it: the redirect's code and state. */
const authorize = async (params: Record<string, string>) => {
  const url = new URL('/authorize', standin.issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: standin.clientId,
    redirect_uri: REDIRECT,
    state: 'st',
    nonce: 'nn',
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, back: new URL(res.headers.get('location') ?? 'about:blank') };
};

const exchange = async (form: Record<string, string>) => {
  const res = await fetch(`${standin.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: standin.clientId,
      redirect_uri: REDIRECT,
      ...form,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

const me = (token: string) => fetch(`${api}/me`, { headers: { authorization: `Bearer ${token}` } });

describe('the OIDC stand-in and the local API', () => {
  it('signs a dev user in by code + PKCE and the local API takes its access token as that user', async () => {
    standin.next = { user: 'dev-contributor' };
    const v = verifier();
    const { back } = await authorize({ code_challenge: challengeOf(v) });
    expect(back.origin + back.pathname).toBe('https://console.test/');
    expect(back.searchParams.get('state')).toBe('st');
    const tokens = await exchange({ code: back.searchParams.get('code') ?? '', code_verifier: v });
    expect(tokens.status).toBe(200);
    expect(tokens.body.token_type).toBe('Bearer');
    const res = await me(tokens.body.access_token ?? '');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: 'dev-contributor',
      role: 'contributor',
      name: 'contributor@example.local',
    });
  });

  it('refuses the code for a wrong verifier, another redirect URI or a second use', async () => {
    const v = verifier();
    const code = async () =>
      (await authorize({ code_challenge: challengeOf(v) })).back.searchParams.get('code') ?? '';
    expect((await exchange({ code: await code(), code_verifier: verifier() })).body.error).toBe(
      'invalid_grant',
    );
    expect(
      (await exchange({ code: await code(), code_verifier: v, redirect_uri: 'https://other.test/' })).status,
    ).toBe(400);
    const once = await code();
    expect((await exchange({ code: once, code_verifier: v })).status).toBe(200);
    expect((await exchange({ code: once, code_verifier: v })).status).toBe(400);
  });

  it('never redirects to an unregistered URI', async () => {
    const res = await authorize({
      code_challenge: challengeOf(verifier()),
      redirect_uri: 'https://evil.test/',
    });
    expect(res.status).toBe(400);
  });

  it('answers access_denied with the state when the user refuses', async () => {
    standin.next = { error: 'access_denied' };
    const { back } = await authorize({ code_challenge: challengeOf(verifier()) });
    expect(Object.fromEntries(back.searchParams)).toEqual({ error: 'access_denied', state: 'st' });
    standin.next = { user: 'dev-admin' };
  });

  it('answers 401 once the token has expired by the API`s clock', async () => {
    standin.next = { user: 'dev-viewer' };
    const v = verifier();
    const { back } = await authorize({ code_challenge: challengeOf(v) });
    const token = (await exchange({ code: back.searchParams.get('code') ?? '', code_verifier: v })).body
      .access_token;
    expect((await me(token ?? '')).status).toBe(200);
    // From the real clock after the token was issued (its exp is the issue time plus the lifetime):
    // the suite's start time lags behind on a loaded machine and would leave the token valid.
    now = Math.floor(Date.now() / 1000) + standin.tokenLifetimeSeconds;
    expect((await me(token ?? '')).status).toBe(401);
    now = Math.floor(Date.now() / 1000);
  });
});

describe('the local API`s token verification', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuer = {
    issuer: 'https://idp.test',
    publicKey: keys.publicKey,
    clientId: 'c',
    nowSeconds: () => 1_000,
  };
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256' }) => {
    const unsigned = `${b64(header)}.${b64(claims)}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), keys.privateKey).toString('base64url')}`;
  };
  const good = {
    iss: 'https://idp.test',
    sub: 'u1',
    client_id: 'c',
    exp: 2_000,
    'cognito:groups': ['admins'],
  };

  it('passes the claims on as API Gateway does, arrays flattened', () => {
    expect(verifiedClaims(token(good), issuer)).toMatchObject({ sub: 'u1', 'cognito:groups': '[admins]' });
  });

  it('refuses a token that is unsigned, tampered, expired, from another issuer or for another client', () => {
    const [head, , sig] = token(good).split('.');
    const cases: Record<string, string> = {
      'alg none': `${b64({ alg: 'none' })}.${b64(good)}.`,
      tampered: `${head}.${b64({ ...good, sub: 'someone-else' })}.${sig}`,
      expired: token({ ...good, exp: 1_000 }),
      'other issuer': token({ ...good, iss: 'https://evil.test' }),
      'other client': token({ ...good, client_id: 'x' }),
      'no expiry': token({ ...good, exp: undefined }),
      'too long': `${token(good)}${'a'.repeat(11_000)}`,
    };
    for (const [name, t] of Object.entries(cases)) expect(verifiedClaims(t, issuer), name).toBeUndefined();
  });
});

describe('/console/config.json and the CSP on the local server', () => {
  it('says "local" by default and keeps fetches same-origin', async () => {
    const res = await consoleAsset('/nonexistent', 'GET', '/console/config.json');
    expect(JSON.parse(res?.body ?? '')).toEqual({ auth: { kind: 'local' } });
    expect(res?.headers['content-security-policy']).not.toContain('connect-src');
  });

  it('gives an oidc config with the server as redirect URI and lets the console fetch from the issuer', async () => {
    const res = await consoleAsset('/nonexistent', 'GET', '/console/config.json', {
      auth: { kind: 'oidc', issuer: 'http://127.0.0.1:4444', clientId: 'c' },
      origin: 'http://127.0.0.1:8787',
    });
    expect(JSON.parse(res?.body ?? '')).toEqual({
      auth: {
        kind: 'oidc',
        issuer: 'http://127.0.0.1:4444',
        clientId: 'c',
        redirectUri: 'http://127.0.0.1:8787/',
        scopes: ['openid', 'email', 'profile'],
      },
    });
    expect(res?.headers['content-security-policy']).toContain("connect-src 'self' http://127.0.0.1:4444");
    expect(res?.headers['content-security-policy']).toMatch(/^default-src 'self';.*frame-ancestors 'none'/);
  });
});
