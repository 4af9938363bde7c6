import { readJsonObject } from './bounded.ts';
import { httpsUrl } from './config.ts';
import { SignInError } from './errors.ts';

/** What the console uses of an issuer's OpenID Provider metadata. */
export interface Discovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Where sign-out goes: RP-initiated logout, or Cognito's own `/logout` (see {@link logoutUrl}). */
  logout: { kind: 'end-session'; url: string } | { kind: 'cognito'; url: string } | { kind: 'none' };
}

/** Cognito user pools: the issuer is the pool; sign-in and sign-out live on the pool's domain. */
const COGNITO_ISSUER = /^https:\/\/cognito-idp\.[a-z0-9-]{1,40}\.amazonaws\.com\/[\w-]{1,60}$/;

const endpoint = (document: Record<string, unknown>, field: string): string => {
  try {
    return httpsUrl(document[field], field).href;
  } catch (e) {
    throw new SignInError('discovery', e instanceof SignInError ? e.reason : field);
  }
};

/** Validates a discovery document against the issuer the console was configured with. */
export const parseDiscovery = (issuer: string, document: Record<string, unknown>): Discovery => {
  // OIDC Discovery §4.3: the document must name the very issuer it was fetched for.
  if (document.issuer !== issuer) throw new SignInError('discovery', `issuer is not ${issuer}`);
  const authorizationEndpoint = endpoint(document, 'authorization_endpoint');
  const tokenEndpoint = endpoint(document, 'token_endpoint');
  const methods = document.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new SignInError('discovery', 'code_challenge_methods_supported lacks S256');
  }
  const logout: Discovery['logout'] =
    document.end_session_endpoint !== undefined
      ? { kind: 'end-session', url: endpoint(document, 'end_session_endpoint') }
      : issuer.length <= 200 && COGNITO_ISSUER.test(issuer)
        ? { kind: 'cognito', url: new URL('/logout', authorizationEndpoint).href }
        : { kind: 'none' };
  return { issuer, authorizationEndpoint, tokenEndpoint, logout };
};

/** Fetches `<issuer>/.well-known/openid-configuration` (bounded) and validates what is used. */
export const discover = async (issuer: string, fetcher: typeof fetch = fetch): Promise<Discovery> => {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetcher(url, { headers: { accept: 'application/json' } });
  } catch {
    throw new SignInError('issuer-unreachable', `${url} did not answer`);
  }
  if (!response.ok) throw new SignInError('issuer-unreachable', `${url} answered ${response.status}`);
  return parseDiscovery(issuer, await readJsonObject(response, 'discovery'));
};
