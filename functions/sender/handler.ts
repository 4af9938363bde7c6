import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { processRecords, remainingTime, retryDelaySeconds } from '../shared/lambda.ts';
import type { SenderDeps } from './deps.ts';

/** SQS event source with partial batch responses: only records that must be retried are reported. */
export const createSenderHandler =
  (deps: SenderDeps) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      return await processRecords(
        event,
        deps.parallelism,
        (record) =>
          sendBatch(deps.send, record.body, remainingTime(context), {
            receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
            maxReceiveCount: deps.maxReceiveCount,
          }),
        (record, error) =>
          deps.send.logger.error('batch failed unexpectedly; SQS will retry', {
            messageId: record.messageId,
            error: String(error),
          }),
        async (record) => {
          const seconds = retryDelaySeconds(
            Number(record.attributes.ApproximateReceiveCount ?? 1),
            deps.retryBaseSeconds,
          );
          try {
            await deps.retryLater(record.receiptHandle, seconds);
          } catch (error) {
            // The queue's own visibility timeout still brings the message back, only later.
            deps.send.logger.warn('could not schedule the retry', {
              messageId: record.messageId,
              error: String(error),
            });
          }
        },
      );
    } finally {
      deps.flushMetrics();
    }
  };
