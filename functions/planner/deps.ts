import { randomUUID } from 'node:crypto';
import { SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import { PlanMessageSchema } from '#lib/domain/messages.ts';
import type { PlanRunDeps } from '#lib/use-cases/plan-run.ts';
import type { StartRunDeps } from '#lib/use-cases/start-run.ts';
import type { PlannerEnv } from '../shared/env.ts';
import { ONE_WEEK_MS } from '../shared/env.ts';
import {
  commonParts,
  destination,
  type Overrides,
  rateBudget,
  secretProvider,
  segmentSource,
  sqsClient,
} from '../shared/wiring.ts';

export interface PlannerDeps {
  plan: PlanRunDeps;
  start: StartRunDeps;
  flushMetrics(): void;
}

/** Sortable, unique run ids: time first so ids list in start order. */
export const newRunId = (now: number = Date.now()): string =>
  `run_${now.toString(36).padStart(9, '0')}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

export const createPlannerDeps = (env: PlannerEnv, overrides: Overrides = {}): PlannerDeps => {
  const common = commonParts(env, overrides);
  const sqs = sqsClient(overrides);
  const segments = segmentSource(env, common.dynamo, overrides);
  const planQueue = new SqsWorkQueue<PlanMessage>({
    client: sqs,
    queueUrl: env.PLAN_QUEUE_URL,
    schema: PlanMessageSchema,
  });
  const sendQueue = new SqsWorkQueue<SendBatchMessageInput>({ client: sqs, queueUrl: env.SEND_QUEUE_URL });
  const dest = destination(env, overrides);
  const lifecycle = {
    store: common.store,
    notifier: common.notifier,
    clock: common.clock,
    logger: common.logger,
    metrics: common.metrics,
  };
  return {
    plan: {
      ...lifecycle,
      segments,
      destination: dest,
      secrets: secretProvider(env, common.clock, overrides),
      rateBudget: rateBudget(env, common.dynamo, common.clock),
      sendQueue,
      planQueue,
      settings: {
        pageSize: env.PLANNER_PAGE_SIZE,
        perContactBatchSize: env.PER_CONTACT_BATCH_SIZE,
        reserveMs: env.PLANNER_RESERVE_MS,
        probeRecheckMs: ONE_WEEK_MS,
        maxAttempts: 3,
        baseDelayMs: 250,
      },
    },
    start: {
      ...lifecycle,
      segments,
      planQueue,
      costs: dest.costs,
      newId: () => newRunId(common.clock.now()),
    },
    flushMetrics: () => common.metrics.flush?.(),
  };
};
