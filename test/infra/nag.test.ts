import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nagAcknowledgements } from '../../cdk/stacks/nag.ts';
import { buildApp } from './support.ts';

interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
  acknowledgedId?: string;
  reason?: string;
}
interface Report {
  pluginReports: { pluginName: string; violations: Violation[]; suppressedViolations?: Violation[] }[];
}

/**
 * cdk-nag 3 runs as a CDK policy-validation plugin: findings go to the cloud assembly's
 * validation report (and fail the synth), not to construct annotations.
 */
const synthReport = () => {
  const built = buildApp();
  const assembly = built.app.synth();
  const report = JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as Report;
  const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
  if (!nag) throw new Error('the AwsSolutions pack did not run');
  return { built, report, nag };
};

describe('cdk-nag AwsSolutions', () => {
  let synthesized: ReturnType<typeof synthReport>;
  beforeAll(() => {
    synthesized = synthReport();
  });

  it('reports no unacknowledged finding, error or warning', () => {
    const { report, nag } = synthesized;
    expect(
      nag.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingConstructs[0]?.constructPath}`),
    ).toEqual([]);
    // Nor does any other plugin (CDK's own annotations included).
    expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
  });

  it('acknowledges each accepted finding with its reason, and has no stale acknowledgement', () => {
    const { built, nag } = synthesized;
    const suppressed = nag.suppressedViolations ?? [];
    for (const v of suppressed) {
      expect(v.reason, v.ruleName).toMatch(/\w+ \w+ \w+ \w+ \w+/);
    }
    const used = new Set(
      suppressed.flatMap((v) => v.violatingConstructs.map((c) => `${c.constructPath} ${v.ruleName}`)),
    );
    for (const a of nagAcknowledgements(built)) {
      const hit = [...used].some((u) => u.startsWith(`${a.scope.node.path}/`) && u.endsWith(` ${a.finding}`));
      expect(hit, `unused acknowledgement ${a.finding} on ${a.scope.node.path}`).toBe(true);
    }
  });

  it('adds no error or warning annotation to either stack', () => {
    const { built } = synthesized;
    for (const stack of [built.stateful, built.stateless]) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    }
  });

  it('acknowledges no TLS or WAF finding once a custom domain and a web ACL are configured', () => {
    const built = buildApp({
      consoleDomainName: 'exports.example.com',
      consoleCertificateArn:
        'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
      consoleWebAclArn:
        'arn:aws:wafv2:us-east-1:123456789012:global/webacl/console/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    });
    const findings = nagAcknowledgements(built).map((a) => a.finding);
    expect(findings).toContain('AwsSolutions-CFR1');
    expect(findings).not.toContain('AwsSolutions-CFR2');
    expect(findings).not.toContain('AwsSolutions-CFR4');
    expect(() => built.app.synth()).not.toThrow();
  });

  it.each([
    ['segments from the table', { segmentSource: 'dynamodb' }],
    ['an upload role', { segmentUploaderPrincipals: 'arn:aws:iam::123456789012:root' }],
  ])('stays clean with %s, acknowledging only findings that occur', (_, context) => {
    const built = buildApp(context);
    const report = JSON.parse(
      readFileSync(join(built.app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as Report;
    expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
    const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    const used = (nag?.suppressedViolations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => `${c.constructPath} ${v.ruleName}`),
    );
    for (const a of nagAcknowledgements(built)) {
      const hit = used.some((u) => u.startsWith(`${a.scope.node.path}/`) && u.endsWith(` ${a.finding}`));
      expect(hit, `unused acknowledgement ${a.finding} on ${a.scope.node.path}`).toBe(true);
    }
  });

  it('fails the synth on a new finding (the check is live)', () => {
    const { app, stateless } = buildApp();
    new Queue(stateless, 'Unencrypted', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
