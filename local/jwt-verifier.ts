import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * An OIDC issuer whose access tokens the local API accepts, as API Gateway's JWT authorizer does in
 * AWS: RS256 signature by the issuer's key, issuer, expiry and (when set) the client id.
 */
export interface JwtIssuer {
  issuer: string;
  /** The issuer's RSA public key (a KeyObject or PEM). */
  publicKey: KeyObject | string;
  /** Tokens must name this client (`client_id`, as Cognito access tokens do, or `aud`). */
  clientId?: string;
  /** Seconds since the epoch; tests move it to expire a token without waiting. */
  nowSeconds?: () => number;
}

/** API Gateway takes at most 10 KiB of headers; a longer token is refused before it is parsed. */
const MAX_TOKEN_CHARS = 10_240;

const part = (text: string | undefined): Record<string, unknown> | undefined => {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The claims API Gateway passes on for a valid token (array claims flattened into a bracketed
 * string, as it does), or undefined for any token it would answer 401 to.
 */
export const verifiedClaims = (token: string, issuer: JwtIssuer): Record<string, string> | undefined => {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const [head, body, signature, ...rest] = token.split('.');
  if (head === undefined || body === undefined || signature === undefined || rest.length > 0)
    return undefined;
  // RS256 only: "none" or an HMAC keyed with the public key would let anyone mint tokens.
  if (part(head)?.alg !== 'RS256') return undefined;
  const key = typeof issuer.publicKey === 'string' ? createPublicKey(issuer.publicKey) : issuer.publicKey;
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${head}.${body}`),
    key,
    Buffer.from(signature, 'base64url'),
  );
  const claims = signed ? part(body) : undefined;
  if (claims === undefined || claims.iss !== issuer.issuer || typeof claims.sub !== 'string')
    return undefined;
  const now = issuer.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) return undefined;
  if (issuer.clientId !== undefined) {
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.client_id !== issuer.clientId && !audience.includes(issuer.clientId)) return undefined;
  }
  const flattened: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === 'string') flattened[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') flattened[name] = String(value);
    else if (Array.isArray(value)) flattened[name] = `[${value.join(' ')}]`;
  }
  return flattened;
};
