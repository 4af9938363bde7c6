import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DEV_TOKENS } from './api-gateway.ts';

/**
 * A stand-in OIDC provider on loopback for the console's sign-in tests: discovery, an /authorize
 * that answers at once for a chosen dev user (no login page), a /token that checks PKCE, client id
 * and redirect URI like a real provider, RS256 access tokens the local API accepts (its `jwtIssuer`
 * option), and /logout. Public client only: no secret.
 */
export interface OidcStandin {
  issuer: string;
  clientId: string;
  publicKey: KeyObject;
  /** How the next /authorize answers: as this dev user, refused, or with a different state. */
  next: { user: string; state?: string } | { error: string };
  /** Redirect URIs /authorize and /logout accept (the console's, known once its server listens). */
  redirectUris: Set<string>;
  /** Requests seen, for assertions: token exchanges by outcome, logouts by parameters. */
  seen: { tokens: { ok: boolean; reason?: string }[]; logouts: Record<string, string>[] };
  /** Seconds an access token lives. */
  tokenLifetimeSeconds: number;
  close(): Promise<void>;
}

interface Grant {
  user: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string | null;
}

const MAX_BODY = 16 * 1024;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export const startOidcStandin = async (options: { clientId?: string } = {}): Promise<OidcStandin> => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const codes = new Map<string, Grant>();
  const jwt = (claims: Record<string, unknown>): string => {
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'standin' })}.${b64(claims)}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const standin: OidcStandin = {
    issuer,
    clientId: options.clientId ?? 'console-standin',
    publicKey,
    next: { user: 'dev-admin' },
    redirectUris: new Set(),
    seen: { tokens: [], logouts: [] },
    tokenLifetimeSeconds: 3600,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', issuer);
    const q = url.searchParams;
    // The console calls discovery and /token from its own origin, as browsers call Cognito's.
    const cors = { 'access-control-allow-origin': '*' };
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const redirect = (to: URL): void => {
      res.writeHead(302, { location: to.href }).end();
    };
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        end_session_endpoint: `${issuer}/logout`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const redirectUri = q.get('redirect_uri') ?? '';
      // A provider never redirects to an unregistered URI: it would hand the code to anyone.
      if (q.get('client_id') !== standin.clientId || !standin.redirectUris.has(redirectUri)) {
        return json(400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' });
      }
      const back = new URL(redirectUri);
      const state = q.get('state') ?? '';
      const answer = standin.next;
      if ('error' in answer) {
        back.search = new URLSearchParams({ error: answer.error, state }).toString();
        return redirect(back);
      }
      const challenge = q.get('code_challenge');
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !challenge) {
        back.search = new URLSearchParams({ error: 'invalid_request', state }).toString();
        return redirect(back);
      }
      const code = randomBytes(16).toString('base64url');
      codes.set(code, {
        user: answer.user,
        clientId: standin.clientId,
        redirectUri,
        challenge,
        nonce: q.get('nonce'),
      });
      back.search = new URLSearchParams({ code, state: answer.state ?? state }).toString();
      return redirect(back);
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      const form = new URLSearchParams(await readBody(req));
      const refuse = (reason: string) => {
        standin.seen.tokens.push({ ok: false, reason });
        json(400, { error: 'invalid_grant', error_description: reason });
      };
      const code = form.get('code') ?? '';
      const grant = codes.get(code);
      codes.delete(code); // one use, good or bad
      if (form.get('grant_type') !== 'authorization_code' || grant === undefined)
        return refuse('unknown code');
      if (form.get('client_id') !== grant.clientId) return refuse('client_id mismatch');
      if (form.get('redirect_uri') !== grant.redirectUri) return refuse('redirect_uri mismatch');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
        return refuse('code_verifier does not match the code_challenge');
      }
      const identity = DEV_TOKENS[grant.user];
      if (identity === undefined) return refuse(`no dev user ${grant.user}`);
      const now = Math.floor(Date.now() / 1000);
      const exp = now + standin.tokenLifetimeSeconds;
      standin.seen.tokens.push({ ok: true });
      return json(200, {
        token_type: 'Bearer',
        expires_in: standin.tokenLifetimeSeconds,
        // Shaped like Cognito's: client_id and cognito:groups in the access token.
        access_token: jwt({
          iss: issuer,
          sub: identity.sub,
          client_id: grant.clientId,
          token_use: 'access',
          scope: 'openid email profile',
          'cognito:groups': identity.groups,
          ...(identity.email === undefined ? {} : { email: identity.email }),
          iat: now,
          exp,
        }),
        id_token: jwt({
          iss: issuer,
          sub: identity.sub,
          aud: grant.clientId,
          ...(grant.nonce === null ? {} : { nonce: grant.nonce }),
          ...(identity.email === undefined ? {} : { email: identity.email }),
          iat: now,
          exp,
        }),
      });
    }
    if (req.method === 'GET' && url.pathname === '/logout') {
      standin.seen.logouts.push(Object.fromEntries(q));
      const to = q.get('post_logout_redirect_uri') ?? q.get('logout_uri') ?? '';
      if (q.get('client_id') !== standin.clientId || !standin.redirectUris.has(to)) {
        return json(400, { error: 'invalid_request', error_description: 'unknown client or logout URI' });
      }
      return redirect(new URL(to));
    }
    return json(404, { error: 'not_found' });
  };
  return standin;
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) return '';
  }
  return body;
};
