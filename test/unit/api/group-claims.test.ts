import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callerOf, fromApiGateway } from '#functions/shared/http/http.ts';
import { GROUP_CLAIM_LIMITS, parseGroups } from '#lib/domain/access.ts';
import { ApiHarness } from '#test/support/api-harness.ts';

const COGNITO = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
const PARTNER_IDP = 'https://login.partner.example/realms/main';

/** A signed-looking JWT: API Gateway verified it; the function only reads its payload. */
const jwt = (payload: Record<string, unknown>): string =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJl`;

/** API Gateway HTTP API's rendering of an array claim for a Lambda integration. */
const flattened = (groups: readonly string[]): string => `[${groups.join(' ')}]`;

const event = (
  claims: Record<string, unknown>,
  authorization?: string,
): APIGatewayProxyEventV2WithJWTAuthorizer =>
  ({
    version: '2.0',
    routeKey: 'GET /exports',
    rawPath: '/exports',
    rawQueryString: '',
    headers: authorization === undefined ? {} : { authorization },
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/exports' },
      requestId: 'r',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;

const roleOf = (claims: Record<string, unknown>, authorization?: string) => {
  const identity = fromApiGateway(event({ sub: 'user-1', ...claims }, authorization)).identity;
  return identity === undefined ? 'no identity' : (callerOf(identity)?.role ?? 'none');
};

describe('group claims', () => {
  describe('read from the verified token itself (JSON types intact)', () => {
    const withToken = (groups: unknown, iss = PARTNER_IDP) => {
      const payload = { sub: 'user-1', iss, groups };
      const claims = { iss, groups: Array.isArray(groups) ? flattened(groups as string[]) : groups };
      return roleOf(claims, `Bearer ${jwt(payload)}`);
    };

    it('a group whose name contains a role name is not that role', () => {
      expect(withToken(['Partner admins'])).toBe('none');
      expect(withToken(['Partner admins', 'viewers'])).toBe('viewer');
      expect(withToken(['admins-readonly'])).toBe('none');
      expect(withToken(['not,admins'])).toBe('none');
      expect(withToken(['[admins]'])).toBe('none');
    });

    it('whole names are matched exactly, whatever the issuer put beside them', () => {
      expect(withToken(['Partner', 'admins'])).toBe('admin');
      expect(withToken(['Sales Team', 'contributors'])).toBe('contributor');
    });

    it('a plain string is one group name, never split', () => {
      expect(withToken('Partner admins')).toBe('none');
      expect(withToken('not,admins')).toBe('none');
      expect(withToken('[admins]')).toBe('none');
      expect(withToken('admins')).toBe('admin');
    });

    it('a string holding a JSON array is read as that array', () => {
      expect(withToken(JSON.stringify(['Partner admins', 'viewers']))).toBe('viewer');
      expect(withToken(JSON.stringify(['contributors']))).toBe('contributor');
    });

    it('a token that is not the one the authorizer verified is ignored', () => {
      const forged = jwt({ sub: 'someone-else', iss: PARTNER_IDP, groups: ['Partner', 'admins'] });
      expect(roleOf({ iss: PARTNER_IDP, groups: '[Partner admins]' }, `Bearer ${forged}`)).toBe('none');
    });
  });

  describe('read from the flattened claim alone', () => {
    it('the bracket form from a Cognito user pool splits exactly: its group names cannot hold spaces', () => {
      expect(roleOf({ iss: COGNITO, 'cognito:groups': '[marketing admins]' })).toBe('admin');
      expect(roleOf({ iss: COGNITO, 'cognito:groups': '[viewers]' })).toBe('viewer');
      expect(roleOf({ iss: COGNITO, 'cognito:groups': '["admins"]' })).toBe('none');
      expect(roleOf({ iss: COGNITO, 'cognito:groups': '[[admins]]' })).toBe('none');
    });

    it('the bracket form of another issuer never grants a role from a fragment of a name', () => {
      expect(roleOf({ iss: PARTNER_IDP, groups: '[Partner admins]' })).toBe('none');
      expect(roleOf({ iss: PARTNER_IDP, groups: '[Partner admins viewers]' })).toBe('none');
      expect(roleOf({ iss: PARTNER_IDP, groups: '[admins]' })).toBe('admin');
      expect(roleOf({ iss: PARTNER_IDP, groups: '[admins-readonly]' })).toBe('none');
      // A `cognito:groups` claim from an issuer that is not Cognito gets no Cognito trust.
      expect(roleOf({ iss: PARTNER_IDP, 'cognito:groups': '[Partner admins]' })).toBe('none');
    });

    it('a real array value and a JSON array string are read as arrays', () => {
      expect(roleOf({ groups: ['Partner admins'] })).toBe('none');
      expect(roleOf({ groups: ['Partner admins', 'contributors'] })).toBe('contributor');
      expect(roleOf({ groups: '["Partner admins","viewers"]' })).toBe('viewer');
    });

    it('plain strings are one name each', () => {
      expect(roleOf({ groups: 'Partner admins' })).toBe('none');
      expect(roleOf({ groups: 'not,admins' })).toBe('none');
      expect(roleOf({ groups: 'admins,viewers' })).toBe('none');
      expect(roleOf({ groups: 'viewers' })).toBe('viewer');
    });

    it.each([
      ['a JSON array followed by more text', '["viewers"],"admins"'],
      ['two JSON arrays', '["viewers"] ["admins"]'],
      ['an object', '{"groups":["admins"]}'],
      ['an unterminated array', '["admins"'],
      ['a bracket with a quote inside', '[admins]"]'],
      ['non-string entries', '[{"admins":1},["admins"],1]'],
      ['a NUL after the name', '["admins\\u0000"]'],
    ])('JSON injection grants nothing: %s', (_name, claim) => {
      expect(roleOf({ iss: PARTNER_IDP, groups: claim })).toBe('none');
    });
  });

  describe('sizes are bounded before any parsing', () => {
    it('a claim longer than the limit yields no group, however it ends', () => {
      const long = `[${'x'.repeat(GROUP_CLAIM_LIMITS.chars)} admins]`;
      expect(parseGroups(long, 'flattened-cognito')).toEqual([]);
      expect(parseGroups(`${'["viewers",'.repeat(GROUP_CLAIM_LIMITS.chars)}"admins"]`, 'json')).toEqual([]);
    });

    it('too many groups are refused whole (never truncated); an over-long name is dropped, it names no role', () => {
      const many = [...Array.from({ length: GROUP_CLAIM_LIMITS.groups }, (_, i) => `g${i}`), 'admins'];
      expect(parseGroups(many, 'json')).toEqual([]);
      expect(parseGroups([`${'a'.repeat(GROUP_CLAIM_LIMITS.nameChars)}admins`, 'viewers'], 'json')).toEqual([
        'viewers',
      ]);
    });

    it('a 1 MB adversarial claim is answered at once', () => {
      const hostile = `[${' '.repeat(1_000_000)}admins]`;
      for (const form of ['json', 'flattened', 'flattened-cognito'] as const) {
        expect(parseGroups(hostile, form)).toEqual([]);
        expect(parseGroups([hostile], form)).toEqual([]);
      }
    });

    it('an over-long Authorization header is not decoded; the flattened claim decides', () => {
      const payload = { sub: 'user-1', iss: PARTNER_IDP, groups: ['admins'], pad: 'x'.repeat(20_000) };
      expect(roleOf({ iss: PARTNER_IDP, groups: '[admins]' }, `Bearer ${jwt(payload)}`)).toBe('admin');
      expect(roleOf({ iss: PARTNER_IDP, groups: '[Partner admins]' }, `Bearer ${jwt(payload)}`)).toBe('none');
    });
  });

  it('the local gateway renders dev tokens in the bracket form, and they map to their roles', async () => {
    const h = new ApiHarness();
    for (const [token, status] of [
      ['dev-admin', 200],
      ['dev-viewer', 200],
      ['dev-nobody', 403],
    ] as const) {
      expect((await h.call('GET', '/exports', { token })).status, token).toBe(status);
    }
  });
});
