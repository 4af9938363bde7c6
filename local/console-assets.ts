import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The cloud sends the same headers (CloudFront), so a console that works here works there.
import { CONSOLE_SECURITY_HEADERS, contentSecurityPolicy } from '../console/security-headers.ts';

/**
 * How the console signs in, as `/console/config.json` tells it: the dev users (`local`), or an OIDC
 * issuer such as the local stand-in (local/oidc-standin.ts). `redirectUri` defaults to the server.
 */
export type ConsoleAuth =
  | { kind: 'local' }
  | { kind: 'oidc'; issuer: string; clientId: string; redirectUri?: string; scopes?: string[] };

export interface ConsoleAssetOptions {
  auth?: ConsoleAuth | undefined;
  /** The server's own origin, e.g. `http://127.0.0.1:8787`: the default redirect URI. */
  origin?: string;
}

/**
 * The security headers, with the issuer's origin allowed for fetches (discovery and the token
 * endpoint) only when the console signs in with OIDC.
 */
const headersFor = (auth: ConsoleAuth | undefined): Record<string, string> =>
  auth?.kind === 'oidc'
    ? {
        ...CONSOLE_SECURITY_HEADERS,
        'content-security-policy': contentSecurityPolicy({ connectSrc: [new URL(auth.issuer).origin] }),
      }
    : { ...CONSOLE_SECURITY_HEADERS };

const configDocument = (auth: ConsoleAuth | undefined, origin: string | undefined): string =>
  JSON.stringify({
    auth:
      auth?.kind === 'oidc'
        ? {
            kind: 'oidc',
            issuer: auth.issuer,
            clientId: auth.clientId,
            redirectUri: auth.redirectUri ?? `${origin ?? 'http://127.0.0.1'}/`,
            scopes: auth.scopes ?? ['openid', 'email', 'profile'],
          }
        : { kind: 'local' },
  });

/** The built console's files by URL path: nothing else under the folder is ever served. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

export interface ConsoleAssetResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The console file a request asks for, from `dir` (what scripts/build-console.ts wrote), or
 * undefined when the request is not for the console (the API answers it).
 */
export const consoleAsset = async (
  dir: string,
  method: string,
  url: string,
  options: ConsoleAssetOptions = {},
): Promise<ConsoleAssetResponse | undefined> => {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const pathname = new URL(url, 'http://localhost').pathname;
  const headers = headersFor(options.auth);
  // Browsers ask for it on every page; the console has none, and the API would answer 401.
  if (pathname === '/favicon.ico') return { status: 204, headers, body: '' };
  if (pathname === '/console/config.json') {
    const body = configDocument(options.auth, options.origin);
    return {
      status: 200,
      headers: { ...headers, 'content-type': 'application/json', 'cache-control': 'no-cache' },
      body: method === 'HEAD' ? '' : body,
    };
  }
  const asset = ASSETS[pathname];
  if (asset === undefined) {
    if (!pathname.startsWith('/console/')) return undefined;
    return text(headers, 404, 'No such console file.');
  }
  let body: string;
  try {
    body = await readFile(join(dir, asset.file), 'utf8');
  } catch {
    return text(
      headers,
      503,
      'The console is not built: run `npm run console:build`, or start it with `npm run serve`.',
    );
  }
  return {
    status: 200,
    headers: { ...headers, 'content-type': asset.type, 'cache-control': 'no-cache' },
    body: method === 'HEAD' ? '' : body,
  };
};

const text = (headers: Record<string, string>, status: number, body: string): ConsoleAssetResponse => ({
  status,
  headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
  body,
});
