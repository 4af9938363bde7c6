import { describe, expect, it } from 'vitest';
import { DeployConfigError, parseDeployConfig } from '../../cdk/config.ts';
import { buildApp } from './support.ts';

describe('deploy config', () => {
  it("defaults to a daily 02:00 UTC refresh, a Cognito pool and 2 senders; rate and URL stay the client's own", () => {
    expect(parseDeployConfig({})).toEqual({
      refreshCron: '0 2 * * ? *',
      timeZone: 'UTC',
      senderMaxConcurrency: 2,
      stallAfterMinutes: 30,
    });
  });

  it('accepts -c strings and cdk.json values', () => {
    const config = parseDeployConfig({
      refreshCron: 'cron(30 6 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      oidcIssuer: 'https://login.example.com/',
      oidcAudience: 'autopilot-export, cli',
      senderMaxConcurrency: '4',
      defaultRatePerSecond: 2.5,
      alertEmail: 'ops@example.com',
      autopilotBaseUrl: 'https://autopilot.example.com/v1/',
      stallAfterMinutes: '45',
    });
    expect(config).toEqual({
      refreshCron: '30 6 ? * MON-FRI *',
      timeZone: 'Europe/Berlin',
      oidc: { issuer: 'https://login.example.com/', audience: ['autopilot-export', 'cli'] },
      senderMaxConcurrency: 4,
      defaultRatePerSecond: 2.5,
      alertEmail: 'ops@example.com',
      autopilotBaseUrl: 'https://autopilot.example.com/v1',
      stallAfterMinutes: 45,
    });
  });

  it('refuses a stall time a healthy run could reach', () => {
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
