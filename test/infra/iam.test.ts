import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PREFIX } from '../../cdk/config.ts';
import {
  asArray,
  grantsOf,
  identityStatements,
  idOf,
  resourcesOf,
  type Statement,
  type Synthesized,
  synthesize,
} from './support.ts';

let s: Synthesized;
let byRole: Map<string, Statement[]>;
beforeAll(() => {
  s = synthesize();
  byRole = identityStatements(s.statelessTemplate);
});

type FnName = 'Planner' | 'Refresh' | 'Sender' | 'Api' | 'Watchdog';
const roleOf = (name: FnName): { action: string; resource: unknown }[] =>
  grantsOf(
    byRole.get(
      idOf(
        {
          Planner: s.stateless.planner,
          Refresh: s.stateless.refresh,
          Sender: s.stateless.sender,
          Api: s.stateless.api,
          Watchdog: s.stateless.watchdog,
        }[name].role,
      ),
    ) ?? [],
  );

const secretArn = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${SECRET_PREFIX}*`,
    ],
  ],
};

/**
 * Statements allowed to name `Resource: '*'`, with the reason. Identity policies have none; the
 * only ones are in the notification key's policy, where `*` means "this key".
 */
const STAR_ALLOW_LIST: { type: string; idPrefix: string; reason: string }[] = [
  {
    type: 'AWS::KMS::Key',
    idPrefix: 'NotificationsKey',
    reason: "in a key policy, Resource '*' is the key itself",
  },
];

interface Located {
  type: string;
  id: string;
  statement: Statement;
}

/** Identity and resource policy statements of both stacks. */
const everyStatement = (): Located[] => {
  const out: Located[] = [];
  for (const template of [s.statefulTemplate, s.statelessTemplate]) {
    for (const [id, r] of Object.entries(resourcesOf(template))) {
      const p = r.Properties ?? {};
      const docs: unknown[] = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(p.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        docs.push(p.AssumeRolePolicyDocument);
        docs.push(
          ...((p.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((x) => x.PolicyDocument),
        );
      }
      if (r.Type === 'AWS::KMS::Key') docs.push(p.KeyPolicy);
      if (['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(r.Type)) docs.push(p.PolicyDocument);
      for (const doc of docs) {
        for (const statement of (doc as { Statement: Statement[] }).Statement)
          out.push({ type: r.Type, id, statement });
      }
    }
  }
  return out;
};

const allowListed = (l: Located) =>
  STAR_ALLOW_LIST.find((a) => a.type === l.type && l.id.startsWith(a.idPrefix));

describe('IAM', () => {
  it("grants nothing on Resource '*' outside the allow-list, and no wildcard actions", () => {
    const all = everyStatement();
    expect(all.length).toBeGreaterThan(20);
    const star = all.filter((l) => asArray(l.statement.Resource).includes('*'));
    expect(star.filter((l) => !allowListed(l)).map((l) => `${l.type} ${l.id}`)).toEqual([]);
    for (const l of star) expect(allowListed(l)?.reason).toMatch(/\S+( \S+){4,}/);
    expect(all.filter((l) => l.statement.NotAction || l.statement.NotResource)).toEqual([]);
    // Allowed wildcard actions: kms:* for the account root in the key policy (the KMS default that
    // keeps the key manageable). Denies (sqs:* / sns:Publish without TLS) only take away.
    const wildcardActions = all.filter(
      (l) =>
        l.statement.Effect === 'Allow' &&
        asArray(l.statement.Action).some((a) => a === '*' || a.endsWith(':*')),
    );
    expect(wildcardActions.map((l) => [l.type, l.statement.Action])).toEqual([['AWS::KMS::Key', 'kms:*']]);
  });

  it('uses no AWS managed policies: a role holds at most a managed policy of its own stack', () => {
    const withUploader = synthesize({ segmentUploaderPrincipals: 'arn:aws:iam::123456789012:root' });
    const attached: unknown[] = [];
    for (const template of [
      s.statefulTemplate,
      s.statelessTemplate,
      withUploader.statefulTemplate,
      withUploader.statelessTemplate,
    ]) {
      const own = Object.keys(resourcesOf(template, 'AWS::IAM::ManagedPolicy'));
      for (const role of Object.values(resourcesOf(template, 'AWS::IAM::Role'))) {
        for (const arn of asArray(role.Properties?.ManagedPolicyArns as unknown[] | undefined)) {
          attached.push(arn);
          expect(own).toContain((arn as { Ref?: string }).Ref);
        }
      }
    }
    // The upload role holds the upload policy; nothing else holds a managed policy.
    expect(attached).toEqual([{ Ref: idOf(withUploader.stateful.segments.uploadPolicy) }]);
  });

  it('allows Secrets Manager actions only on the connection prefix', () => {
    const secretGrants = [...byRole.values()]
      .flatMap(grantsOf)
      .filter((g) => g.action.startsWith('secretsmanager:'));
    expect(secretGrants.length).toBeGreaterThan(0);
    for (const g of secretGrants) expect(g.resource).toEqual(secretArn);
  });

  it('lets the planner, sender and watchdog only read secrets (keys, webhook signing), and the API manage them', () => {
    const secretActions = (name: 'Planner' | 'Sender' | 'Watchdog' | 'Api') =>
      roleOf(name)
        .filter((g) => g.action.startsWith('secretsmanager:'))
        .map((g) => g.action)
        .sort();
    expect(secretActions('Planner')).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretActions('Sender')).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretActions('Watchdog')).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretActions('Api')).toEqual(
      [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:RestoreSecret',
      ].sort(),
    );
  });

  it('gives each function only its own queues and tables', () => {
    const resourcesFor = (name: FnName, action: string) =>
      roleOf(name)
        .filter((g) => g.action === action)
        .map((g) => JSON.stringify(g.resource));
    const arn = (q: IConstruct) => JSON.stringify({ 'Fn::GetAtt': [idOf(q), 'Arn'] });
    const { planQueue, sendQueue } = s.stateless;
    const [plan, planDlq, send, sendDlq] = [
      arn(planQueue.queue),
      arn(planQueue.deadLetterQueue),
      arn(sendQueue.queue),
      arn(sendQueue.deadLetterQueue),
    ];

    expect(resourcesFor('Planner', 'sqs:ReceiveMessage')).toEqual([plan]);
    expect(resourcesFor('Planner', 'sqs:SendMessage').sort()).toEqual([plan, planDlq, send].sort());
    expect(resourcesFor('Sender', 'sqs:ReceiveMessage')).toEqual([send]);
    expect(resourcesFor('Sender', 'sqs:SendMessage').sort()).toEqual([send, sendDlq].sort());
    expect(resourcesFor('Api', 'sqs:ReceiveMessage')).toEqual([]);
    expect(resourcesFor('Api', 'sqs:SendMessage')).toEqual([plan]);
    expect(resourcesFor('Refresh', 'sqs:ReceiveMessage')).toEqual([]);
    expect(resourcesFor('Refresh', 'sqs:SendMessage')).toEqual([plan]);
    expect(resourcesFor('Watchdog', 'sqs:SendMessage')).toEqual([]);
    expect(roleOf('Refresh').some((g) => g.action.startsWith('secretsmanager:'))).toBe(false);

    // Segments come from S3 refreshes by default (test/infra/refresh-arrival.test.ts has the reads,
    // and the segment table's with segmentSource dynamodb).
    const segmentTable = (name: FnName) =>
      roleOf(name).filter((g) => JSON.stringify(g.resource).includes('SegmentTableArn'));
    for (const name of ['Planner', 'Refresh', 'Sender', 'Api', 'Watchdog'] as const) {
      expect(segmentTable(name), name).toEqual([]);
    }
    for (const name of ['Planner', 'Refresh', 'Sender', 'Api'] as const) {
      const stateWrites = roleOf(name).filter(
        (g) => g.action === 'dynamodb:UpdateItem' && JSON.stringify(g.resource).includes('StateTableArn'),
      );
      expect(stateWrites.length).toBeGreaterThan(0);
    }
    for (const name of ['Api', 'Refresh'] as const) {
      expect(
        roleOf(name).some((g) => g.action === 'sns:Publish'),
        name,
      ).toBe(false);
    }
  });

  it('lets the console deployment read its two source objects, write its bucket and invalidate its distribution', () => {
    const { deployment, site } = s.stateless.console;
    const grants = grantsOf(byRole.get(idOf(deployment.role)) ?? []);
    const on = (action: string) =>
      grants.filter((g) => g.action === action).map((g) => JSON.stringify(g.resource));
    // CDK's own grants (GetObject*/List*/GetBucket* on the whole asset bucket, invalidation on '*') are absent.
    expect(grants.filter((g) => g.action.endsWith('*'))).toEqual([]);
    expect(on('s3:GetObject')).toHaveLength(2);
    for (const r of on('s3:GetObject')) expect(r).toMatch(/cdk-[a-z0-9]+-assets-.*\/[0-9a-f]{64}\.zip/);
    const files = idOf(site.files);
    expect(on('s3:ListBucket')).toEqual([JSON.stringify({ 'Fn::GetAtt': [files, 'Arn'] })]);
    expect(on('s3:PutObject')).toEqual([
      JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [files, 'Arn'] }, '/*']] }),
    ]);
    const distribution = idOf(site.distribution);
    for (const action of ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation']) {
      expect(on(action)).toHaveLength(1);
      expect(on(action)[0]).toContain(distribution);
    }
    expect(
      grants
        .map((g) => g.action.split(':')[0])
        .filter((svc) => !['s3', 'cloudfront', 'logs'].includes(svc ?? '')),
    ).toEqual([]);
  });

  it("lets the watchdog schedule's role invoke the watchdog and nothing else", () => {
    const role = idOf(s.stateless.watchdogSchedule.role);
    const watchdog = idOf(s.stateless.watchdog.fn);
    const policies = Object.values(
      s.statelessTemplate.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    );
    const text = JSON.stringify(policies);
    expect(text).toContain('lambda:InvokeFunction');
    expect(text).toContain(watchdog);
    expect(text).not.toContain(idOf(s.stateless.planner.fn));
  });

  it("lets the refresh schedule's role invoke the scheduled refresh and nothing else", () => {
    const scheduleRole = idOf(s.stateless.schedule.role);
    const refresh = idOf(s.stateless.refresh.fn);
    const grants = grantsOf(byRole.get(scheduleRole) ?? []);
    expect(grants.length).toBeGreaterThan(0);
    for (const g of grants) {
      expect(g.action).toBe('lambda:InvokeFunction');
      expect(JSON.stringify(g.resource)).toContain(`"${refresh}"`);
      expect(JSON.stringify(g.resource)).not.toContain(`"${idOf(s.stateless.planner.fn)}"`);
    }
    const trust = resourcesOf(s.statelessTemplate, 'AWS::IAM::Role')[scheduleRole]?.Properties
      ?.AssumeRolePolicyDocument;
    expect(JSON.stringify(trust)).toContain('scheduler.amazonaws.com');
    expect(JSON.stringify(trust)).toContain('aws:SourceArn');
  });
});
