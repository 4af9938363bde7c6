import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callerOf, fromApiGateway } from '#functions/shared/http/http.ts';
import { ApiHarness } from '#test/support/api-harness.ts';

const event = (claims: Record<string, unknown>): APIGatewayProxyEventV2WithJWTAuthorizer =>
  ({
    version: '2.0',
    routeKey: 'GET /me',
    rawPath: '/me',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/me' },
      requestId: 'r',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;

const callerFrom = (claims: Record<string, unknown>) => {
  const identity = fromApiGateway(event({ sub: 'user-1', groups: 'contributors', ...claims })).identity;
  return identity && callerOf(identity);
};

describe('GET /me', () => {
  it("answers the caller's id, role and name for every role", async () => {
    const h = new ApiHarness();
    const me = async (token: 'dev-admin' | 'dev-contributor' | 'dev-viewer') =>
      (await h.call('GET', '/me', { token })).body;
    expect(await me('dev-admin')).toEqual({ id: 'dev-admin', role: 'admin', name: 'admin@example.local' });
    expect(await me('dev-contributor')).toEqual({
      id: 'dev-contributor',
      role: 'contributor',
      name: 'contributor@example.local',
    });
    expect(await me('dev-viewer')).toEqual({
      id: 'dev-viewer',
      role: 'viewer',
      name: 'viewer@example.local',
    });
    const second = await h.call('GET', '/me', { authorization: 'Bearer dev-contributor-2' });
    expect(second.body).toEqual({
      id: 'dev-contributor-2',
      role: 'contributor',
      name: 'contributor-2@example.local',
    });
  });

  it('refuses a request without a token (401) and a token in none of our groups (403)', async () => {
    const h = new ApiHarness();
    expect((await h.call('GET', '/me', { token: 'none' })).status).toBe(401);
    expect((await h.call('GET', '/me', { token: 'dev-nobody' })).status).toBe(403);
  });

  it('takes no body', async () => {
    const h = new ApiHarness();
    expect((await h.call('GET', '/me', { body: { id: 'someone-else' } })).body.id).toBe('dev-admin');
  });
});

describe("the caller's name", () => {
  it('comes from the email claim, else cognito:username, else username', () => {
    expect(callerFrom({ email: 'ann@example.com', 'cognito:username': 'ann', username: 'a' })?.name).toBe(
      'ann@example.com',
    );
    expect(callerFrom({ 'cognito:username': 'ann', username: 'a' })?.name).toBe('ann');
    expect(callerFrom({ username: 'a' })?.name).toBe('a');
  });

  it('is omitted when no claim holds one', () => {
    const caller = callerFrom({});
    expect(caller).toEqual({ id: 'user-1', role: 'contributor' });
  });

  it('skips a claim over 200 characters, empty, not text or with control characters', () => {
    expect(callerFrom({ email: 'x'.repeat(201), username: 'fallback' })?.name).toBe('fallback');
    expect(callerFrom({ email: '', username: 'fallback' })?.name).toBe('fallback');
    expect(callerFrom({ email: 42, username: 'fallback' })?.name).toBe('fallback');
    expect(callerFrom({ email: 'a\nb@example.com', username: 'fallback' })?.name).toBe('fallback');
    expect(callerFrom({ email: 'x'.repeat(200) })?.name).toBe('x'.repeat(200));
    expect(callerFrom({ email: 'x'.repeat(1_000_000) })).toEqual({ id: 'user-1', role: 'contributor' });
  });
});
