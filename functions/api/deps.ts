import type { ApiEnv } from '#functions/shared/env.ts';
import { newId } from '#functions/shared/ids.ts';
import { type Observability, observability } from '#functions/shared/observability.ts';
import { segmentSource } from '#functions/shared/segment-wiring.ts';
import {
  commonParts,
  destinations,
  type Overrides,
  secretProvider,
  sqsClient,
} from '#functions/shared/wiring.ts';
import { SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import type { PlanMessage } from '#lib/domain/messages.ts';
import { PlanMessageSchema } from '#lib/domain/messages.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import type { Notifier } from '#lib/ports/notifier.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { State } from '#lib/ports/state.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';

/** Everything the API's routes use. */
export interface ApiDeps {
  state: State;
  segments: SegmentSource;
  secrets: SecretProvider;
  destinations: Destinations;
  planQueue: WorkQueue<PlanMessage>;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  newId: (kind: 'conn' | 'exp' | 'run') => string;
  maxBodyBytes: number;
  /** Absent: the destination's documented rate. */
  defaultRatePerSecond?: number | undefined;
  /** Longest wait for Autopilot to answer a key check (default 6 s). */
  keyCheckTimeoutMs?: number;
  /** Local mode accepts webhooks on http://127.0.0.1 (WEBHOOK_ALLOW_LOOPBACK); Lambda never does. */
  webhookAllowLoopback?: boolean;
}

export const createApiDeps = (
  env: ApiEnv,
  overrides: Overrides = {},
): ApiDeps & { observability: Observability } => {
  const common = commonParts(env, overrides);
  return {
    state: common.state,
    segments: segmentSource(env, common, overrides),
    secrets: secretProvider(env, common.clock, overrides),
    // The API only checks keys: its requests time out with the key check, not the senders' 30 s.
    destinations: destinations({ ...env, AUTOPILOT_TIMEOUT_MS: env.KEY_CHECK_TIMEOUT_MS }, overrides),
    planQueue: new SqsWorkQueue<PlanMessage>({
      client: sqsClient(overrides),
      queueUrl: env.PLAN_QUEUE_URL,
      schema: PlanMessageSchema,
    }),
    notifier: common.notifier,
    clock: common.clock,
    logger: common.logger,
    metrics: common.metrics,
    newId: (kind) => newId(kind, common.clock.now()),
    maxBodyBytes: env.MAX_BODY_BYTES,
    defaultRatePerSecond: env.DEFAULT_RATE_PER_SECOND,
    keyCheckTimeoutMs: env.KEY_CHECK_TIMEOUT_MS,
    webhookAllowLoopback: env.WEBHOOK_ALLOW_LOOPBACK,
    observability: observability(common.logger, common.metrics),
  };
};
