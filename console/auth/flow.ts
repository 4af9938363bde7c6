import { readJsonObject } from './bounded.ts';
import type { OidcConfig } from './config.ts';
import type { Discovery } from './discovery.ts';
import { SignInError } from './errors.ts';
import { randomValue, s256Challenge } from './pkce.ts';

/** What lives in sessionStorage for the redirect round trip only: never a token. */
interface Pending {
  state: string;
  nonce: string;
  verifier: string;
}

export const PENDING_KEY = 'autopilot-export.sign-in';

/** Tokens, held in memory by the caller only. The access token is the API's bearer token. */
export interface Tokens {
  accessToken: string;
  idToken: string | undefined;
}

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Starts authorization code + PKCE (S256): keeps state, nonce and verifier for the round trip and
 * returns the authorization URL to go to.
 */
export const beginSignIn = async (
  config: OidcConfig,
  discovery: Discovery,
  store: Store,
  random?: (bytes: Uint8Array) => Uint8Array,
): Promise<string> => {
  const pending: Pending = {
    state: randomValue(random),
    nonce: randomValue(random),
    verifier: randomValue(random),
  };
  store.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(discovery.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scopes.join(' '),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await s256Challenge(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  return url.href;
};

/** Whether the URL's query is an authorization response (a code or an error) for the console. */
export const isCallback = (search: string): boolean => {
  const q = new URLSearchParams(search.slice(0, 8_192));
  return q.has('state') && (q.has('code') || q.has('error'));
};

/** Takes the pending sign-in out of storage: it serves one answer only, good or bad. */
const takePending = (store: Store): Pending | undefined => {
  const raw = store.getItem(PENDING_KEY);
  store.removeItem(PENDING_KEY);
  if (raw === null || raw.length > 1_000) return undefined;
  try {
    const p = JSON.parse(raw) as Partial<Pending>;
    return typeof p.state === 'string' && typeof p.nonce === 'string' && typeof p.verifier === 'string'
      ? { state: p.state, nonce: p.nonce, verifier: p.verifier }
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Finishes the round trip: checks the state, exchanges the code at the token endpoint (public
 * client: the verifier proves it is the same client, no secret) and returns the tokens.
 */
export const completeSignIn = async (
  config: OidcConfig,
  discovery: Discovery,
  store: Store,
  search: string,
  fetcher: typeof fetch = fetch,
): Promise<Tokens> => {
  const pending = takePending(store);
  const q = new URLSearchParams(search.slice(0, 8_192));
  if (pending === undefined || q.get('state') !== pending.state) throw new SignInError('state-mismatch');
  const error = q.get('error');
  if (error !== null) {
    throw new SignInError(error === 'access_denied' ? 'denied' : 'provider-error', error.slice(0, 100));
  }
  const code = q.get('code');
  if (code === null || code === '') throw new SignInError('provider-error', 'no code');
  let response: Response;
  try {
    response = await fetcher(discovery.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: config.redirectUri,
        client_id: config.clientId,
        code_verifier: pending.verifier,
      }).toString(),
    });
  } catch {
    throw new SignInError('issuer-unreachable', 'the token endpoint did not answer');
  }
  const body = await readJsonObject(response, 'token-exchange');
  if (!response.ok) {
    const reason = typeof body.error === 'string' ? body.error.slice(0, 100) : `status ${response.status}`;
    throw new SignInError('token-exchange', reason);
  }
  return tokensOf(body, config, pending.nonce);
};

const MAX_TOKEN_CHARS = 8_192;

/** Checks a token response: a bearer access token and, when present, an ID token for this sign-in. */
export const tokensOf = (body: Record<string, unknown>, config: OidcConfig, nonce: string): Tokens => {
  const access = body.access_token;
  if (typeof access !== 'string' || access === '' || access.length > MAX_TOKEN_CHARS) {
    throw new SignInError('token-exchange', 'no usable access_token');
  }
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new SignInError('token-exchange', 'token_type is not Bearer');
  }
  const id = body.id_token;
  if (id === undefined) return { accessToken: access, idToken: undefined };
  if (typeof id !== 'string' || id.length > MAX_TOKEN_CHARS)
    throw new SignInError('token-exchange', 'bad id_token');
  // The ID token came straight from the token endpoint over TLS (OIDC Core 3.1.3.7): its claims
  // are checked here; the API verifies the access token's signature itself.
  const claims = payloadOf(id);
  const audience = Array.isArray(claims?.aud) ? claims.aud : [claims?.aud];
  if (claims?.iss !== config.issuer || !audience.includes(config.clientId) || claims?.nonce !== nonce) {
    throw new SignInError('token-exchange', 'the ID token is not for this sign-in');
  }
  return { accessToken: access, idToken: id };
};

const payloadOf = (jwt: string): Record<string, unknown> | undefined => {
  const part = jwt.split('.')[1];
  if (part === undefined) return undefined;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const value: unknown = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))),
    );
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Where sign-out goes once the tokens are forgotten: the issuer's end_session_endpoint, Cognito's
 * `/logout` (its parameter is `logout_uri`), or nowhere when the issuer offers neither.
 */
export const logoutUrl = (config: OidcConfig, discovery: Discovery): string | undefined => {
  if (discovery.logout.kind === 'none') return undefined;
  const url = new URL(discovery.logout.url);
  // No id_token_hint: a token in a URL would land in the provider's logs and the history.
  url.search = new URLSearchParams(
    discovery.logout.kind === 'cognito'
      ? { client_id: config.clientId, logout_uri: config.redirectUri }
      : { client_id: config.clientId, post_logout_redirect_uri: config.redirectUri },
  ).toString();
  return url.href;
};
