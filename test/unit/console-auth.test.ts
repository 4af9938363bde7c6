import { describe, expect, it } from 'vitest';
import { parseAuthConfig } from '../../console/auth/config.ts';
import { type Discovery, discover, parseDiscovery } from '../../console/auth/discovery.ts';
import { SignInError } from '../../console/auth/errors.ts';
import {
  beginSignIn,
  completeSignIn,
  isCallback,
  logoutUrl,
  PENDING_KEY,
  tokensOf,
} from '../../console/auth/flow.ts';
import { randomValue, s256Challenge } from '../../console/auth/pkce.ts';

const ISSUER = 'https://idp.example.com';
const CONFIG = {
  kind: 'oidc' as const,
  issuer: ISSUER,
  clientId: 'console',
  redirectUri: 'https://console.example.com/',
  scopes: ['openid', 'email'],
};
const DISCOVERY: Discovery = {
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
  logout: { kind: 'end-session', url: `${ISSUER}/logout` },
};

/** sessionStorage as the flow uses it, with its contents visible to the test. */
const memoryStore = () => {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
};

interface Sent {
  url: string;
  init: RequestInit | undefined;
}
const fakeFetch = (status: number, body: unknown, sent: Sent[] = []): typeof fetch =>
  (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as typeof fetch;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const idToken = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln`;

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignInError);
  return error as SignInError;
};

/** Starts a sign-in and returns the pending values it stored and the authorization URL. */
const started = async () => {
  const store = memoryStore();
  const url = new URL(await beginSignIn(CONFIG, DISCOVERY, store));
  const pending = JSON.parse(store.items.get(PENDING_KEY) ?? '{}') as Record<string, string>;
  return { store, url, pending };
};

describe('PKCE (RFC 7636)', () => {
  it('derives the S256 challenge of appendix B from its verifier', async () => {
    expect(await s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('encodes 32 random octets as appendix B does: the verifier is their base64url', () => {
    const octets = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
      191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const fromRfc = (bytes: Uint8Array) => {
      bytes.set(octets);
      return bytes;
    };
    expect(randomValue(fromRfc)).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  });

  it('refuses a verifier shorter than 43 characters or with characters outside the unreserved set', async () => {
    await expect(s256Challenge('short')).rejects.toThrow(/code_verifier must be 43-128/);
    await expect(s256Challenge(`${'a'.repeat(42)} `)).rejects.toThrow(/code_verifier/);
  });
});

describe('starting a sign-in', () => {
  it('asks for a code with the S256 challenge of the verifier it keeps, a state and a nonce', async () => {
    const { url, pending } = await started();
    expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`);
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('console');
    expect(q.get('redirect_uri')).toBe('https://console.example.com/');
    expect(q.get('scope')).toBe('openid email');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toBe(await s256Challenge(pending.verifier ?? ''));
    expect(q.get('state')).toBe(pending.state);
    expect(q.get('nonce')).toBe(pending.nonce);
    expect(q.has('code_verifier')).toBe(false);
  });

  it('uses fresh values every time', async () => {
    const [a, b] = await Promise.all([started(), started()]);
    expect(a.pending.state).not.toBe(b.pending.state);
    expect(a.pending.verifier).not.toBe(b.pending.verifier);
    expect(a.pending.state).toHaveLength(43);
  });
});

