import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { processRecords, remainingTime } from '../shared/lambda.ts';
import type { SenderDeps } from './deps.ts';

/** SQS event source with partial batch responses: only records that must be retried are reported. */
export const createSenderHandler =
  (deps: SenderDeps) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      return await processRecords(
        event,
        deps.parallelism,
        (record) => sendBatch(deps.send, record.body, remainingTime(context)),
        (record, error) =>
          deps.send.logger.error('batch failed unexpectedly; SQS will retry', {
            messageId: record.messageId,
            error: String(error),
          }),
      );
    } finally {
      deps.flushMetrics();
    }
  };
