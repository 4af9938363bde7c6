import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  ApiEnvSchema,
  BaseEnvSchema,
  PlannerEnvSchema,
  SenderEnvSchema,
  WatchdogEnvSchema,
} from '#functions/shared/env.ts';
import { effectiveHeapFlags, lambdaNodeFlags } from '../../bench/lib/lambda-node-flags.ts';
import { METRICS_NAMESPACE, SECRET_PREFIX, SERVICE_NAME } from '../../cdk/config.ts';
import { HouseFunction, type HouseFunctionProps } from '../../cdk/constructs/house-function.ts';
import { ROUTES } from '../../cdk/constructs/http-api.ts';
import { MAX_RECEIVE_COUNT } from '../../cdk/constructs/work-queue.ts';
import {
  KEY_CHECK_TIMEOUT,
  PLANNER_MALLOC_ENV,
  PLANNER_SEMI_SPACE_MB,
  SENDER_MALLOC_ENV,
  SENDER_NODE_OPTIONS,
  SIZING,
} from '../../cdk/stacks/stateless-stack.ts';
import { idOf, resourcesOf, type Synthesized, synthesize } from './support.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesize({ senderMaxConcurrency: '7', alertEmail: 'ops@example.com' });
});

type FnName = 'Planner' | 'Refresh' | 'RefreshArrival' | 'Sender' | 'Api' | 'Watchdog';
const house = (name: FnName) => {
  const fn = {
    Planner: s.stateless.planner,
    Refresh: s.stateless.refresh,
    RefreshArrival: s.stateless.arrival,
    Sender: s.stateless.sender,
    Api: s.stateless.api,
    Watchdog: s.stateless.watchdog,
  }[name];
  if (!fn) throw new Error(`no ${name} function`);
  return fn;
};
const fnId = (name: FnName): string => idOf(house(name).fn);
const fnProps = (name: FnName) =>
  resourcesOf(s.statelessTemplate, 'AWS::Lambda::Function')[fnId(name)]?.Properties as {
    Environment: { Variables: Record<string, unknown> };
    [k: string]: unknown;
  };
const queueId = (path: string): string => {
  const q = {
    PlanQueueQueue: s.stateless.planQueue.queue,
    PlanQueueDeadLetterQueue: s.stateless.planQueue.deadLetterQueue,
    SendQueueQueue: s.stateless.sendQueue.queue,
    SendQueueDeadLetterQueue: s.stateless.sendQueue.deadLetterQueue,
  }[path];
  if (!q) throw new Error(`no queue ${path}`);
  return idOf(q);
};

describe('scheduled refresh', () => {
  it("invokes the planner's scheduledRefresh handler with the scheduled-refresh input on the default cron, in UTC", () => {
    expect(fnProps('Refresh').Handler).toBe('index.scheduledRefresh');
    s.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fnId('Refresh'), 'Arn'] },
        Input: JSON.stringify({ kind: 'scheduled-refresh' }),
      }),
    });
  });

  it('uses the configured cron and IANA time zone', () => {
    const custom = synthesize({ refreshCron: '30 6 ? * MON-FRI *', timeZone: 'Europe/Berlin' });
    custom.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });
});

