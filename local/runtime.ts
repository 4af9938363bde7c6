import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { createApiDeps } from '#functions/api/deps.ts';
import { createApiHandler } from '#functions/api/handler.ts';
import { createPlannerDeps } from '#functions/planner/deps.ts';
import { createPlannerHandlers } from '#functions/planner/handler.ts';
import { createSenderDeps } from '#functions/sender/deps.ts';
import { createSenderHandler } from '#functions/sender/handler.ts';
import {
  type ApiEnv,
  ApiEnvSchema,
  type PlannerEnv,
  PlannerEnvSchema,
  type SenderEnv,
  SenderEnvSchema,
} from '#functions/shared/env.ts';
import { newId } from '#functions/shared/ids.ts';
import type { Overrides } from '#functions/shared/wiring.ts';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { DestinationDirectory } from '#lib/adapters/destinations/directory.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { segmentTableDefinition, stateTableDefinition } from '#lib/adapters/dynamodb/tables.ts';
import { OrttoDestination } from '#lib/adapters/ortto/destination.ts';
import { DynamoDbSegmentSource } from '#lib/adapters/segments/dynamodb-segment-source.ts';
import { RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import type { OrttoRegion } from '#lib/domain/connection.ts';
import { isTerminal, type RunTrigger } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Destination } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import type { Notifier } from '#lib/ports/notifier.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { State } from '#lib/ports/state.ts';
import { DEFAULT_STALL_AFTER_MS, endStalledRuns } from '#lib/use-cases/end-stalled-runs.ts';
import type { ConnectionDeps } from '#lib/use-cases/manage-connections.ts';
import type { ExportDeps } from '#lib/use-cases/manage-exports.ts';
import type { StartRunResult } from '#lib/use-cases/start-run.ts';
import { DynamoDbSegmentWriter } from '#local/dynamodb-segment-writer.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import {
  type AutopilotStandIn,
  type StandInOptions,
  startAutopilotStandIn,
} from './autopilot-standin/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from './dynamodb-local.ts';
import { lambdaContext } from './lambda-context.ts';
import { startOrttoStandIn } from './ortto-standin/standin.ts';
import type { OrttoStandIn, StandInOptions as OrttoStandInOptions } from './ortto-standin/types.ts';
import type { DropOptions, DroppedRefresh, DropSegment } from './refresh-drop.ts';
import {
  createSegmentBucket,
  localS3Client,
  type RefreshArrival,
  type RuntimeRefreshes,
  runsOfRefresh,
  runtimeRefreshes,
} from './runtime-refreshes.ts';
import { S3Arrivals } from './s3-arrivals.ts';
import { createLocalQueues, type LocalQueues, SqsEventSource } from './sqs-event-source.ts';

/**
 * The Ortto stand-in's base URL for a region. Without a stand-in, a loopback port nothing listens on
 * (the discard port): the requests fail as unreachable instead of reaching the real Ortto.
 */
const orttoStandInUrl = (standIn: OrttoStandIn | undefined, region: OrttoRegion): string =>
  standIn?.urls[region] ?? 'http://127.0.0.1:9/v1';

export type AutopilotTarget =
  | {
      kind: 'standin';
      ratePerSecond: number;
      /** The key the stand-in accepts (default: a random one). */
      apiKey?: string;
      standIn?: Omit<StandInOptions, 'apiKeys' | 'ratePerSecond'>;
    }
  | { kind: 'real'; url: string; apiKey: string };