describe('finishing a sign-in', () => {
  const goodTokens = (nonce: string | undefined) => ({
    access_token: 'access.jwt.token',
    token_type: 'Bearer',
    expires_in: 3600,
    id_token: idToken({ iss: ISSUER, aud: 'console', nonce }),
  });

  it('exchanges the code with the kept verifier as a public client, then forgets the round trip', async () => {
    const { store, pending } = await started();
    const sent: Sent[] = [];
    const tokens = await completeSignIn(
      CONFIG,
      DISCOVERY,
      store,
      `?code=the-code&state=${pending.state}`,
      fakeFetch(200, goodTokens(pending.nonce), sent),
    );
    expect(tokens.accessToken).toBe('access.jwt.token');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(`${ISSUER}/token`);
    expect(sent[0]?.init?.method).toBe('POST');
    const form = new URLSearchParams(String(sent[0]?.init?.body));
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://console.example.com/',
      client_id: 'console',
      code_verifier: pending.verifier,
    });
    // Nothing of the round trip and no token is left in storage.
    expect(store.items.size).toBe(0);
  });

  it('refuses an answer whose state is not the one it sent, without calling the token endpoint', async () => {
    const { store } = await started();
    const sent: Sent[] = [];
    const error = await failureOf(
      completeSignIn(CONFIG, DISCOVERY, store, '?code=c&state=forged', fakeFetch(200, {}, sent)),
    );
    expect(error.failure).toBe('state-mismatch');
    expect(error.message).toMatch(/state mismatch/);
    expect(sent).toHaveLength(0);
    expect(store.items.size).toBe(0);
  });

  it('refuses an answer when this tab started no sign-in (a replayed or foreign callback)', async () => {
    const error = await failureOf(completeSignIn(CONFIG, DISCOVERY, memoryStore(), '?code=c&state=s'));
    expect(error.failure).toBe('state-mismatch');
  });

  it('says the user refused when the provider answers access_denied', async () => {
    const { store, pending } = await started();
    const error = await failureOf(
      completeSignIn(CONFIG, DISCOVERY, store, `?error=access_denied&state=${pending.state}`),
    );
    expect(error.failure).toBe('denied');
    expect(error.message).toMatch(/cancelled or refused/);
  });

  it('says the token exchange failed, with the provider`s error code, when /token refuses the code', async () => {
    const { store, pending } = await started();
    const error = await failureOf(
      completeSignIn(
        CONFIG,
        DISCOVERY,
        store,
        `?code=c&state=${pending.state}`,
        fakeFetch(400, { error: 'invalid_grant' }),
      ),
    );
    expect(error.failure).toBe('token-exchange');
    expect(error.message).toMatch(/token exchange failed.*invalid_grant/);
  });

  it('says the issuer is unreachable when the token endpoint does not answer', async () => {
    const { store, pending } = await started();
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const error = await failureOf(
      completeSignIn(CONFIG, DISCOVERY, store, `?code=c&state=${pending.state}`, offline),
    );
    expect(error.failure).toBe('issuer-unreachable');
  });

  it('refuses a token answer larger than 64 KB without parsing it', async () => {
    const { store, pending } = await started();
    const huge = JSON.stringify({ access_token: 'x'.repeat(70_000), token_type: 'Bearer' });
    const error = await failureOf(
      completeSignIn(CONFIG, DISCOVERY, store, `?code=c&state=${pending.state}`, fakeFetch(200, huge)),
    );
    expect(error.reason).toMatch(/larger than 65536 bytes/);
  });
});

describe('the token answer', () => {
  it('needs a bearer access token', () => {
    expect(() => tokensOf({ token_type: 'Bearer' }, CONFIG, 'n')).toThrow(/no usable access_token/);
    expect(() => tokensOf({ access_token: 'a', token_type: 'mac' }, CONFIG, 'n')).toThrow(/not Bearer/);
    expect(tokensOf({ access_token: 'a', token_type: 'bearer' }, CONFIG, 'n').accessToken).toBe('a');
  });

  it('refuses an ID token minted for another sign-in, client or issuer', () => {
    const answer = (claims: Record<string, unknown>) => ({
      access_token: 'a',
      token_type: 'Bearer',
      id_token: idToken(claims),
    });
    const good = { iss: ISSUER, aud: 'console', nonce: 'n' };
    expect(tokensOf(answer(good), CONFIG, 'n').idToken).toBeDefined();
    for (const bad of [
      { ...good, nonce: 'other' },
      { ...good, aud: 'another-client' },
      { ...good, iss: 'https://evil.example' },
    ]) {
      expect(() => tokensOf(answer(bad), CONFIG, 'n'), JSON.stringify(bad)).toThrow(/not for this sign-in/);
    }
  });
});

