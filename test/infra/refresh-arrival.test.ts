import { beforeAll, describe, expect, it } from 'vitest';
import { ARRIVAL_ASYNC, ARRIVAL_DELIVERY } from '../../cdk/constructs/refresh-arrival-rule.ts';
import { SIZING } from '../../cdk/stacks/stateless-stack.ts';
import {
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

const arrival = () => {
  const fn = s.stateless.arrival;
  const rule = s.stateless.arrivalRule;
  if (!fn || !rule) throw new Error('the default segment source is s3, with a refresh arrival');
  return { fn, rule };
};
const imported = (name: string) => ({ 'Fn::ImportValue': `AutopilotExport-Stateful-${name}` });
const refreshObjects = { 'Fn::Join': ['', [imported('SegmentBucketArn'), '/refreshes/*']] };
const grantsOfRole = (construct: Parameters<typeof idOf>[0]) => grantsOf(byRole.get(idOf(construct)) ?? []);
const s3Grants = (construct: Parameters<typeof idOf>[0]) =>
  grantsOfRole(construct).filter((g) => g.action.startsWith('s3:'));

describe('refresh arrival function', () => {
  it("runs the planner bundle's refreshArrived handler for 15 minutes with 1024 MB, reading S3 refreshes", () => {
    const props = resourcesOf(s.statelessTemplate, 'AWS::Lambda::Function')[idOf(arrival().fn.fn)]
      ?.Properties as Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } };
    const planner = resourcesOf(s.statelessTemplate, 'AWS::Lambda::Function')[idOf(s.stateless.planner.fn)]
      ?.Properties as Record<string, unknown>;
    expect(props).toMatchObject({ Handler: 'index.refreshArrived', Timeout: 900, MemorySize: 1024 });
    expect(SIZING.arrival.timeout.toMinutes()).toBe(15);
    expect(props.Code).toEqual(planner.Code);
    expect(props.Environment.Variables).toMatchObject({
      SEGMENT_SOURCE: 's3',
      SEGMENT_BUCKET: imported('SegmentBucketName'),
      NOTIFY_TOPIC_ARN: { Ref: idOf(s.stateless.notifications.topic) },
      PLAN_QUEUE_URL: { Ref: idOf(s.stateless.planQueue.queue) },
    });
    expect(props.Environment.Variables.SEGMENT_TABLE).toBeUndefined();
  });

  it('retries a failed invocation twice within 6 hours, then sends the event to the dead-letter queue', () => {
    const dlq = idOf(arrival().rule.deadLetterQueue);
    const props = resourcesOf(s.statelessTemplate, 'AWS::Lambda::Function')[idOf(arrival().fn.fn)]
      ?.Properties;
    expect(props?.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } });
    s.statelessTemplate.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: idOf(arrival().fn.fn) },
      MaximumRetryAttempts: ARRIVAL_ASYNC.retryAttempts,
      MaximumEventAgeInSeconds: ARRIVAL_ASYNC.maxEventAge.toSeconds(),
    });
  });
});

describe('refresh arrival rule', () => {
  it("matches S3 Object Created events of the segment bucket's refresh manifests only", () => {
    const rule = resourcesOf(s.statelessTemplate, 'AWS::Events::Rule')[idOf(arrival().rule.rule)];
    expect(rule?.Properties?.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [imported('SegmentBucketName')] },
        object: { key: [{ wildcard: 'refreshes/*/manifest.json' }] },
      },
    });
  });

  it('delivers to the arrival function with retries and a dead-letter queue EventBridge may write to', () => {
    const { rule, fn } = arrival();
    const dlq = idOf(rule.deadLetterQueue);
    const props = resourcesOf(s.statelessTemplate, 'AWS::Events::Rule')[idOf(rule.rule)]?.Properties as {
      Targets: Record<string, unknown>[];
    };
    expect(props.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [idOf(fn.fn), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        RetryPolicy: {
          MaximumRetryAttempts: ARRIVAL_DELIVERY.retryAttempts,
          MaximumEventAgeInSeconds: ARRIVAL_DELIVERY.maxEventAge.toSeconds(),
        },
      },
    ]);
    s.statelessTemplate.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [idOf(fn.fn), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [idOf(rule.rule), 'Arn'] },
    });
    const policy = Object.values(resourcesOf(s.statelessTemplate, 'AWS::SQS::QueuePolicy')).find(
      (p) => JSON.stringify(p.Properties?.Queues) === JSON.stringify([{ Ref: dlq }]),
    );
    const statements = (
      (policy?.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: Statement[] }
    ).Statement;
    expect(statements.filter((st) => st.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [idOf(rule.rule), 'Arn'] } } },
      }),
    ]);
  });

  it('keeps dead letters 14 days, encrypted, TLS-only, and alarms on the first one', () => {
    const dlq = idOf(arrival().rule.deadLetterQueue);
    const queue = resourcesOf(s.statelessTemplate, 'AWS::SQS::Queue')[dlq];
    expect(queue?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
    });
    s.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: idOf(s.stateless.notifications.topic) }],
    });
  });
});