export interface LocalRuntimeOptions {
  autopilot: AutopilotTarget;
  /** Use already running services (tests share one DynamoDB Local and fauxqs) instead of starting them. */
  services?: { dynamoEndpoint: string; sqsEndpoint: string };
  /** Concurrent sender "Lambda instances". */
  senders?: number;
  /** Simulated function timeouts: the handlers' remaining time counts down from these. */
  senderTimeoutMs?: number;
  plannerTimeoutMs?: number;
  /** Seconds a received message stays invisible (redelivery delay after a failure). */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  plannerPageSize?: number;
  perContactBatchSize?: number;
  logger?: Logger;
  metrics?: Metrics;
  notifier?: Notifier;
  /** Seconds before a failed batch is retried, doubling per attempt (default 1 locally; 30 in AWS). */
  retryBaseSeconds?: number;
  /** Start the sender workers at once (default) or only when `startSenders()` is called. */
  startSenders?: boolean;
  /**
   * Start the Ortto stand-in too (Ortto connections export into it): its behaviour switches, faults
   * and dice seed. Without it, an Ortto connection's requests reach no server (they fail as
   * unreachable) — local mode never talks to the real Ortto.
   */
  ortto?: {
    standIn?: Omit<OrttoStandInOptions, 'apiKeys' | 'port' | 'host' | 'log'>;
    /** The key of the stand-in's one account (global region); default: a random one. */
    apiKey?: string;
  };
  /** Tests wrap the destination the handlers use (e.g. to simulate a crash mid-batch). */
  wrapDestination?: (destination: Destination) => Destination;
  /** The watchdog, as the stack schedules it: how often it looks, and after how long a run is stalled. */
  watchdog?: { everyMs?: number; stallAfterMs?: number };
  /**
   * Where the pipeline reads segments: `s3`, as deployed — refreshes dropped into a bucket of the
   * local S3 (fauxqs), whose manifests' arrival starts the scheduled exports using them; or
   * `dynamodb` (default), the segment table `segmentWriter` fills.
   */
  segments?: 's3' | 'dynamodb';
  /** s3 mode: how often the bucket is listed for new manifests (default 500 ms). */
  arrivalsEveryMs?: number;
}

