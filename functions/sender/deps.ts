import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { ONE_WEEK_MS, type SenderEnv } from '#functions/shared/env.ts';
import { type Observability, observability } from '#functions/shared/observability.ts';
import {
  commonParts,
  destinations,
  type Overrides,
  rateBudget,
  secretProvider,
  sendBatchQueue,
  sendDeadLetters,
  sqsClient,
} from '#functions/shared/wiring.ts';
import { DEFAULT_RETRY } from '#lib/use-cases/destination-calls.ts';
import type { SendBatchDeps } from '#lib/use-cases/send-batch.ts';

export interface SenderDeps {
  send: SendBatchDeps;
  parallelism: number;
  /** Makes a failed message visible again after `seconds` rather than the queue's timeout. */
  retryLater(receiptHandle: string, seconds: number): Promise<void>;
  retryBaseSeconds: number;
  /** The send queue's redrive limit (its last delivery records what still fails). */
  maxReceiveCount: number;
  observability: Observability;
}

export const createSenderDeps = (env: SenderEnv, overrides: Overrides = {}): SenderDeps => {
  const common = commonParts(env, overrides);
  const sqs = sqsClient(overrides);
  return {
    send: {
      ...common.state,
      notifier: common.notifier,
      clock: common.clock,
      logger: common.logger,
      metrics: common.metrics,
      destinations: destinations(env, overrides),
      secrets: secretProvider(env, common.clock, overrides),
      rateBudget: rateBudget(env, common.dynamo, common.clock),
      sendQueue: sendBatchQueue(sqs, env.SEND_QUEUE_URL),
      deadLetters: sendDeadLetters(sqs, env.SEND_DLQ_URL),
      settings: {
        ...DEFAULT_RETRY,
        reserveMs: env.SENDER_RESERVE_MS,
        requeueDelaySeconds: env.SENDER_REQUEUE_DELAY_SECONDS,
        probeRecheckMs: ONE_WEEK_MS,
        probeWaitMs: 15_000,
        singleRetryLimit: 10,
        maskEmails: env.MASK_EMAILS,
      },
    },
    parallelism: env.SENDER_PARALLELISM,
    retryLater: async (receiptHandle, seconds) => {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: env.SEND_QUEUE_URL,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
    retryBaseSeconds: env.SENDER_RETRY_BASE_SECONDS,
    maxReceiveCount: env.MAX_RECEIVE_COUNT,
    observability: observability(common.logger, common.metrics),
  };
};
