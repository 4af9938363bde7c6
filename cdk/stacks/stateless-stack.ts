import { ArnFormat, CfnOutput, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { type ConsoleConfig, type DeployConfig, SECRET_PREFIX } from '../config.ts';
import { Console } from '../constructs/console.ts';
import { HouseFunction } from '../constructs/house-function.ts';
import { HttpApi } from '../constructs/http-api.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { Notifications } from '../constructs/notifications.ts';
import { ARRIVAL_ASYNC, RefreshArrivalRule } from '../constructs/refresh-arrival-rule.ts';
import { RefreshSchedule } from '../constructs/refresh-schedule.ts';
import { checkpointAccess, segmentAccess } from '../constructs/segment-access.ts';
import { WatchdogSchedule } from '../constructs/watchdog-schedule.ts';
import { MAX_RECEIVE_COUNT, WorkQueue } from '../constructs/work-queue.ts';
import type { SegmentSourceKind } from '../segment-config.ts';
import type { BucketRef, ConsoleIdentity, JwtTrust, TableRef } from './stateful-stack.ts';

export interface StatelessStackProps extends StackProps {
  config: DeployConfig;
  stateTable: TableRef;
  segmentTable: TableRef;
  segmentBucket: BucketRef;
  jwt: JwtTrust;
  /** How the console signs in; its client id joins the API's accepted audiences. */
  consoleIdentity: ConsoleIdentity;
}

/**
 * Function sizing; the planner checkpoints and continues via its queue when 15 minutes are not
 * enough. The scheduled refresh only records a run and queues its planning per export (a few
 * requests each), so minutes cover thousands of exports.
 */
export const SIZING = {
  planner: { timeout: Duration.minutes(15), memorySize: 1024 },
  refresh: { timeout: Duration.minutes(5), memorySize: 512 },
  /** Verifies a refresh's declared rows and checksums by reading its files before any export starts. */
  arrival: { timeout: Duration.minutes(15), memorySize: 1024 },
  /**
   * By measurement (`npx tsx bench/sender-sizing.ts --memory 128,256,512`, 2 vCPU AMD EPYC, Node 24.21):
   * at 128 MB, with SENDER_NODE_OPTIONS and SENDER_MALLOC_ENV, peak RSS 96–97 MB (init 78–79 MB), 31 MB
   * under its memory; 1.5 ms of CPU per list-mode request and 14 ms per 100-contact bulk upsert, so its
   * CPU share drives 47 list / 5.1 bulk requests/s where one sender needs 5 and, with 3 send lanes at
   * 5/s, 1.7: at most 44% of its share. Modelled cold start 2.8 s, once per execution environment.
   * 256 MB (the runtime's heap limits) peaked at 122–124 MB and drove 94–102 list / 10.9 bulk
   * requests/s for twice the bill of a sender that waits on the rate budget; 512 MB doubles it again.
   */
  sender: { timeout: Duration.minutes(5), memorySize: 128 },
  api: { timeout: Duration.seconds(10), memorySize: 512 },
  watchdog: { timeout: Duration.minutes(1), memorySize: 256 },
} as const;

/**
 * The planner's young generation, MB per semi-space, chosen by measurement (`bench/planner.ts`,
 * 100,000 profiles, 1024 MB, scenario medians of 3): maxRSS 313–371 MB under the runtime's own 51 MB,
 * 252–279 at 32, 221–240 at 16 (one run 261), 209–231 at 8 (no run over 240), while profiles read/s
 * stayed 28,000–48,000 at every size. Target: ≤ 256 MB at ≥ 20,000/s.
 */
export const PLANNER_SEMI_SPACE_MB = 8;

/**
 * V8 heap flags for a planner function of `memoryMB`. Lambda's Node.js bootstrap passes its own heap
 * limits only when NODE_OPTIONS names neither (with one named, V8's default stands for the other), so
 * the old space it would have given (nine tenths of the memory) is restated here.
 */
export const plannerNodeOptions = (memoryMB: number, semiSpaceMB = PLANNER_SEMI_SPACE_MB): string[] => [
  `--max-semi-space-size=${semiSpaceMB}`,
  `--max-old-space-size=${memoryMB - Math.floor(memoryMB / 10)}`,
];

/**
 * glibc's allocator for the planner: a block of 128 KB or more gets pages of its own, handed back to
 * the system when freed, and free memory at the top of the heap is returned past 128 KB. By default
 * glibc keeps what a phase frees, so a run's resident set climbs phase by phase (snapshot, segment
 * files, checkpoint) and never comes down. Measured (bench/million.ts, 1,000,000 profiles, a 512 MB
 * function's heap limits): first export 453–476 → 406–430 MB, 1% re-run 601–652 → 554–560 MB,
 * planning time unchanged. Lambda does not reserve these variables; its Node.js runs on glibc.
 */
export const PLANNER_MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;

/**
 * The sender's V8 heap limits at its 128 MB (SIZING.sender); both named, so Lambda's bootstrap adds
 * none. Its own would be 6 MB semi-spaces and 116 MB of old space, limits the sender never needs (its
 * heap holds ~20–25 MB, most of it code and source) but lets its heap grow towards: peak RSS 111–116 MB
 * at 128 MB (bench/sender-sizing.ts `--heap 128:old=116,semi=6 --glibc-defaults`, 2 runs), against
 * 98–101 MB with these (96–97 MB with SENDER_MALLOC_ENV). The price is CPU, from more scavenges:
 * ~1.55 against 1.41 ms per list request, ~14.3 against 13.6 ms per bulk upsert.
 */
export const SENDER_NODE_OPTIONS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;

/**
 * glibc's allocator for the sender: two arenas rather than one per thread (up to 8 per core), and
 * the planner's return of freed blocks (PLANNER_MALLOC_ENV). Measured at 128 MB with
 * SENDER_NODE_OPTIONS (bench/sender-sizing.ts): peak RSS 95.6–97.2 MB in 5 runs against
 * 98.1–100.9 MB in 3 without (`--glibc-defaults`), init 78 against 81 MB, CPU per request unchanged.
 */
export const SENDER_MALLOC_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;

/**
 * How long the API waits for Autopilot when it checks a key: well inside the API's own timeout, so a
 * slow Autopilot is a 503 the admin can retry, not a timed-out function (a 500).
 */
export const KEY_CHECK_TIMEOUT = Duration.seconds(6);

/** How often the watchdog looks for stalled runs. */
export const WATCHDOG_EVERY = Duration.minutes(5);

/** Plan messages are processed one at a time, by at most two planners. */
export const PLANNER_EVENT_SOURCE = { batchSize: 1, maxConcurrency: 2 } as const;
/**
 * Messages per sender invocation (at most 10 from a FIFO queue); the sender works on all of them at
 * once (SENDER_PARALLELISM). They may be several batches of one connection, in their group's order.
 */
export const SENDER_BATCH_SIZE = 5;

/** Actions per secret: planner and sender only read; the API manages the keys. */
export const SECRET_ACTIONS = {
  read: ['secretsmanager:GetSecretValue'],
  manage: [
    'secretsmanager:CreateSecret',
    'secretsmanager:PutSecretValue',
    'secretsmanager:DeleteSecret',
    'secretsmanager:RestoreSecret',
    'secretsmanager:GetSecretValue',
  ],
} as const;

/**
 * Everything replaceable: functions, queues, the API, the schedule, alarms and dashboard. Each
 * function gets exactly the access its code uses.
 */
export class StatelessStack extends Stack {
  /** The planner's plan-queue consumer (`index.planMessage`). */
  readonly planner: HouseFunction;
  /** The planner's scheduled refresh (`index.scheduledRefresh`), same bundle. */
  readonly refresh: HouseFunction;
  /** The planner's refresh arrival (`index.refreshArrived`), same bundle; with `segmentSource: s3` only. */
  readonly arrival?: HouseFunction;
  readonly arrivalRule?: RefreshArrivalRule;
  readonly sender: HouseFunction;
  readonly api: HouseFunction;
  readonly watchdog: HouseFunction;
  readonly watchdogSchedule: WatchdogSchedule;
  readonly planQueue: WorkQueue;
  readonly sendQueue: WorkQueue;
  readonly notifications: Notifications;
  readonly httpApi: HttpApi;
  readonly schedule: RefreshSchedule;
  readonly monitoring: Monitoring;
  readonly console: Console;
  readonly consoleConfig: ConsoleConfig;
  /** Where the functions read segments (deploy config `segmentSource`). */
  readonly segmentSource: SegmentSourceKind;
  /** `arn:…:secret:autopilot-export/connections/*` (secret ARNs end in a random suffix). */
  readonly secretArnPattern: string;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.consoleConfig = config.console;
    this.segmentSource = config.segments.source;
    const stateTable = Table.fromTableAttributes(this, 'StateTable', {
      tableArn: props.stateTable.tableArn,
      globalIndexes: props.stateTable.indexes,
    });
    const segmentReads = segmentAccess(this, this.segmentSource, {
      bucket: props.segmentBucket,
      table: props.segmentTable,
    });

    const checkpoints = checkpointAccess(props.segmentBucket);

    this.notifications = new Notifications(this, 'Notifications', {
      ...(config.alertEmail ? { alertEmail: config.alertEmail } : {}),
    });
    const { alarmAction, topic } = this.notifications;
    this.planQueue = new WorkQueue(this, 'PlanQueue', {
      purpose: 'plan',
      consumerTimeout: SIZING.planner.timeout,
      alarmAction,
    });
    // FIFO, one message group per send lane of a connection: Lambda gives a group's messages to one
    // invocation at a time. Batches of many requests share lane 0, so one sender works them and
    // pipelines its requests; one-request batches go round just enough lanes to keep the budget's
    // requests in flight (planning/lanes.ts). Never a second function paid to wait on the same budget.
    this.sendQueue = new WorkQueue(this, 'SendQueue', {
      purpose: 'send',
      consumerTimeout: SIZING.sender.timeout,
      alarmAction,
      fifo: true,
    });

    const consoleDomain = config.console.domain?.name;
    const common = {
      STATE_TABLE: stateTable.tableName,
      SECRET_PREFIX,
      ...(config.autopilotBaseUrl === undefined ? {} : { AUTOPILOT_BASE_URL: config.autopilotBaseUrl }),
      // Run links in notifications. Only a custom domain is known before the functions exist: the
      // distribution's own name would make a cycle (function → distribution → API → function), so
      // without one the links name the run's API path.
      ...(consoleDomain === undefined ? {} : { CONSOLE_URL: `https://${consoleDomain}` }),
    };
    const segments = segmentReads.environment;

    const plannerEnvironment = {
      ...common,
      ...segments,
      NOTIFY_TOPIC_ARN: topic.topicArn,
      PLAN_QUEUE_URL: this.planQueue.queue.queueUrl,
      PLAN_DLQ_URL: this.planQueue.deadLetterQueue.queueUrl,
      SEND_QUEUE_URL: this.sendQueue.queue.queueUrl,
    };
    this.planner = new HouseFunction(this, 'Planner', {
      name: 'planner',
      handler: 'planMessage',
      description: 'autopilot-export planner: plans runs and continues them from checkpoints (plan queue)',
      ...SIZING.planner,
      // Only the planner plans, so only it knows where checkpoints are (and may touch them).
      environment: { ...plannerEnvironment, ...checkpoints.environment, ...PLANNER_MALLOC_ENV },
      nodeOptions: plannerNodeOptions(SIZING.planner.memorySize),
    });
    // Same bundle and settings as the planner (its env schema); only its grants are narrower.
    this.refresh = new HouseFunction(this, 'Refresh', {
      name: 'planner',
      handler: 'scheduledRefresh',
      description: 'autopilot-export scheduled refresh: starts a run of every scheduled export',
      ...SIZING.refresh,
      environment: plannerEnvironment,
    });
    if (this.segmentSource === 's3') {
      this.arrivalRule = new RefreshArrivalRule(this, 'RefreshArrivalRule', {
        bucketName: props.segmentBucket.bucketName,
        alarmAction,
      });
      this.arrival = new HouseFunction(this, 'RefreshArrival', {
        name: 'planner',
        handler: 'refreshArrived',
        description:
          'autopilot-export refresh arrival: a dropped manifest starts every scheduled export of its segments',
        ...SIZING.arrival,
        environment: plannerEnvironment,
        nodeOptions: plannerNodeOptions(SIZING.arrival.memorySize),
        asyncInvoke: { ...ARRIVAL_ASYNC, deadLetterQueue: this.arrivalRule.deadLetterQueue },
      });
      this.arrivalRule.deliverTo(this.arrival.fn);
    }
    this.sender = new HouseFunction(this, 'Sender', {
      name: 'sender',
      description: 'autopilot-export sender: sends batches to Autopilot within the rate budget',
      ...SIZING.sender,
      environment: {
        ...common,
        NOTIFY_TOPIC_ARN: topic.topicArn,
        SEND_QUEUE_URL: this.sendQueue.queue.queueUrl,
        SEND_DLQ_URL: this.sendQueue.deadLetterQueue.queueUrl,
        SENDER_PARALLELISM: String(SENDER_BATCH_SIZE),
        MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
        ...SENDER_MALLOC_ENV,
      },
      nodeOptions: SENDER_NODE_OPTIONS,
    });
    this.api = new HouseFunction(this, 'Api', {
      name: 'api',
      description: 'autopilot-export management API: connections, exports, runs, segments',
      ...SIZING.api,
      environment: {
        ...common,
        ...segments,
        PLAN_QUEUE_URL: this.planQueue.queue.queueUrl,
        ...(config.defaultRatePerSecond === undefined
          ? {}
          : { DEFAULT_RATE_PER_SECOND: String(config.defaultRatePerSecond) }),
        KEY_CHECK_TIMEOUT_MS: String(KEY_CHECK_TIMEOUT.toMilliseconds()),
        // Only the API writes the audit trail (every write route is the API's).
        AUDIT_RETENTION_DAYS: String(config.auditRetentionDays),
      },
    });
    this.watchdog = new HouseFunction(this, 'Watchdog', {
      name: 'watchdog',
      description: 'autopilot-export watchdog: ends runs that stopped moving, so no export stays wedged',
      ...SIZING.watchdog,
      environment: {
        ...common,
        NOTIFY_TOPIC_ARN: topic.topicArn,
        STALL_AFTER_MINUTES: String(config.stallAfterMinutes),
      },
    });

    this.secretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${SECRET_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const secrets = (actions: readonly string[]): PolicyStatement =>
      new PolicyStatement({ actions: [...actions], resources: [this.secretArnPattern] });

    // Planner: runs and snapshots; checkpoints in the segment bucket; reads segments; consumes and
    // feeds its own queue (continuations); feeds the send queue; reads API keys (list look-ups); notifies.
    const planner = this.planner.fn;
    stateTable.grantReadWriteData(planner);
    checkpoints.grant(planner);
    segmentReads.grantRead(planner);
    this.planQueue.queue.grantSendMessages(planner);
    // Unreadable plan messages go straight to the DLQ (retrying cannot make them readable).
    this.planQueue.deadLetterQueue.grantSendMessages(planner);
    planner.addEventSource(
      new SqsEventSource(this.planQueue.queue, { ...PLANNER_EVENT_SOURCE, reportBatchItemFailures: true }),
    );
    this.sendQueue.queue.grantSendMessages(planner);
    planner.addToRolePolicy(secrets(SECRET_ACTIONS.read));
    topic.grantPublish(planner);

    // Sender: progress and snapshots; consumes the send queue and requeues to it (throttled or
    // out-of-time batches); moves poison batches to the DLQ itself; reads API keys; notifies. On a
    // FIFO source: no batching window (Lambda refuses one), at most 10 messages per invocation, and
    // `maxConcurrency` caps the lanes worked at once (one invocation per group).
    const sender = this.sender.fn;
    stateTable.grantReadWriteData(sender);
    sender.addEventSource(
      new SqsEventSource(this.sendQueue.queue, {
        batchSize: SENDER_BATCH_SIZE,
        maxConcurrency: config.senderMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.sendQueue.queue.grantSendMessages(sender);
    this.sendQueue.deadLetterQueue.grantSendMessages(sender);
    sender.addToRolePolicy(secrets(SECRET_ACTIONS.read));
    topic.grantPublish(sender);

    // Refresh: exports and runs (records skipped and started runs); segment sizes for the estimate;
    // queues planning. Reads no keys, sends nothing to Autopilot, notifies no one.
    const refresh = this.refresh.fn;
    stateTable.grantReadWriteData(refresh);
    segmentReads.grantSizes(refresh);
    this.planQueue.queue.grantSendMessages(refresh);

    // Arrival: reads the manifest and verifies its files, records the refresh in the ledger and
    // starts runs as the refresh does; notifies a refresh it rejects. No keys, no send queue. It may
    // also list the bucket, so a file the manifest names but nobody uploaded answers 404 and the
    // refresh is rejected naming it, where a 403 would be retried as a permission problem.
    const arrival = this.arrival?.fn;
    if (arrival) {
      stateTable.grantReadWriteData(arrival);
      segmentReads.grantRead(arrival);
      arrival.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.segmentBucket.bucketArn] }),
      );
      this.planQueue.queue.grantSendMessages(arrival);
      topic.grantPublish(arrival);
    }

    // API: configuration and run records; segment list; starts runs by plan message; owns the keys.
    const api = this.api.fn;
    stateTable.grantReadWriteData(api);
    segmentReads.grantRead(api);
    this.planQueue.queue.grantSendMessages(api);
    api.addToRolePolicy(secrets(SECRET_ACTIONS.manage));

    // Watchdog: reads exports and runs, ends stalled runs (releasing their locks), notifies.
    const watchdog = this.watchdog.fn;
    stateTable.grantReadWriteData(watchdog);
    topic.grantPublish(watchdog);
    // A run it ends may be an export's change of health, told to the export's signed webhook.
    watchdog.addToRolePolicy(secrets(SECRET_ACTIONS.read));
    this.watchdogSchedule = new WatchdogSchedule(this, 'WatchdogSchedule', {
      watchdog,
      every: WATCHDOG_EVERY,
    });

    this.schedule = new RefreshSchedule(this, 'RefreshSchedule', {
      refresh,
      cron: config.refreshCron,
      timeZone: config.timeZone,
      alarmAction,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      api,
      jwtIssuer: props.jwt.issuer,
      // The console's Cognito client is created after the API (its callback is the distribution,
      // which fronts the API), so the authorizer reads its id at synth time.
      jwtAudience:
        props.consoleIdentity.kind === 'oidc'
          ? [...new Set([...props.jwt.audience, props.consoleIdentity.clientId])]
          : [...props.jwt.audience, Lazy.string({ produce: () => this.console.clientId })],
      alarmAction,
    });
    this.console = new Console(this, 'Console', {
      apiEndpoint: this.httpApi.url,
      identity: props.consoleIdentity,
      config: config.console,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      dashboardName: this.stackName,
      functions: { planner, refresh, sender, api, watchdog, ...(arrival ? { arrival } : {}) },
      queues: { plan: this.planQueue, send: this.sendQueue },
      ...(this.arrivalRule ? { moreQueues: [['arrival DLQ', this.arrivalRule.deadLetterQueue]] } : {}),
      httpApi: this.httpApi.httpApi,
      otherAlarms: [
        this.planQueue.deadLetterAlarm,
        this.sendQueue.deadLetterAlarm,
        ...(this.arrivalRule ? [this.arrivalRule.deadLetterAlarm] : []),
        this.schedule.droppedAlarm,
        this.httpApi.serverErrorAlarm,
      ],
      alarmAction,
    });

    const output = (id: string, value: string, description?: string): void => {
      new CfnOutput(this, id, { value, ...(description ? { description } : {}) });
    };
    output('ConsoleUrl', this.console.url, 'The web console; the API answers under the same origin too');
    output('ConsoleClientId', this.console.clientId, "The console's OIDC client (an accepted API audience)");
    output('ApiUrl', this.httpApi.url, 'Management API base URL');
    output('NotificationTopicArn', topic.topicArn, 'Alarms and failed-run notifications');
    output('PlanQueueUrl', this.planQueue.queue.queueUrl);
    output('PlanQueueArn', this.planQueue.queue.queueArn);
    output('PlanDeadLetterQueueUrl', this.planQueue.deadLetterQueue.queueUrl);
    output('PlanDeadLetterQueueArn', this.planQueue.deadLetterQueue.queueArn);
    output('SendQueueUrl', this.sendQueue.queue.queueUrl);
    output('SendQueueArn', this.sendQueue.queue.queueArn);
    output('SendDeadLetterQueueUrl', this.sendQueue.deadLetterQueue.queueUrl);
    output('SendDeadLetterQueueArn', this.sendQueue.deadLetterQueue.queueArn);
    output('DashboardName', this.monitoring.dashboard.dashboardName);
    output('PlannerFunctionName', planner.functionName);
    output('RefreshFunctionName', refresh.functionName);
    output('SenderFunctionName', sender.functionName);
    output('ApiFunctionName', api.functionName);
    output('WatchdogFunctionName', watchdog.functionName);
    if (arrival && this.arrivalRule) {
      output('RefreshArrivalFunctionName', arrival.functionName);
      output('RefreshArrivalDeadLetterQueueUrl', this.arrivalRule.deadLetterQueue.queueUrl);
      output('RefreshArrivalDeadLetterQueueArn', this.arrivalRule.deadLetterQueue.queueArn);
    }
    output('ScheduleName', this.schedule.schedule.scheduleName);
  }
}
