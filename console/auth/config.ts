import { readJsonObject } from './bounded.ts';
import { SignInError } from './errors.ts';

/** How this console signs users in: what `/console/config.json` says (the cloud deploys it). */
export type AuthConfig = { kind: 'local' } | OidcConfig;

export interface OidcConfig {
  kind: 'oidc';
  issuer: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
}

const MAX_TEXT = 2_000;

/** An http(s) URL; plain http only on loopback, where the local stand-ins run. */
export const httpsUrl = (value: unknown, field: string): URL => {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new SignInError('config', `${field} must be a URL of at most ${MAX_TEXT} characters`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SignInError('config', `${field} is not a URL`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new SignInError('config', `${field} must use https (http only on loopback)`);
  }
  return url;
};

const text = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT) {
    throw new SignInError('config', `${field} must be non-empty text of at most ${MAX_TEXT} characters`);
  }
  return value;
};

/** Validates the config document; a wrong field is named with the reason. */
export const parseAuthConfig = (document: Record<string, unknown>): AuthConfig => {
  const auth = document.auth;
  if (typeof auth !== 'object' || auth === null) throw new SignInError('config', 'auth must be an object');
  const a = auth as Record<string, unknown>;
  if (a.kind === 'local') return { kind: 'local' };
  if (a.kind !== 'oidc') throw new SignInError('config', 'auth.kind must be "local" or "oidc"');
  const scopes = a.scopes ?? ['openid'];
  if (!Array.isArray(scopes) || scopes.length > 20 || !scopes.every((s) => typeof s === 'string')) {
    throw new SignInError('config', 'auth.scopes must be a list of at most 20 scope names');
  }
  if (!scopes.includes('openid')) throw new SignInError('config', 'auth.scopes must include "openid"');
  // Kept as written: discovery's `issuer` must equal it as text, trailing slash and all.
  const issuer = text(a.issuer, 'auth.issuer');
  httpsUrl(issuer, 'auth.issuer');
  return {
    kind: 'oidc',
    issuer,
    clientId: text(a.clientId, 'auth.clientId'),
    redirectUri: httpsUrl(a.redirectUri, 'auth.redirectUri').href,
    scopes: scopes.map((s, i) => text(s, `auth.scopes[${i}]`)),
  };
};

/** Fetches and validates `/console/config.json` from the console's own origin. */
export const loadAuthConfig = async (fetcher: typeof fetch = fetch): Promise<AuthConfig> => {
  let response: Response;
  try {
    response = await fetcher('/console/config.json', { headers: { accept: 'application/json' } });
  } catch {
    throw new SignInError('config', 'not reachable');
  }
  if (!response.ok) throw new SignInError('config', `answered ${response.status}`);
  return parseAuthConfig(await readJsonObject(response, 'config'));
};
