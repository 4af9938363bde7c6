/**
 * The headers every console file is served with, locally (local/console-assets.ts) and in the cloud
 * (CloudFront's response headers policy, cdk/constructs/console-site.ts): one definition, so a
 * console that works under `npm run serve` works behind CloudFront. No inline script or style, no
 * framing, no content-type guessing, no referrer.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** An origin longer than this is not an origin; checked before the character test below. */
const MAX_SOURCE_LENGTH = 300;

/**
 * {@link CONTENT_SECURITY_POLICY} that also lets the console fetch from `connectSrc` (an OIDC
 * issuer's discovery and token endpoints live on another origin). `'self'` stays first: a
 * connect-src replaces default-src for fetches, and the API is same-origin. A source holding a
 * space, `;` or `,` would add or end directives, so it is refused.
 */
export const contentSecurityPolicy = (options: { connectSrc?: readonly string[] } = {}): string => {
  const extra = options.connectSrc ?? [];
  if (extra.length === 0) return CONTENT_SECURITY_POLICY;
  for (const source of extra) {
    if (source.length === 0 || source.length > MAX_SOURCE_LENGTH || /[\s;,'"]/.test(source)) {
      throw new Error(
        `connect-src source ${JSON.stringify(source.slice(0, 80))} must be one origin (1-${MAX_SOURCE_LENGTH} characters, no spaces, quotes, ';' or ',')`,
      );
    }
  }
  return `${CONTENT_SECURITY_POLICY}; connect-src 'self' ${[...new Set(extra)].join(' ')}`;
};
