import { describe, expect, it } from 'vitest';
import { DeployConfigError, parseDeployConfig } from '../../cdk/config.ts';
import { buildApp } from './support.ts';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const ROOT = 'arn:aws:iam::123456789012:root';
const ROLE = 'arn:aws:iam::210987654321:role/warehouse/redshift-unload';
const USER = 'arn:aws:iam::555555555555:user/abc1-b-self1234';
const WEB_ACL =
  'arn:aws:wafv2:us-east-1:123456789012:global/webacl/console/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

describe('deploy config', () => {
  it("defaults to a daily 02:00 UTC refresh, a Cognito pool and 10 senders; rate and URL stay the client's own", () => {
    expect(parseDeployConfig({})).toEqual({
      refreshCron: '0 2 * * ? *',
      timeZone: 'UTC',
      senderMaxConcurrency: 10,
      stallAfterMinutes: 30,
      auditRetentionDays: 400,
      console: {},
      segments: { source: 's3', refreshRetentionDays: 14 },
    });
  });

  it('accepts -c strings and cdk.json values', () => {
    const config = parseDeployConfig({
      refreshCron: 'cron(30 6 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      oidcIssuer: 'https://login.example.com/',
      oidcAudience: 'autopilot-export, cli',
      consoleClientId: '0oa1console',
      senderMaxConcurrency: '4',
      defaultRatePerSecond: 2.5,
      alertEmail: 'ops@example.com',
      autopilotBaseUrl: 'https://autopilot.example.com/v1/',
      stallAfterMinutes: '45',
      auditRetentionDays: '90',
      consoleDomainName: 'exports.example.com',
      consoleCertificateArn: CERT,
      consoleWebAclArn: WEB_ACL,
    });
    expect(config).toEqual({
      refreshCron: '30 6 ? * MON-FRI *',
      timeZone: 'Europe/Berlin',
      oidc: {
        issuer: 'https://login.example.com/',
        audience: ['autopilot-export', 'cli'],
        consoleClientId: '0oa1console',
      },
      senderMaxConcurrency: 4,
      defaultRatePerSecond: 2.5,
      alertEmail: 'ops@example.com',
      autopilotBaseUrl: 'https://autopilot.example.com/v1',
      stallAfterMinutes: 45,
      auditRetentionDays: 90,
      console: { domain: { name: 'exports.example.com', certificateArn: CERT }, webAclArn: WEB_ACL },
      segments: { source: 's3', refreshRetentionDays: 14 },
    });
  });

  it('reads the segment source, the retention and the upload principals from -c strings or cdk.json lists', () => {
    expect(
      parseDeployConfig({
        segmentSource: 'dynamodb',
        refreshRetentionDays: '30',
        segmentUploaderPrincipals: `${ROOT}, ${ROLE},${ROOT}`,
        segmentUploaderExternalId: 'snowflake-ext-id_1=',
      }).segments,
    ).toEqual({
      source: 'dynamodb',
      refreshRetentionDays: 30,
      uploader: { principals: [ROOT, ROLE], externalId: 'snowflake-ext-id_1=' },
    });
    expect(
      parseDeployConfig({ segmentUploaderPrincipals: [USER], refreshRetentionDays: 3650 }).segments,
    ).toEqual({ source: 's3', refreshRetentionDays: 3650, uploader: { principals: [USER] } });
    expect(parseDeployConfig({ segmentUploaderPrincipals: '', segmentSource: ' ' }).segments).toEqual({
      source: 's3',
      refreshRetentionDays: 14,
    });
  });

  it('refuses an external id without principals: it only guards assuming the upload role', () => {
    expect(() => parseDeployConfig({ segmentUploaderExternalId: 'abc123' })).toThrow(
      /segmentUploaderExternalId: is only for segmentUploaderPrincipals/,
    );
  });

  it('checks a long principal by its length, not by its pattern', () => {
    const long = `arn:aws:iam::123456789012:role/${'a/'.repeat(20_000)}x`;
    expect(() => parseDeployConfig({ segmentUploaderPrincipals: [long] })).toThrow(
      /segmentUploaderPrincipals: entry 1 is longer than 2048 characters/,
    );
  });

  it('refuses a stall time a healthy run could reach', () => {
    expect(() => parseDeployConfig({ auditRetentionDays: 0 })).toThrow(
      /auditRetentionDays: must be at least 1 day/,
    );
    expect(() => parseDeployConfig({ auditRetentionDays: 3651 })).toThrow(
      /auditRetentionDays: must be at most 3650/,
    );
    expect(() => parseDeployConfig({ stallAfterMinutes: 10 })).toThrow(
      /stallAfterMinutes: must be at least 20/,
    );
  });

  it('treats an empty -c value as not set', () => {
    expect(parseDeployConfig({ alertEmail: '', oidcIssuer: ' ', oidcAudience: '' })).not.toHaveProperty(
      'alertEmail',
    );
  });

  it.each([
    ['refreshCron', '0 2 * * *', /refreshCron: must have 6 fields/],
    ['refreshCron', '0 2 * * MON *', /refreshCron: exactly one of day-of-month and day-of-week must be "\?"/],
    ['refreshCron', '0 2 * * ? * $', /refreshCron: must have 6 fields/],
    [
      'timeZone',
      'Mars/Olympus',
      /timeZone: must be an IANA time zone such as "Europe\/Berlin" or "UTC" \(got "Mars\/Olympus"\)/,
    ],
    [
      'senderMaxConcurrency',
      '1',
      /senderMaxConcurrency: must be at least 2 \(the lowest maximum concurrency Lambda allows/,
    ],
    ['senderMaxConcurrency', '2.5', /senderMaxConcurrency: must be a whole number/],
    ['senderMaxConcurrency', 'many', /senderMaxConcurrency: must be a whole number/],
    ['defaultRatePerSecond', '0', /defaultRatePerSecond: must be greater than 0/],
    ['alertEmail', 'ops-at-example', /alertEmail: must be an e-mail address \(got "ops-at-example"\)/],
    ['autopilotBaseUrl', 'http://api2.autopilothq.com/v1', /autopilotBaseUrl: must be an https:\/\/ URL/],
    ['signInDomainPrefix', 'Exports', /signInDomainPrefix: must be 1-63 lowercase letters/],
    ['signInDomainPrefix', 'my-aws-exports', /signInDomainPrefix: must not contain "aws"/],
    ['signInDomainPrefix', 'a'.repeat(64), /signInDomainPrefix: must be at most 63 characters/],
    ['consoleDomainName', 'https://exports.example.com', /consoleDomainName: must be a lowercase DNS name/],
    [
      'consoleCertificateArn',
      CERT.replace('us-east-1', 'eu-west-1'),
      /consoleCertificateArn: must be an ACM certificate ARN in us-east-1/,
    ],
    [
      'consoleWebAclArn',
      WEB_ACL.replace('global', 'regional'),
      /consoleWebAclArn: must be the ARN of a WAF web ACL with CloudFront scope/,
    ],
    ['segmentSource', 'files', /segmentSource: must be one of s3, dynamodb/],
    ['refreshRetentionDays', '0', /refreshRetentionDays: must be at least 1 day/],
    ['refreshRetentionDays', '3651', /refreshRetentionDays: must be at most 3650 days/],
    ['refreshRetentionDays', '1.5', /refreshRetentionDays: must be a whole number of days/],
    ['refreshRetentionDays', 'two weeks', /refreshRetentionDays: must be a whole number of days/],
    [
      'segmentUploaderPrincipals',
      `${ROOT},arn:aws:iam::123456789012:group/uploaders`,
      /segmentUploaderPrincipals: entry 2 is not the ARN of an account root, an IAM role or an IAM user/,
    ],
    ['segmentUploaderExternalId', 'two words', /segmentUploaderExternalId: must be letters, digits/],
    ['segmentUploaderPrincipals', '123456789012', /segmentUploaderPrincipals: entry 1 is not the ARN/],
    [
      'segmentUploaderPrincipals',
      Array.from({ length: 11 }, (_, i) => `arn:aws:iam::${String(i).padStart(12, '0')}:root`).join(','),
      /segmentUploaderPrincipals: must name at most 10 principals/,
    ],
  ])('rejects %s=%s naming the key and why', (key, value, message) => {
    expect(() => parseDeployConfig({ [key]: value })).toThrow(DeployConfigError);
    expect(() => parseDeployConfig({ [key]: value })).toThrow(message);
  });

  it('requires the OIDC issuer and audience together', () => {
    expect(() => parseDeployConfig({ oidcIssuer: 'https://login.example.com' })).toThrow(
      /oidcAudience: is required when the other of oidcIssuer\/oidcAudience is set/,
    );
    expect(() => parseDeployConfig({ oidcAudience: 'x' })).toThrow(/oidcIssuer: is required/);
  });

  it('requires the console client id with an external issuer, and only there', () => {
    const oidc = { oidcIssuer: 'https://login.example.com', oidcAudience: 'api' };
    expect(() => parseDeployConfig(oidc)).toThrow(/consoleClientId: is required with oidcIssuer/);
    expect(() => parseDeployConfig({ consoleClientId: 'x' })).toThrow(
      /consoleClientId: is only for oidcIssuer/,
    );
    expect(() => parseDeployConfig({ ...oidc, consoleClientId: 'console x' })).toThrow(
      /consoleClientId: must be a client id/,
    );
    expect(() => parseDeployConfig({ ...oidc, consoleClientId: 'c', signInDomainPrefix: 'exports' })).toThrow(
      /signInDomainPrefix: is only for the Cognito pool/,
    );
  });

  it('requires the console domain name and its certificate together', () => {
    expect(() => parseDeployConfig({ consoleDomainName: 'exports.example.com' })).toThrow(
      /consoleCertificateArn: is required when the other of consoleDomainName\/consoleCertificateArn is set/,
    );
    expect(() => parseDeployConfig({ consoleCertificateArn: CERT })).toThrow(
      /consoleDomainName: is required/,
    );
    expect(parseDeployConfig({ signInDomainPrefix: 'acme-exports' }).console).toEqual({
      signInDomainPrefix: 'acme-exports',
    });
  });

  it('lists every bad key at once', () => {
    expect(() => parseDeployConfig({ timeZone: 'Nowhere', senderMaxConcurrency: 0 })).toThrow(
      /timeZone: .*\n {2}- senderMaxConcurrency: /s,
    );
  });

  it('stops the app before any stack is built when the context is invalid', () => {
    expect(() => buildApp({ refreshCron: 'every day' })).toThrow(
      /Invalid deploy config in CDK context \(set with -c key=value or cdk\.json "context"\):\n {2}- refreshCron: must have 6 fields/,
    );
  });
});