describe('HTTP API', () => {
  const routes = () =>
    Object.values(resourcesOf(s.statelessTemplate, 'AWS::ApiGatewayV2::Route')).map(
      (r) =>
        r.Properties as {
          RouteKey: string;
          AuthorizationType?: string;
          AuthorizerId?: unknown;
          Target: unknown;
        },
    );

  it('declares exactly the listed routes, no greedy proxy', () => {
    expect(
      routes()
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    expect(routes().some((r) => r.RouteKey.includes('+') || r.RouteKey === '$default')).toBe(false);
  });

  it('puts the JWT authorizer on every route except GET /openapi.json', () => {
    const authorizers = Object.keys(resourcesOf(s.statelessTemplate, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const authorizerId = authorizers[0];
    for (const r of routes()) {
      if (r.RouteKey === 'GET /openapi.json') {
        expect(r.AuthorizationType ?? 'NONE').toBe('NONE');
        expect(r.AuthorizerId).toBeUndefined();
      } else {
        expect({ route: r.RouteKey, type: r.AuthorizationType, id: r.AuthorizerId }).toEqual({
          route: r.RouteKey,
          type: 'JWT',
          id: { Ref: authorizerId },
        });
      }
    }
  });

  it("trusts the stack user pool as issuer, and its API client and the console's client as audiences", () => {
    const authorizer = Object.values(resourcesOf(s.statelessTemplate, 'AWS::ApiGatewayV2::Authorizer'))[0]
      ?.Properties as {
      JwtConfiguration: { Issuer: unknown; Audience: unknown[] };
      IdentitySource: string[];
    };
    const identity = s.stateful.identity;
    if (!identity) throw new Error('the default config creates a user pool');
    const exported = (value: unknown): unknown => {
      const outputs = Object.values(s.statefulTemplate.toJSON().Outputs) as {
        Value: unknown;
        Export?: unknown;
      }[];
      return outputs.find((o) => o.Export && JSON.stringify(o.Value) === JSON.stringify(value))?.Export;
    };
    const issuerExport = exported({ 'Fn::GetAtt': [idOf(identity.userPool), 'ProviderURL'] }) as {
      Name: string;
    };
    const audienceExport = exported({ Ref: idOf(identity.client) }) as { Name: string };
    expect(authorizer.JwtConfiguration.Issuer).toEqual({ 'Fn::ImportValue': issuerExport.Name });
    expect(authorizer.JwtConfiguration.Audience).toEqual([
      { 'Fn::ImportValue': audienceExport.Name },
      { Ref: idOf(s.stateless.console.signIn?.client ?? s.stateless) },
    ]);
    expect(authorizer.IdentitySource).toEqual(['$request.header.Authorization']);
  });

  it('sends every route to the API function, POST /exports/{id}/runs included', () => {
    const integrations = resourcesOf(s.statelessTemplate, 'AWS::ApiGatewayV2::Integration');
    const functionOf = (target: unknown): string => {
      const integrationId = JSON.stringify(target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
      return JSON.stringify(integrations[integrationId]?.Properties?.IntegrationUri);
    };
    expect(routes().map((r) => r.RouteKey)).toContain('POST /exports/{id}/runs');
    for (const r of routes()) expect(functionOf(r.Target), r.RouteKey).toContain(fnId('Api'));
    expect(Object.keys(integrations)).toHaveLength(1);
  });

  it('logs access to a log group and throttles the stage', () => {
    s.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HttpApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('requestId'),
      },
    });
  });
});

describe('queues and event sources', () => {
  it('redrives both work queues to their DLQ after 5 receives', () => {
    for (const name of ['PlanQueue', 'SendQueue']) {
      const queue = resourcesOf(s.statelessTemplate, 'AWS::SQS::Queue')[queueId(`${name}Queue`)];
      expect(queue?.Properties?.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId(`${name}DeadLetterQueue`), 'Arn'] },
        maxReceiveCount: 5,
      });
    }
  });

  it('encrypts every queue, refuses plain HTTP, and keeps dead letters 14 days', () => {
    const queues = resourcesOf(s.statelessTemplate, 'AWS::SQS::Queue');
    // Plan and send queues with their DLQs, and the refresh arrival's DLQ.
    expect(Object.keys(queues)).toHaveLength(5);
    for (const [id, q] of Object.entries(queues)) {
      expect(q.Properties?.SqsManagedSseEnabled, id).toBe(true);
      if (id.includes('DeadLetter')) expect(q.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
    const policies = Object.values(resourcesOf(s.statelessTemplate, 'AWS::SQS::QueuePolicy'));
    const secured = policies.flatMap((p) =>
      (
        (p.Properties as { PolicyDocument: { Statement: { Effect: string; Condition?: unknown }[] } })
          .PolicyDocument.Statement as { Effect: string; Condition?: unknown }[]
      )
        .filter(
          (st) =>
            st.Effect === 'Deny' &&
            JSON.stringify(st.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        )
        .map(() => (p.Properties as { Queues: unknown[] }).Queues),
    );
    expect(
      secured
        .flat()
        .map((q) => (q as { Ref: string }).Ref)
        .sort(),
    ).toEqual(Object.keys(queues).sort());
  });

  it('gives each queue a visibility timeout of six times its consumer timeout', () => {
    const queues = resourcesOf(s.statelessTemplate, 'AWS::SQS::Queue');
    expect(queues[queueId('PlanQueueQueue')]?.Properties?.VisibilityTimeout).toBe(
      SIZING.planner.timeout.toSeconds() * 6,
    );
    expect(queues[queueId('SendQueueQueue')]?.Properties?.VisibilityTimeout).toBe(
      SIZING.sender.timeout.toSeconds() * 6,
    );
  });

  it('feeds the sender 5 messages at a time with partial batch responses and the configured max concurrency', () => {
    s.statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('Sender') },
      EventSourceArn: { 'Fn::GetAtt': [queueId('SendQueueQueue'), 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 7 },
    });
  });

  it('makes the send queue and its DLQ FIFO with explicit deduplication ids; the plan queue stays standard', () => {
    const queues = resourcesOf(s.statelessTemplate, 'AWS::SQS::Queue');
    for (const id of ['SendQueueQueue', 'SendQueueDeadLetterQueue']) {
      expect(queues[queueId(id)]?.Properties?.FifoQueue, id).toBe(true);
    }
    expect(queues[queueId('SendQueueQueue')]?.Properties?.ContentBasedDeduplication).toBe(false);
    for (const id of ['PlanQueueQueue', 'PlanQueueDeadLetterQueue']) {
      expect(queues[queueId(id)]?.Properties?.FifoQueue, id).toBeUndefined();
    }
  });

  it('gives the FIFO send source no batching window and at most 10 messages an invocation', () => {
    const mappings = Object.values(resourcesOf(s.statelessTemplate, 'AWS::Lambda::EventSourceMapping'));
    const sender = mappings.find(
      (m) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify({ Ref: fnId('Sender') }),
    );
    expect(sender?.Properties?.MaximumBatchingWindowInSeconds).toBeUndefined();
    expect(sender?.Properties?.BatchSize).toBeLessThanOrEqual(10);
  });

  it("feeds the planner's planMessage handler one plan message at a time, at most two planners", () => {
    expect(fnProps('Planner').Handler).toBe('index.planMessage');
    s.statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('Planner') },
      EventSourceArn: { 'Fn::GetAtt': [queueId('PlanQueueQueue'), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    s.statelessTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });
});