describe('discovery', () => {
  const doc = {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
  };

  it('names the field that is missing or unusable', () => {
    expect(() => parseDiscovery(ISSUER, { ...doc, issuer: 'https://other.example' })).toThrow(
      /issuer is not https:\/\/idp.example.com/,
    );
    expect(() => parseDiscovery(ISSUER, { ...doc, token_endpoint: undefined })).toThrow(/token_endpoint/);
    expect(() =>
      parseDiscovery(ISSUER, { ...doc, authorization_endpoint: 'http://idp.example.com/a' }),
    ).toThrow(/authorization_endpoint must use https/);
    expect(() => parseDiscovery(ISSUER, { ...doc, code_challenge_methods_supported: ['plain'] })).toThrow(
      /lacks S256/,
    );
  });

  it('signs out at end_session_endpoint, returning to the console', () => {
    const d = parseDiscovery(ISSUER, { ...doc, end_session_endpoint: `${ISSUER}/end` });
    const url = new URL(logoutUrl(CONFIG, d) ?? '');
    expect(url.origin + url.pathname).toBe(`${ISSUER}/end`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'console',
      post_logout_redirect_uri: 'https://console.example.com/',
    });
  });

  it('signs out at the Cognito domain`s /logout when a Cognito issuer has no end_session_endpoint', () => {
    const cognito = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
    const d = parseDiscovery(cognito, {
      issuer: cognito,
      authorization_endpoint: 'https://my-app.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
      token_endpoint: 'https://my-app.auth.eu-west-1.amazoncognito.com/oauth2/token',
    });
    const url = new URL(logoutUrl({ ...CONFIG, issuer: cognito }, d) ?? '');
    expect(url.origin + url.pathname).toBe('https://my-app.auth.eu-west-1.amazoncognito.com/logout');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'console',
      logout_uri: 'https://console.example.com/',
    });
  });

  it('only forgets the tokens when another issuer offers no sign-out', () => {
    expect(logoutUrl(CONFIG, parseDiscovery(ISSUER, doc))).toBeUndefined();
  });

  it('fetches the well-known document of the issuer and says so when it cannot be reached', async () => {
    const sent: Sent[] = [];
    expect((await discover(ISSUER, fakeFetch(200, doc, sent))).tokenEndpoint).toBe(`${ISSUER}/token`);
    expect(sent[0]?.url).toBe(`${ISSUER}/.well-known/openid-configuration`);
    expect((await failureOf(discover(ISSUER, fakeFetch(503, 'down')))).failure).toBe('issuer-unreachable');
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect((await failureOf(discover(ISSUER, offline))).message).toMatch(
      /could not reach the identity provider/,
    );
  });

  it('refuses a discovery document larger than 64 KB', async () => {
    const big = JSON.stringify({ ...doc, padding: 'x'.repeat(70_000) });
    expect((await failureOf(discover(ISSUER, fakeFetch(200, big)))).reason).toMatch(/larger than/);
  });
});

describe('the console`s sign-in settings', () => {
  it('reads the local kind and a complete oidc config', () => {
    expect(parseAuthConfig({ auth: { kind: 'local' } })).toEqual({ kind: 'local' });
    expect(parseAuthConfig({ auth: CONFIG })).toEqual(CONFIG);
  });

  it('names the field that is wrong', () => {
    expect(() => parseAuthConfig({ auth: { ...CONFIG, clientId: '' } })).toThrow(/auth.clientId must be/);
    expect(() => parseAuthConfig({ auth: { ...CONFIG, issuer: 'http://idp.example.com' } })).toThrow(
      /auth.issuer must use https/,
    );
    expect(() => parseAuthConfig({ auth: { ...CONFIG, scopes: ['email'] } })).toThrow(/include "openid"/);
    expect(() => parseAuthConfig({ auth: { kind: 'saml' } })).toThrow(/auth.kind must be/);
  });

  it('takes only an authorization answer with a state for a callback', () => {
    expect(isCallback('?code=c&state=s')).toBe(true);
    expect(isCallback('?error=access_denied&state=s')).toBe(true);
    expect(isCallback('?code=c')).toBe(false);
    expect(isCallback('')).toBe(false);
  });
});
