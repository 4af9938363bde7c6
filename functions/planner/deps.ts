import { tmpdir } from 'node:os';
import type { PlannerEnv } from '#functions/shared/env.ts';
import { ONE_WEEK_MS } from '#functions/shared/env.ts';
import { newId } from '#functions/shared/ids.ts';
import { type Observability, observability } from '#functions/shared/observability.ts';
import { refreshReader, s3Client, segmentSource } from '#functions/shared/segment-wiring.ts';
import {
  commonParts,
  destinations,
  type Overrides,
  rateBudget,
  secretProvider,
  sendBatchQueue,
  sqsClient,
} from '#functions/shared/wiring.ts';
import { S3Checkpoints } from '#lib/adapters/s3/checkpoints.ts';
import { spillTexts } from '#lib/adapters/spill/spill-texts.ts';
import { SqsDeadLetters } from '#lib/adapters/sqs/dead-letters.ts';
import { SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import type { PlanMessage } from '#lib/domain/messages.ts';
import { PlanMessageSchema } from '#lib/domain/messages.ts';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import type { DeadLetters } from '#lib/ports/work-queue.ts';
import { DEFAULT_RETRY } from '#lib/use-cases/destination-calls.ts';
import type { PlanRunDeps } from '#lib/use-cases/plan-run.ts';
import type { RefreshArrivalDeps } from '#lib/use-cases/refresh-arrival.ts';
import type { StartRunDeps } from '#lib/use-cases/start-run.ts';

export interface PlannerDeps {
  plan: PlanRunDeps;
  start: StartRunDeps;
  /** Present where segments come from S3 refreshes: the arrival of a refresh in `bucket`. */
  arrival?: { deps: RefreshArrivalDeps; bucket: string };
  /** Where unreadable plan messages go (the plan queue's DLQ; logged only when none is configured). */
  planDeadLetters: DeadLetters;
  observability: Observability;
}

/** Planner checkpoints in the bucket the environment names, else in the state table. */
const checkpoints = (env: PlannerEnv, table: Checkpoints, overrides: Overrides): Checkpoints =>
  env.CHECKPOINT_BUCKET === undefined
    ? table
    : new S3Checkpoints({
        client: s3Client(overrides),
        bucket: env.CHECKPOINT_BUCKET,
        prefix: env.CHECKPOINT_PREFIX,
      });

/**
 * Contact texts past this many characters (~150,000 contacts) go to a file in /tmp: a run at the
 * default 100,000 cap stays on the heap, a million-profile one keeps ~130 MB off it.
 */
const SPILL_ABOVE_CHARS = 16_000_000;

export const createPlannerDeps = (env: PlannerEnv, overrides: Overrides = {}): PlannerDeps => {
  const common = commonParts(env, overrides);
  const sqs = sqsClient(overrides);
  // One S3 client for the segment source, the arrival's reader and the checkpoints; none without them.
  const usesS3 = env.SEGMENT_SOURCE === 's3' || env.CHECKPOINT_BUCKET !== undefined;
  const parts = usesS3 ? { ...overrides, s3: s3Client(overrides) } : overrides;
  const segments = segmentSource(env, common, parts);
  const refreshes = refreshReader(env, parts);
  const planQueue = new SqsWorkQueue<PlanMessage>({
    client: sqs,
    queueUrl: env.PLAN_QUEUE_URL,
    schema: PlanMessageSchema,
  });
  const sendQueue = sendBatchQueue(sqs, env.SEND_QUEUE_URL);
  const dests = destinations(env, overrides);
  const secrets = secretProvider(env, common.clock, overrides);
  const lifecycle = {
    ...common.state,
    checkpoints: checkpoints(env, common.state.checkpoints, parts),
    notifier: common.notifier,
    clock: common.clock,
    logger: common.logger,
    metrics: common.metrics,
  };
  const start = {
    ...lifecycle,
    segments,
    planQueue,
    destinations: dests,
    newId: () => newId('run', common.clock.now()),
  };
  return {
    plan: {
      ...lifecycle,
      segments,
      destinations: dests,
      textStash: spillTexts({ dir: tmpdir(), spillAboveChars: SPILL_ABOVE_CHARS }),
      secrets,
      rateBudget: rateBudget(env, common.dynamo, common.clock),
      sendQueue,
      planQueue,
      settings: {
        pageSize: env.PLANNER_PAGE_SIZE,
        perContactBatchSize: env.PER_CONTACT_BATCH_SIZE,
        reserveMs: env.PLANNER_RESERVE_MS,
        probeRecheckMs: ONE_WEEK_MS,
        ...DEFAULT_RETRY,
      },
    },
    start,
    ...(refreshes === undefined
      ? {}
      : { arrival: { deps: { ...start, reader: refreshes.reader }, bucket: refreshes.bucket } }),
    planDeadLetters:
      env.PLAN_DLQ_URL === undefined
        ? { send: async () => {} }
        : new SqsDeadLetters({ client: sqs, queueUrl: env.PLAN_DLQ_URL }),
    observability: observability(common.logger, common.metrics),
  };
};