describe('functions', () => {
  it.each([
    ['Planner', 'planMessage', 900, 1024],
    ['Refresh', 'scheduledRefresh', 300, 512],
    ['RefreshArrival', 'refreshArrived', 900, 1024],
    ['Sender', 'handler', 300, 128],
    ['Api', 'handler', 10, 512],
    ['Watchdog', 'handler', 60, 256],
  ] as const)(
    '%s: index.%s, arm64, Node.js 24, CommonJS with source maps, %i s, %i MB, own log group',
    (name, handler, timeout, memory) => {
      const props = fnProps(name);
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: `index.${handler}`,
        Timeout: timeout,
        MemorySize: memory,
      });
      expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: idOf(house(name).logGroup) } });
      expect(String(props.Environment.Variables.NODE_OPTIONS).split(' ')).toContain('--enable-source-maps');
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const logs = resourcesOf(s.statelessTemplate, 'AWS::Logs::LogGroup')[idOf(house(name).logGroup)];
      expect(logs?.Properties?.RetentionInDays).toBe(30);
    },
  );

  // Lambda's bootstrap passes its own heap limits only when NODE_OPTIONS names neither.
  it.each(['Planner', 'RefreshArrival'] as const)(
    '%s runs with the measured young generation and the old space the runtime would give',
    (name) => {
      const props = fnProps(name);
      const runtimeOldSpace = lambdaNodeFlags(props.MemorySize as number).find((f) =>
        f.startsWith('--max-old-space-size='),
      );
      expect(String(props.Environment.Variables.NODE_OPTIONS).split(' ')).toEqual([
        '--enable-source-maps',
        `--max-semi-space-size=${PLANNER_SEMI_SPACE_MB}`,
        runtimeOldSpace,
      ]);
    },
  );

  it('Sender runs with its measured heap limits: both named, so the runtime adds none of its own', () => {
    const props = fnProps('Sender');
    const nodeOptions = String(props.Environment.Variables.NODE_OPTIONS).split(' ');
    expect(nodeOptions).toEqual(['--enable-source-maps', ...SENDER_NODE_OPTIONS]);
    expect(effectiveHeapFlags(props.MemorySize as number, nodeOptions)).toEqual([...SENDER_NODE_OPTIONS]);
    // Young generation (three semi-spaces at most) and old space stay well inside the function's memory.
    const mb = (flag: string) =>
      Number(SENDER_NODE_OPTIONS.find((f) => f.startsWith(flag))?.split('=')[1] ?? Number.NaN);
    expect(3 * mb('--max-semi-space-size=') + mb('--max-old-space-size=')).toBeLessThan(
      props.MemorySize as number,
    );
    expect(SIZING.sender.memorySize).toBe(128);
  });

  it('Sender has glibc told to keep two arenas and hand freed memory back', () => {
    expect(fnProps('Sender').Environment.Variables).toMatchObject(SENDER_MALLOC_ENV);
    expect(SENDER_MALLOC_ENV).toEqual({
      MALLOC_ARENA_MAX: '2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      MALLOC_TRIM_THRESHOLD_: '131072',
    });
  });

  it.each(['Refresh', 'Api', 'Watchdog'] as const)(
    '%s leaves the heap limits to the runtime: NODE_OPTIONS names none',
    (name) => {
      expect(fnProps(name).Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    },
  );

  it("runs the planner's one bundle as three functions: the same asset, each with its own handler", () => {
    expect(fnProps('Refresh').Code).toEqual(fnProps('Planner').Code);
    expect(fnProps('RefreshArrival').Code).toEqual(fnProps('Planner').Code);
    const handlers = new Set(
      ['Planner', 'Refresh', 'RefreshArrival'].map((n) => fnProps(n as FnName).Handler),
    );
    expect(handlers.size).toBe(3);
    expect(fnProps('Sender').Code).not.toEqual(fnProps('Planner').Code);
  });

  it('refuses a handler its entry does not export', () => {
    const stack = new Stack(new App(), 'HandlerCheck');
    const props = { description: 'x', timeout: Duration.seconds(1), memorySize: 128, environment: {} };
    // The planner exports named handlers only: no `index.handler`.
    const untyped = { name: 'planner', ...props } as unknown as HouseFunctionProps;
    expect(() => new HouseFunction(stack, 'Planner', untyped)).toThrow(
      'functions/planner/index.ts exports no handler "handler"',
    );
  });

  // Keys the house construct adds for Powertools and Node, outside the functions' own schemas.
  const HOUSE_KEYS = [
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_LOG_LEVEL',
    'NODE_OPTIONS',
    // Read by the C library (glibc's allocator), not by the function's code.
    ...Object.keys(PLANNER_MALLOC_ENV),
    ...Object.keys(SENDER_MALLOC_ENV),
  ];
  // Requested in ApiEnvSchema (the connection's default rate budget); allowed until it lands.
  const schemas = {
    Planner: PlannerEnvSchema,
    Refresh: PlannerEnvSchema,
    RefreshArrival: PlannerEnvSchema,
    Sender: SenderEnvSchema,
    Api: ApiEnvSchema,
    Watchdog: WatchdogEnvSchema,
  } as const;

  it.each(Object.keys(schemas) as (keyof typeof schemas)[])(
    '%s gets every variable its env schema requires, and none it does not know',
    (name) => {
      const schema = schemas[name] as unknown as z.ZodObject;
      const env = fnProps(name).Environment.Variables;
      const required = Object.entries(schema.shape)
        .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
        .map(([key]) => key);
      expect(required.length).toBeGreaterThan(0);
      for (const key of required) expect(env, `${name} lacks ${key}`).toHaveProperty(key);
      const known = new Set([...Object.keys(schema.shape), ...HOUSE_KEYS]);
      expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
      // Deploy-time values (table names, queue URLs, ARNs) stand in as a URL, valid for any string field.
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'https://sqs.eu-west-1.amazonaws.com/1/q',
        ]),
      );
      const parsed = (schemas[name] as z.ZodType).safeParse(resolved);
      expect(parsed.error?.issues ?? []).toEqual([]);
    },
  );

  it('passes the configured default rate budget to the API', () => {
    expect(synthesize({ defaultRatePerSecond: '3' }).statelessTemplate.toJSON()).toMatchObject({
      Resources: {
        [fnId('Api')]: { Properties: { Environment: { Variables: { DEFAULT_RATE_PER_SECOND: '3' } } } },
      },
    });
  });

  it('passes the configured audit retention to the API, which writes the trail', () => {
    expect(fnProps('Api').Environment.Variables.AUDIT_RETENTION_DAYS).toBe('400');
    expect(synthesize({ auditRetentionDays: '90' }).statelessTemplate.toJSON()).toMatchObject({
      Resources: {
        [fnId('Api')]: { Properties: { Environment: { Variables: { AUDIT_RETENTION_DAYS: '90' } } } },
      },
    });
  });

  it('leaves the Autopilot URL and the default rate to the client unless the deploy config sets them', () => {
    for (const name of ['Api', 'Planner', 'Sender'] as const) {
      const env = fnProps(name).Environment.Variables;
      expect(env.AUTOPILOT_BASE_URL).toBeUndefined();
      expect(env.DEFAULT_RATE_PER_SECOND).toBeUndefined();
    }
    const configured = synthesize({
      autopilotBaseUrl: 'https://proxy.example.com/v1/',
    }).statelessTemplate.toJSON();
    expect(configured).toMatchObject({
      Resources: {
        [fnId('Sender')]: {
          Properties: { Environment: { Variables: { AUTOPILOT_BASE_URL: 'https://proxy.example.com/v1' } } },
        },
      },
    });
  });

  it("tells the sender the send queue's redrive limit, so its last delivery records what still fails", () => {
    expect(fnProps('Sender').Environment.Variables.MAX_RECEIVE_COUNT).toBe(String(MAX_RECEIVE_COUNT));
    s.statelessTemplate.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: MAX_RECEIVE_COUNT }),
    });
  });

  it("checks API keys within the API's own timeout, so a slow Autopilot is a 503, never a timed-out function", () => {
    const api = fnProps('Api');
    expect(api.Environment.Variables.KEY_CHECK_TIMEOUT_MS).toBe(String(KEY_CHECK_TIMEOUT.toMilliseconds()));
    expect(KEY_CHECK_TIMEOUT.toMilliseconds()).toBeLessThan((api.Timeout as number) * 1000 - 2_000);
  });

  it('runs the watchdog every 5 minutes with the configured stall time', () => {
    s.statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId('Watchdog'), 'Arn'] } }),
    });
    expect(fnProps('Watchdog').Environment.Variables.STALL_AFTER_MINUTES).toBe('30');
    const other = synthesize({ stallAfterMinutes: '90' });
    expect(JSON.stringify(other.statelessTemplate.toJSON())).toContain('"STALL_AFTER_MINUTES":"90"');
  });

  it('shares the secret prefix and service name with the runtime defaults', () => {
    expect(BaseEnvSchema.shape.SECRET_PREFIX.parse(undefined)).toBe(SECRET_PREFIX);
    expect(BaseEnvSchema.shape.POWERTOOLS_SERVICE_NAME.parse(undefined)).toBe(SERVICE_NAME);
    expect(fnProps('Planner').Environment.Variables.SECRET_PREFIX).toBe(SECRET_PREFIX);
  });
});

