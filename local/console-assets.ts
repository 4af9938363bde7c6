import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Headers every console file is sent with; the cloud sends the same, so a console that works here
 * works there: no inline script or style, no framing, no content-type guessing.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

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
): Promise<ConsoleAssetResponse | undefined> => {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const pathname = new URL(url, 'http://localhost').pathname;
  // Browsers ask for it on every page; the console has none, and the API would answer 401.
  if (pathname === '/favicon.ico') return { status: 204, headers: { ...CONSOLE_SECURITY_HEADERS }, body: '' };
  const asset = ASSETS[pathname];
  if (asset === undefined) {
    if (!pathname.startsWith('/console/')) return undefined;
    return text(404, 'No such console file.');
  }
  let body: string;
  try {
    body = await readFile(join(dir, asset.file), 'utf8');
  } catch {
    return text(
      503,
      'The console is not built: run `npm run console:build`, or start it with `npm run serve`.',
    );
  }
  return {
    status: 200,
    headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache' },
    body: method === 'HEAD' ? '' : body,
  };
};

const text = (status: number, body: string): ConsoleAssetResponse => ({
  status,
  headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' },
  body,
});