export interface LocalRuntime {
  autopilotUrl: string;
  /** With the `ortto` option: the Ortto stand-in and the key of its one account (never printed). */
  ortto?: { standIn: OrttoStandIn; apiKey: string };
  /** The key the stand-in accepts (or the real one); never printed. */
  apiKey: string;
  standIn?: AutopilotStandIn;
  /** Every role port over the runtime's state table. */
  state: State;
  segments: SegmentSource;
  /** The segment table (read by the pipeline in `dynamodb` mode only). */
  segmentWriter: DynamoDbSegmentWriter;
  /**
   * Where the planner keeps its checkpoints in both modes: the segment bucket of the local S3
   * (fauxqs), under `state/checkpoints/`. Its client is the functions' S3 client.
   */
  checkpoints: { s3: S3Client; bucket: string };
  /** s3 mode: the local S3 (fauxqs) and the bucket refreshes are dropped into. */
  s3?: S3Client;
  s3Endpoint?: string;
  segmentBucket?: string;
  /** s3 mode: the stand-in for S3 → EventBridge, delivering each manifest to the planner. */
  arrivals?: S3Arrivals;
  /** s3 mode: writes a refresh into the segment bucket (files, then the manifest). */
  dropRefresh(segments: readonly DropSegment[], options?: DropOptions): Promise<DroppedRefresh>;
  /** s3 mode: waits for the arrival of the refresh's manifest to be handled; answers the runs it started. */
  waitForRefresh(
    refreshId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<RefreshArrival>;
  /** The runs carrying `refreshId`, newest first. */
  runsOfRefresh(refreshId: string): Promise<RunRecord[]>;
  secrets: InMemorySecretProvider;
  connectionDeps: ConnectionDeps;
  exportDeps: ExportDeps;
  env: { planner: PlannerEnv; sender: SenderEnv; api: ApiEnv };
  /** The real API handler, as API Gateway invokes it (every route, starting a run included). */
  handlers: {
    api: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
  };
  queues: { plan: LocalQueues; send: LocalQueues };
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  /** Starts a run through the planner's `startRun` handler (a direct invocation), with any trigger. */
  startRun(exportId: string, trigger?: RunTrigger, requestedBy?: string): Promise<StartRunResult>;
  /** Resolves once the run has ended (or the timeout passes). */
  waitForRun(
    runId: string,
    options?: { timeoutMs?: number; onProgress?: (run: RunRecord) => void },
  ): Promise<RunRecord>;
  /** Polls the run until `predicate` holds. */
  waitForRunState(
    runId: string,
    predicate: (run: RunRecord) => boolean,
    timeoutMs?: number,
  ): Promise<RunRecord>;
  /** Starts the sender workers if they were held back (`startSenders: false`). */
  startSenders(): Promise<void>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

const services = async (
  options: LocalRuntimeOptions,
  cleanups: Array<() => Promise<void>>,
): Promise<{ dynamo: { client: DynamoDBClient }; sqsEndpoint: string }> => {
  if (options.services) {
    const client = new DynamoDBClient({
      endpoint: options.services.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    cleanups.push(async () => client.destroy());
    return { dynamo: { client }, sqsEndpoint: options.services.sqsEndpoint };
  }
  const [dynamo, fauxqs] = await Promise.all([startDynamoDbLocal(), startFauxqs({ port: 0, logger: false })]);
  cleanups.push(
    () => dynamo.stop(),
    () => fauxqs.stop(),
  );
  return { dynamo, sqsEndpoint: fauxqs.address };
};

/**
 * The production pipeline on one machine: DynamoDB Local (AWS's engine), fauxqs for SQS with event
 * sources that behave like Lambda's, an in-memory key store, and the Autopilot stand-in (or the
 * real Autopilot). The planner and sender are the real handlers built by the real composition code.
 */
export const startLocalRuntime = async (options: LocalRuntimeOptions): Promise<LocalRuntime> => {
  const logger = options.logger ?? silentLogger;
  const cleanups: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const { dynamo, sqsEndpoint } = await services(options, cleanups);

    let standIn: AutopilotStandIn | undefined;
    let autopilotUrl: string;
    let apiKey: string;
    if (options.autopilot.kind === 'standin') {
      apiKey = options.autopilot.apiKey ?? randomUUID().replaceAll('-', '');
      standIn = await startAutopilotStandIn({
        ...options.autopilot.standIn,
        apiKeys: [apiKey],
        ratePerSecond: options.autopilot.ratePerSecond,
        log: undefined,
      });
      cleanups.push(() => (standIn as AutopilotStandIn).close());
      autopilotUrl = standIn.url;
    } else {
      autopilotUrl = options.autopilot.url;
      apiKey = options.autopilot.apiKey;
    }

    let ortto: LocalRuntime['ortto'];
    if (options.ortto !== undefined) {
      const orttoKey = options.ortto.apiKey ?? randomUUID().replaceAll('-', '');
      const orttoStandIn = await startOrttoStandIn({ ...options.ortto.standIn, apiKeys: [orttoKey] });
      cleanups.push(() => orttoStandIn.close());
      ortto = { standIn: orttoStandIn, apiKey: orttoKey };
    }

    const suffix = randomUUID().slice(0, 8);
    const stateTable = `autopilot-export-state-${suffix}`;
    const segmentTable = `autopilot-export-segments-${suffix}`;
    await dynamo.client.send(new CreateTableCommand(stateTableDefinition(stateTable)));
    await dynamo.client.send(new CreateTableCommand(segmentTableDefinition(segmentTable)));

    const sqs = new SQSClient({
      endpoint: sqsEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const senderTimeoutMs = options.senderTimeoutMs ?? 60_000;
    const plannerTimeoutMs = options.plannerTimeoutMs ?? 300_000;
    const maxReceiveCount = options.maxReceiveCount ?? 5;
    const plan = await createLocalQueues(sqs, {
      prefix: `plan-${suffix}`,
      visibilityTimeoutSeconds: Math.ceil(plannerTimeoutMs / 1000) + 5,
      maxReceiveCount,
    });
    // FIFO, as deployed: one message group per connection, so one sender works a connection at a time.
    const send = await createLocalQueues(sqs, {
      prefix: `send-${suffix}`,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? Math.ceil(senderTimeoutMs / 1000) + 5,
      maxReceiveCount,
      fifo: true,
    });

    // The segment bucket exists in the local S3 (fauxqs) in both modes, as it does in AWS: the
    // planner keeps its checkpoints in it; only in s3 mode does it also hold the segments.
    const s3Mode = options.segments === 's3';
    const s3 = localS3Client(sqsEndpoint);
    cleanups.push(async () => s3.destroy());
    const bucket = await createSegmentBucket(s3, suffix);
    const segmentBucket = s3Mode ? bucket : undefined;
    const base = {
      STATE_TABLE: stateTable,
      ...(segmentBucket === undefined
        ? { SEGMENT_SOURCE: 'dynamodb', SEGMENT_TABLE: segmentTable }
        : { SEGMENT_SOURCE: 's3', SEGMENT_BUCKET: segmentBucket }),
      AUTOPILOT_BASE_URL: autopilotUrl,
      POWERTOOLS_SERVICE_NAME: 'autopilot-export-local',
      // Locally a webhook receiver is a process on this machine, reachable only over plain http.
      WEBHOOK_ALLOW_LOOPBACK: 'true',
    };
    const env = {
      planner: PlannerEnvSchema.parse({
        ...base,
        PLAN_QUEUE_URL: plan.queueUrl,
        PLAN_DLQ_URL: plan.dlqUrl,
        SEND_QUEUE_URL: send.queueUrl,
        PLANNER_PAGE_SIZE: String(options.plannerPageSize ?? 1000),
        PER_CONTACT_BATCH_SIZE: String(options.perContactBatchSize ?? 25),
        PLANNER_RESERVE_MS: String(Math.min(60_000, Math.floor(plannerTimeoutMs / 5))),
        CHECKPOINT_BUCKET: bucket,
      }),
      sender: SenderEnvSchema.parse({
        ...base,
        SEND_QUEUE_URL: send.queueUrl,
        SEND_DLQ_URL: send.dlqUrl,
        SENDER_RESERVE_MS: String(Math.min(20_000, Math.floor(senderTimeoutMs / 4))),
        SENDER_PARALLELISM: '1',
        SENDER_RETRY_BASE_SECONDS: String(options.retryBaseSeconds ?? 1),
        SENDER_REQUEUE_DELAY_SECONDS: String(options.retryBaseSeconds ?? 1),
        MAX_RECEIVE_COUNT: String(maxReceiveCount),
      }),
      api: ApiEnvSchema.parse({ ...base, PLAN_QUEUE_URL: plan.queueUrl }),
    };

    const secrets = new InMemorySecretProvider();
    const standIns = {
      autopilot: () => new AutopilotDestination({ baseUrl: autopilotUrl }),
      ortto: (region: OrttoRegion) =>
        new OrttoDestination({ region, baseUrl: orttoStandInUrl(ortto?.standIn, region) }),
    };
    // The API checks keys against the stand-ins as they are; the functions' destinations may be wrapped.
    const unwrapped = new DestinationDirectory(standIns);
    const wrap = options.wrapDestination ?? ((d: Destination) => d);
    const destinations = new DestinationDirectory({
      autopilot: () => wrap(standIns.autopilot()),
      ortto: (region) => wrap(standIns.ortto(region)),
    });
    const state = createDynamoDbState({ client: dynamo.client, tableName: stateTable });
    const segments: SegmentSource = segmentBucket
      ? new RefreshSegmentSource({ client: s3, bucket: segmentBucket, refreshes: state.refreshes })
      : new DynamoDbSegmentSource({ client: dynamo.client, tableName: segmentTable });
    const overrides: Overrides = {
      dynamo: dynamo.client,
      sqs,
      s3,
      // In s3 mode the functions build their segment source from the environment, as in AWS.
      ...(s3Mode ? {} : { segments }),
      secrets,
      destinations,
      logger,
      metrics: options.metrics ?? noMetrics,
      ...(options.notifier ? { notifier: options.notifier } : {}),
    };
    const plannerDeps = createPlannerDeps(env.planner, overrides);
    const planner = createPlannerHandlers(plannerDeps);
    // One sender for every poller, as one Lambda environment working on several records side by side:
    // they share its view of the rate budget, so its gate never sends a sibling's batch back (a
    // sender per poller would also reserve a block per record, ~3 slots for one bulk request).
    const sender = createSenderHandler(createSenderDeps(env.sender, overrides));
    const api = createApiHandler(createApiDeps(env.api, { ...overrides, destinations: unwrapped }));

    const plannerSource = new SqsEventSource({
      client: sqs,
      queueUrl: plan.queueUrl,
      queueArn: plan.queueArn,
      handler: (event, context) => planner.planMessage(event, context),
      batchSize: 1,
      concurrency: 1,
      functionTimeoutMs: plannerTimeoutMs,
      functionName: 'autopilot-export-planner',
      onError: (error) => logger.error('planner event source error', { error: String(error) }),
    });
    const senderSource = new SqsEventSource({
      client: sqs,
      queueUrl: send.queueUrl,
      queueArn: send.queueArn,
      handler: (event, context) => sender(event, context),
      batchSize: 1,
      concurrency: options.senders ?? 4,
      functionTimeoutMs: senderTimeoutMs,
      functionName: 'autopilot-export-sender',
      onError: (error) => logger.error('sender event source error', { error: String(error) }),
    });
    await plannerSource.start();
    let sendersStarted = false;
    const startSenders = async (): Promise<void> => {
      if (sendersStarted) return;
      sendersStarted = true;
      await senderSource.start();
    };
    if (options.startSenders !== false) await startSenders();
    cleanups.push(
      () => plannerSource.stop(),
      () => senderSource.stop(),
    );

    const common = { ...state, clock: plannerDeps.plan.clock, logger };
    let refreshes: RuntimeRefreshes | undefined;
    if (segmentBucket) {
      const arrivals = new S3Arrivals({
        s3,
        bucket: segmentBucket,
        handler: (event, context) => planner.refreshArrived(event, context),
        intervalMs: options.arrivalsEveryMs ?? 500,
        functionTimeoutMs: plannerTimeoutMs,
        logger,
      });
      arrivals.start();
      cleanups.push(() => arrivals.stop());
      refreshes = runtimeRefreshes(s3, segmentBucket, arrivals, state);
    }
    const notS3 = async (): Promise<never> => {
      throw new Error("Refreshes are dropped only in the runtime's s3 mode (segments: 's3')");
    };
    // The watchdog the stack runs every 5 minutes: no local run stays wedged either.
    const watchdog = setInterval(() => {
      endStalledRuns(
        { ...common, notifier: plannerDeps.plan.notifier },
        { stallAfterMs: options.watchdog?.stallAfterMs ?? DEFAULT_STALL_AFTER_MS },
      ).catch((error) => logger.error('watchdog failed', { error: String(error) }));
    }, options.watchdog?.everyMs ?? 60_000);
    watchdog.unref();
    cleanups.push(async () => clearInterval(watchdog));
    return {
      autopilotUrl,
      ...(ortto === undefined ? {} : { ortto }),
      apiKey,
      ...(standIn ? { standIn } : {}),
      state,
      segments,
      segmentWriter: new DynamoDbSegmentWriter({ client: dynamo.client, tableName: segmentTable }),
      checkpoints: { s3, bucket },
      ...(refreshes
        ? {
            s3: refreshes.s3,
            s3Endpoint: sqsEndpoint,
            segmentBucket: refreshes.segmentBucket,
            arrivals: refreshes.arrivals,
          }
        : {}),
      dropRefresh: refreshes ? refreshes.dropRefresh : notS3,
      waitForRefresh: refreshes ? refreshes.waitForRefresh : notS3,
      runsOfRefresh: (refreshId) => runsOfRefresh(state, refreshId),
      secrets,
      connectionDeps: { ...common, secrets, destinations: unwrapped, newId: () => newId('conn') },
      exportDeps: { ...common, segments, destinations: unwrapped, newId: () => newId('exp') },
      env,
      handlers: { api },
      queues: { plan, send },
      sqs,
      dynamo: dynamo.client,
      startRun: (exportId, trigger = 'on-demand', requestedBy = 'local-user') =>
        planner.startRun(
          { kind: 'start-run', exportId, trigger, requestedBy },
          lambdaContext('autopilot-export-planner', plannerTimeoutMs),
        ),
      waitForRunState: async (runId, predicate, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const run = await state.runs.get(runId);
          if (run !== undefined && predicate(run)) return run;
          if (Date.now() > deadline)
            throw new Error(`Run ${runId} did not reach the expected state in ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      waitForRun: async (runId, { timeoutMs = 600_000, onProgress } = {}) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const run = await state.runs.get(runId);
          if (run === undefined) throw new Error(`Run ${runId} does not exist`);
          onProgress?.(run);
          if (isTerminal(run.status)) return run;
          if (Date.now() > deadline) throw new Error(`Run ${runId} did not finish within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 250));
        }
      },
      startSenders,
      idle: async () => {
        await plannerSource.idle();
        await senderSource.idle();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
};