describe('alarms, notifications and dashboard', () => {
  const topicRef = () => ({ Ref: idOf(s.stateless.notifications.topic) });

  it('publishes to a KMS-encrypted, TLS-only topic and subscribes the alert e-mail', () => {
    s.statelessTemplate.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsKey'), 'Arn'] },
    });
    s.statelessTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    s.statelessTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef(),
    });
    s.statelessTemplate.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: Match.objectLike({
              StringEquals: { 'aws:SourceAccount': Match.anyValue() },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            }),
          }),
        ]),
      },
    });
    for (const name of ['Planner', 'Sender']) {
      expect(fnProps(name as 'Planner').Environment.Variables.NOTIFY_TOPIC_ARN).toEqual(topicRef());
    }
  });

  it('subscribes nobody without an alert e-mail', () => {
    synthesize().statelessTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('alarms on messages in either DLQ', () => {
    for (const dlq of ['PlanQueueDeadLetterQueue', 'SendQueueDeadLetterQueue']) {
      s.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(dlq), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [topicRef()],
      });
    }
  });

  it.each([
    ['RunsFailed', 1],
    ['RunsCompletedWithErrors', 1],
    ['DestinationThrottled', 50],
  ])('alarms on the EMF metric %s (namespace AutopilotExport, dimension service)', (metric, threshold) => {
    s.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: metric,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: threshold,
      AlarmActions: [topicRef()],
    });
  });

  it.each(['Errors', 'Throttles'])('alarms on Lambda %s of every function', (metric) => {
    for (const name of ['Planner', 'Refresh', 'RefreshArrival', 'Sender', 'Api', 'Watchdog'] as const) {
      s.statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
        AlarmActions: [topicRef()],
      });
    }
  });

  it('has a dashboard with runs, contacts, requests vs throttled, queue depths and function health', () => {
    const dashboard = Object.values(resourcesOf(s.statelessTemplate, 'AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const title of [
      'Runs by status',
      'Contacts',
      'Autopilot requests vs throttled (429)',
      'Queue depth (visible messages)',
      'Function errors and throttles',
      'Function duration (p95, ms)',
    ]) {
      expect(body).toContain(title);
    }
  });

  it('outputs every stack output docs/deploy.md and the README name', () => {
    const named = new Set(
      ['docs/deploy.md', 'README.md'].flatMap((doc) =>
        [...readFileSync(doc, 'utf8').matchAll(/`([A-Z][A-Za-z]+(?:Name|Url|Arn|Id))`/g)].map((m) => m[1]),
      ),
    );
    // The upload role's output exists only with segmentUploaderPrincipals.
    const withUploader = synthesize({ segmentUploaderPrincipals: 'arn:aws:iam::123456789012:root' });
    const outputs = new Set(
      [s, withUploader].flatMap((t) => [
        ...Object.keys(t.statelessTemplate.toJSON().Outputs),
        ...Object.keys(t.statefulTemplate.toJSON().Outputs),
      ]),
    );
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !outputs.has(name as string))).toEqual([]);
  });
});
