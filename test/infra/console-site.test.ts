import { beforeAll, describe, expect, it } from 'vitest';
import { apiPathPatterns, HSTS_MAX_AGE } from '../../cdk/constructs/console-site.ts';
import { ROUTES } from '../../cdk/constructs/http-api.ts';
import { CONSOLE_SECURITY_HEADERS, CONTENT_SECURITY_POLICY } from '../../console/security-headers.ts';
import { idOf, resourcesOf, type Synthesized, synthesize } from './support.ts';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
});

type Props = Record<string, unknown>;
const distributionConfig = (t: Synthesized['statelessTemplate']) => {
  const [d] = Object.values(resourcesOf(t, 'AWS::CloudFront::Distribution'));
  return d?.Properties?.DistributionConfig as Props & {
    CacheBehaviors: Props[];
    DefaultCacheBehavior: Props;
    Origins: Props[];
    ViewerCertificate?: Props;
  };
};
const text = (v: unknown): string => JSON.stringify(v);

describe('console site', () => {
  it('keeps the files bucket private: all public access blocked, readable only by the distribution (OAC)', () => {
    const files = idOf(s.stateless.console.site.files);
    s.statelessTemplate.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const policy = Object.values(resourcesOf(s.statelessTemplate, 'AWS::S3::BucketPolicy')).find(
      (p) => text(p.Properties?.Bucket) === text({ Ref: files }),
    );
    const allows = (
      (policy?.Properties?.PolicyDocument ?? { Statement: [] }) as {
        Statement: { Effect: string; Principal: unknown; Condition?: unknown }[];
      }
    ).Statement.filter((st) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]?.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(text(allows[0]?.Condition)).toContain(idOf(s.stateless.console.site.distribution));
    const origin = distributionConfig(s.statelessTemplate).Origins.find((o) => o.S3OriginConfig);
    expect(origin?.OriginAccessControlId).toBeDefined();
    expect(text(origin)).not.toContain('OriginAccessIdentity/');
  });

  it('sends every API path prefix of ROUTES to the API, uncached, with every viewer header but Host', () => {
    const patterns = apiPathPatterns();
    for (const r of ROUTES) {
      const first = `/${r.path.split('/')[1]}`;
      expect(
        patterns.some((p) => p === first || p === `${first}*`),
        r.path,
      ).toBe(true);
    }
    const config = distributionConfig(s.statelessTemplate);
    expect(config.CacheBehaviors.map((b) => b.PathPattern).sort()).toEqual([...patterns].sort());
    const apiOrigin = config.Origins.find((o) => o.CustomOriginConfig);
    expect(text(apiOrigin?.DomainName)).toContain(idOf(s.stateless.httpApi.httpApi));
    for (const b of config.CacheBehaviors) {
      expect(b.TargetOriginId).toBe(apiOrigin?.Id);
      expect(b.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // Managed-CachingDisabled
      expect(b.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
      expect(b.AllowedMethods).toHaveLength(7);
      expect(b.ViewerProtocolPolicy).toBe('https-only');
    }
    expect(config.DefaultCacheBehavior.TargetOriginId).not.toBe(apiOrigin?.Id);
  });

  it("answers with the console's shared security headers plus HSTS, the issuer and sign-in origins in connect-src", () => {
    const [policy] = Object.values(
      resourcesOf(s.statelessTemplate, 'AWS::CloudFront::ResponseHeadersPolicy'),
    );
    const h = (
      (policy?.Properties?.ResponseHeadersPolicyConfig ?? {}) as {
        SecurityHeadersConfig: Record<string, Props>;
      }
    ).SecurityHeadersConfig;
    const csp = h.ContentSecurityPolicy?.ContentSecurityPolicy as { 'Fn::Join': [string, unknown[]] };
    const [first, ...rest] = csp['Fn::Join'][1];
    // The shared policy, extended by connect-src only: the pool's issuer origin and managed login.
    expect(first).toBe(`${CONTENT_SECURITY_POLICY}; connect-src 'self' https://`);
    expect(rest).toEqual([
      {
        'Fn::Select': [
          2,
          { 'Fn::Split': ['/', { 'Fn::ImportValue': 'AutopilotExport-Stateful-JwtIssuer' }] },
        ],
      },
      ' ',
      { 'Fn::ImportValue': 'AutopilotExport-Stateful-SignInUrl' },
    ]);
    expect(h.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(h.ContentTypeOptions).toEqual({ Override: true });
    expect(h.ReferrerPolicy).toEqual({
      ReferrerPolicy: CONSOLE_SECURITY_HEADERS['referrer-policy'],
      Override: true,
    });
    expect(h.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: HSTS_MAX_AGE.toSeconds(),
      IncludeSubdomains: true,
      Override: true,
    });
    const config = distributionConfig(s.statelessTemplate);
    const policyId = { Ref: idOf(s.stateless.console.site.headers) };
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(b.ResponseHeadersPolicyId).toEqual(policyId);
    }
  });

  it('deploys config.json naming the pool as issuer, the console client, and the console URL as redirect', () => {
    const { console: site } = s.stateless;
    const client = { Ref: idOf(site.signIn?.client ?? s.stateless) };
    const consoleUrl = {
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [idOf(site.site.distribution), 'DomainName'] }, '/']],
    };
    expect(s.stateless.resolve(site.runtimeConfig)).toEqual({
      auth: {
        kind: 'oidc',
        issuer: { 'Fn::ImportValue': 'AutopilotExport-Stateful-JwtIssuer' },
        clientId: client,
        redirectUri: consoleUrl,
        scopes: ['openid', 'email', 'profile'],
      },
    });
    // What the deployment fills into config.json at deploy time: the same values.
    const deployment = Object.values(resourcesOf(s.statelessTemplate, 'Custom::CDKBucketDeployment'))[0];
    const markers = text(deployment?.Properties?.SourceMarkers);
    expect(markers).toContain(text(client));
    expect(markers).toContain('AutopilotExport-Stateful-JwtIssuer');
    expect(markers).toContain(idOf(site.site.distribution));
    expect(site.deployment.sources).toHaveLength(2);
  });

  it('accepts the console client as an API audience', () => {
    const [authorizer] = Object.values(resourcesOf(s.statelessTemplate, 'AWS::ApiGatewayV2::Authorizer'));
    expect(text(authorizer?.Properties?.JwtConfiguration)).toContain(
      text({ Ref: idOf(s.stateless.console.signIn?.client ?? s.stateless) }),
    );
  });

  it("gives the console's client the code grant only, with the console as its one callback and sign-out URL", () => {
    const client = resourcesOf(s.statelessTemplate, 'AWS::Cognito::UserPoolClient');
    expect(Object.keys(client)).toEqual([idOf(s.stateless.console.signIn?.client ?? s.stateless)]);
    const consoleUrl = {
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [idOf(s.stateless.console.site.distribution), 'DomainName'] }, '/'],
      ],
    };
    s.statelessTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: [consoleUrl],
      LogoutURLs: [consoleUrl],
      SupportedIdentityProviders: ['COGNITO'],
    });
    s.statelessTemplate.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      UseCognitoProvidedValues: true,
    });
    s.statelessTemplate.hasOutput('ConsoleUrl', {
      Value: {
        'Fn::Join': [
          '',
          ['https://', { 'Fn::GetAtt': [idOf(s.stateless.console.site.distribution), 'DomainName'] }],
        ],
      },
    });
  });

  it('uses a configured domain and certificate with TLSv1.2_2021, and the web ACL', () => {
    const webAcl =
      'arn:aws:wafv2:us-east-1:123456789012:global/webacl/console/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
    const custom = synthesize({
      consoleDomainName: 'exports.example.com',
      consoleCertificateArn: CERT,
      consoleWebAclArn: webAcl,
    });
    const config = distributionConfig(custom.statelessTemplate);
    expect(config.Aliases).toEqual(['exports.example.com']);
    expect(config.ViewerCertificate).toMatchObject({
      AcmCertificateArn: CERT,
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    expect(config.WebACLId).toBe(webAcl);
    custom.statelessTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['https://exports.example.com/'],
    });
    custom.statelessTemplate.hasOutput('ConsoleUrl', { Value: 'https://exports.example.com' });
    // Notifications link runs to the console at its own name.
    for (const fn of [custom.stateless.sender.fn, custom.stateless.watchdog.fn, custom.stateless.api.fn]) {
      const props = resourcesOf(custom.statelessTemplate)[idOf(fn)]?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(props.Environment.Variables.CONSOLE_URL).toBe('https://exports.example.com');
    }
    // Without one, CloudFront's default certificate: no security policy to set (nag CFR4 acknowledged).
    expect(distributionConfig(s.statelessTemplate).ViewerCertificate).toBeUndefined();
  });
});
