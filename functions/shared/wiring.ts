import { Logger as PtLogger } from '@aws-lambda-powertools/logger';
import { Metrics as PtMetrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { DynamoDbRateBudget } from '#lib/adapters/dynamodb/rate-budget.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { FanOutNotifier } from '#lib/adapters/notify/fan-out-notifier.ts';
import { LogNotifier } from '#lib/adapters/notify/log-notifier.ts';
import { SnsNotifier } from '#lib/adapters/notify/sns-notifier.ts';
import { WebhookNotifier } from '#lib/adapters/notify/webhook-notifier.ts';
import { PowertoolsLogger, PowertoolsMetrics } from '#lib/adapters/observability/powertools.ts';
import { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { SecretsManagerSecretProvider } from '#lib/adapters/secrets/secrets-manager.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { Destination } from '#lib/ports/destination.ts';
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
  destination?: Destination;
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

export const destination = (env: BaseEnv, overrides: Overrides): Destination =>
  overrides.destination ??
  new AutopilotDestination({ baseUrl: env.AUTOPILOT_BASE_URL, timeoutMs: env.AUTOPILOT_TIMEOUT_MS });

export const rateBudget = (env: BaseEnv, dynamo: DynamoDBClient, clock: Clock): DynamoDbRateBudget =>
  new DynamoDbRateBudget({ client: dynamo, tableName: env.STATE_TABLE, clock });
