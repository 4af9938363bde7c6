import { Logger as PtLogger } from '@aws-lambda-powertools/logger';
import { Metrics as PtMetrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { DestinationDirectory } from '#lib/adapters/destinations/directory.ts';
import { DynamoDbRateBudget } from '#lib/adapters/dynamodb/rate-budget.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { FanOutNotifier } from '#lib/adapters/notify/fan-out-notifier.ts';
import { LogNotifier } from '#lib/adapters/notify/log-notifier.ts';
import { SnsNotifier } from '#lib/adapters/notify/sns-notifier.ts';
import { WebhookNotifier } from '#lib/adapters/notify/webhook-notifier.ts';
import { PowertoolsLogger, PowertoolsMetrics } from '#lib/adapters/observability/powertools.ts';
import { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import { OrttoDestination } from '#lib/adapters/ortto/destination.ts';
import { orttoBaseUrl } from '#lib/adapters/ortto/requester.ts';
import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { SecretsManagerSecretProvider } from '#lib/adapters/secrets/secrets-manager.ts';
import { DEAD_LETTER_GROUP, SqsDeadLetters } from '#lib/adapters/sqs/dead-letters.ts';
import type { FifoIds } from '#lib/adapters/sqs/fifo.ts';
import { SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import { batchKey, type SendBatchMessageInput } from '#lib/domain/messages.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Notifier } from '#lib/ports/notifier.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { BaseEnv } from './env.ts';
import type { InvocationMetrics } from './observability.ts';

/**
 * Replacements for the AWS-facing parts, used by the local runtime (DynamoDB Local, fauxqs, an
 * in-memory key store) and by tests. Lambda passes none.
 */
export interface Overrides {
  dynamo?: DynamoDBClient;
  sqs?: SQSClient;
  s3?: S3Client;
  secrets?: SecretProvider;
  segments?: SegmentSource;
  destinations?: Destinations;
  notifier?: Notifier;
  logger?: Logger;
  metrics?: InvocationMetrics;
  clock?: Clock;
}

/** The parts every function shares, built once per execution environment. */
export const commonParts = (env: BaseEnv, overrides: Overrides) => {
  const clock = overrides.clock ?? systemClock;
  // Scoped: the handler wrapper puts the Lambda context and each record's ids on every line.
  const logger = new ScopedLogger(
    overrides.logger ?? new PowertoolsLogger(new PtLogger({ serviceName: env.POWERTOOLS_SERVICE_NAME })),
  );
  const metrics =
    overrides.metrics ??
    new PowertoolsMetrics(
      new PtMetrics({ namespace: 'AutopilotExport', serviceName: env.POWERTOOLS_SERVICE_NAME }),
    );
  const dynamo = overrides.dynamo ?? new DynamoDBClient({});
  const state = createDynamoDbState({
    client: dynamo,
    tableName: env.STATE_TABLE,
    clock,
    ttlDays: { audit: env.AUDIT_RETENTION_DAYS },
  });
  const consoleUrl = env.CONSOLE_URL === undefined ? {} : { consoleUrl: env.CONSOLE_URL };
  const notifier =
    overrides.notifier ??
    new FanOutNotifier(
      [
        env.NOTIFY_TOPIC_ARN
          ? new SnsNotifier({ client: new SNSClient({}), topicArn: env.NOTIFY_TOPIC_ARN, ...consoleUrl })
          : new LogNotifier(logger),
        new WebhookNotifier({
          secrets: secretProvider(env, clock, overrides),
          clock,
          logger,
          allowLoopbackHttp: env.WEBHOOK_ALLOW_LOOPBACK,
          metrics,
          ...consoleUrl,
        }),
      ],
      logger,
    );
  return { clock, logger, metrics, dynamo, state, notifier };
};

export const sqsClient = (overrides: Overrides): SQSClient => overrides.sqs ?? new SQSClient({});

export const secretProvider = (env: BaseEnv, clock: Clock, overrides: Overrides): SecretProvider =>
  new CachedSecretProvider(
    overrides.secrets ??
      new SecretsManagerSecretProvider({ client: new SecretsManagerClient({}), prefix: env.SECRET_PREFIX }),
    { clock },
  );

/**
 * Autopilot and Ortto (per region). `ORTTO_BASE_URL` points every region at one server (the
 * stand-in: `/v1` is the global region, `/eu/v1` and `/au/v1` the others).
 */
export const destinations = (env: BaseEnv, overrides: Overrides): Destinations =>
  overrides.destinations ??
  new DestinationDirectory({
    autopilot: () =>
      new AutopilotDestination({ baseUrl: env.AUTOPILOT_BASE_URL, timeoutMs: env.AUTOPILOT_TIMEOUT_MS }),
    ortto: (region) =>
      new OrttoDestination({
        region,
        baseUrl:
          env.ORTTO_BASE_URL === undefined
            ? orttoBaseUrl(region)
            : `${env.ORTTO_BASE_URL.replace(/\/+$/, '')}${region === 'global' ? '' : `/${region}`}/v1`,
        timeoutMs: env.AUTOPILOT_TIMEOUT_MS,
      }),
  });

export const rateBudget = (env: BaseEnv, dynamo: DynamoDBClient, clock: Clock): DynamoDbRateBudget =>
  new DynamoDbRateBudget({ client: dynamo, tableName: env.STATE_TABLE, clock });

/**
 * The send queue's FIFO ids. One group per connection: all its exports share one rate budget, and
 * SQS gives a group's messages to one consumer at a time, so one sender works a connection while
 * other connections run side by side. A hand-back is a new delivery (`requeues + 1`), so a repeated
 * send of the same one is dropped within SQS's five-minute window and a later one is not.
 */
export const SEND_BATCH_FIFO: FifoIds<SendBatchMessageInput> = {
  // Lane 0 is the connection's own group (as before lanes), so its batches keep their order.
  groupId: (message) =>
    (message.lane ?? 0) === 0 ? message.connectionId : `${message.connectionId}#${message.lane}`,
  deduplicationId: (message) => `${batchKey(message.runId, message.batchNo)}#${message.requeues ?? 0}`,
};

/** The send queue (FIFO as deployed; a standard queue's URL, as some tests use, takes the same wiring). */
export const sendBatchQueue = (sqs: SQSClient, queueUrl: string): SqsWorkQueue<SendBatchMessageInput> =>
  new SqsWorkQueue<SendBatchMessageInput>({ client: sqs, queueUrl, fifo: SEND_BATCH_FIFO });

/** A dead letter keeps its connection's group, so a re-drive puts it back where it came from. */
const connectionGroupOf = (body: string): string => {
  try {
    const connectionId = (JSON.parse(body) as { connectionId?: unknown } | null)?.connectionId;
    return typeof connectionId === 'string' && connectionId !== '' ? connectionId : DEAD_LETTER_GROUP;
  } catch {
    return DEAD_LETTER_GROUP;
  }
};

/** The send queue's DLQ, for batches the sender moves there itself. */
export const sendDeadLetters = (sqs: SQSClient, queueUrl: string): SqsDeadLetters =>
  new SqsDeadLetters({ client: sqs, queueUrl, groupId: connectionGroupOf });
