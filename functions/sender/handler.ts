import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { remainingTime, retryDelaySeconds } from '#functions/shared/lambda.ts';
import { lambdaHandler } from '#functions/shared/observability.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import type { SenderDeps } from './deps.ts';
import { processFifoRecords } from './fifo-records.ts';

/**
 * The FIFO send queue's event source, with partial batch responses: records that must be retried
 * are reported, and after one fails the records of its group (its connection) not yet started are
 * reported too, released at once so the group waits only for the failed one's retry
 * (fifo-records.ts). Records are worked on in parallel; every line logged for one carries its own
 * `messageId`, `runId`, `exportId` and `batchNo`.
 */
export const createSenderHandler = (deps: SenderDeps) =>
  lambdaHandler(
    deps.observability,
    async (event: SQSEvent, context): Promise<SQSBatchResponse> =>
      processFifoRecords(event, {
        parallelism: deps.parallelism,
        logs: deps.observability,
        work: (record) =>
          sendBatch(deps.send, record.body, remainingTime(context), {
            receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
            maxReceiveCount: deps.maxReceiveCount,
          }),
        onError: (_record, error) =>
          deps.send.logger.error('batch failed unexpectedly; SQS will retry', { error: String(error) }),
        onRetry: async (record) => {
          const seconds = retryDelaySeconds(
            Number(record.attributes.ApproximateReceiveCount ?? 1),
            deps.retryBaseSeconds,
          );
          try {
            await deps.retryLater(record.receiptHandle, seconds);
          } catch (error) {
            // The queue's own visibility timeout still brings the message back, only later.
            deps.send.logger.warn('could not schedule the retry', { error: String(error) });
          }
        },
        onUnprocessed: async (record) => {
          try {
            await deps.retryLater(record.receiptHandle, 0);
          } catch (error) {
            // It still comes back when the queue's visibility timeout ends, holding its group till then.
            deps.send.logger.warn('could not release an unprocessed record', { error: String(error) });
          }
        },
      }),
  );