describe('segment reads from S3 (least privilege)', () => {
  it('lets the planner and the API get refresh objects only: no list, no write, no s3:*', () => {
    // The planner's other S3 grants are its checkpoints' (test/infra/checkpoints.test.ts).
    const checkpointGrant = (g: { action: string; resource: unknown }) =>
      g.action === 's3:ListBucket' || JSON.stringify(g.resource).includes('/state/checkpoints/*');
    expect(s3Grants(s.stateless.api.role)).toEqual([{ action: 's3:GetObject', resource: refreshObjects }]);
    expect(s3Grants(s.stateless.planner.role).filter((g) => !checkpointGrant(g))).toEqual([
      { action: 's3:GetObject', resource: refreshObjects },
    ]);
  });

  it('gives the scheduled refresh and the sender no S3 access: sizes come from the refresh ledger', () => {
    for (const fn of [s.stateless.refresh, s.stateless.sender, s.stateless.watchdog]) {
      expect(s3Grants(fn.role)).toEqual([]);
    }
  });

  it('lets the arrival get refresh objects and list the bucket, so a missing file reads as missing', () => {
    expect(s3Grants(arrival().fn.role)).toEqual([
      { action: 's3:GetObject', resource: refreshObjects },
      { action: 's3:ListBucket', resource: imported('SegmentBucketArn') },
    ]);
  });

  it('lets the arrival record refreshes, queue planning and notify; never send, read keys or touch the segment table', () => {
    const grants = grantsOfRole(arrival().fn.role);
    const on = (action: string) =>
      grants.filter((g) => g.action === action).map((g) => JSON.stringify(g.resource));
    expect(on('dynamodb:PutItem').join()).toContain('StateTableArn');
    expect(on('sqs:SendMessage').sort()).toEqual(
      [
        JSON.stringify({ 'Fn::GetAtt': [idOf(s.stateless.planQueue.queue), 'Arn'] }),
        JSON.stringify({ 'Fn::GetAtt': [idOf(arrival().rule.deadLetterQueue), 'Arn'] }),
      ].sort(),
    );
    expect(on('sns:Publish')).toEqual([JSON.stringify({ Ref: idOf(s.stateless.notifications.topic) })]);
    expect(grants.some((g) => g.action.startsWith('secretsmanager:'))).toBe(false);
    expect(grants.some((g) => JSON.stringify(g.resource).includes('SegmentTableArn'))).toBe(false);
    expect(grants.some((g) => JSON.stringify(g.resource).includes(idOf(s.stateless.sendQueue.queue)))).toBe(
      false,
    );
  });

  it('never touches the segment table when segments come from S3', () => {
    expect(JSON.stringify(s.statelessTemplate.toJSON())).not.toContain('SegmentTableArn');
  });
});

describe('segmentSource: dynamodb', () => {
  let d: Synthesized;
  beforeAll(() => {
    d = synthesize({ segmentSource: 'dynamodb' });
  });

  it('reads the segment table as before: no arrival, no rule, no S3 access but the planner’s checkpoints', () => {
    expect(d.stateless.arrival).toBeUndefined();
    d.statelessTemplate.resourceCountIs('AWS::Events::Rule', 0);
    const planner = resourcesOf(d.statelessTemplate, 'AWS::Lambda::Function')[idOf(d.stateless.planner.fn)]
      ?.Properties as { Environment: { Variables: Record<string, unknown> } };
    expect(planner.Environment.Variables.SEGMENT_SOURCE).toBe('dynamodb');
    expect(planner.Environment.Variables.SEGMENT_BUCKET).toBeUndefined();
    const roles = identityStatements(d.statelessTemplate);
    for (const fn of [d.stateless.planner, d.stateless.refresh, d.stateless.api]) {
      const grants = grantsOf(roles.get(idOf(fn.role)) ?? []);
      const s3 = grants.filter((g) => g.action.startsWith('s3:'));
      if (fn === d.stateless.planner) {
        // The segment bucket exists whatever the source; only checkpoints are the planner's there.
        const objects = s3.filter((g) => g.action !== 's3:ListBucket').map((g) => JSON.stringify(g.resource));
        expect(objects).toHaveLength(4); // get, put, delete, abort an upload in parts
        for (const r of objects) expect(r).toContain('"/state/checkpoints/*"');
      } else {
        expect(s3).toEqual([]);
      }
      const table = grants.filter((g) => JSON.stringify(g.resource).includes('SegmentTableArn'));
      expect(table.some((g) => g.action === 'dynamodb:Query')).toBe(true);
      expect(table.some((g) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(g.action))).toBe(false);
    }
  });
});
