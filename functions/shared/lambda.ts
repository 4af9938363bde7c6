import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Runs `work` on every record with bounded parallelism; records it reports as `retry` (or that throw) fail. */
export const processRecords = async (
  event: SQSEvent,
  parallelism: number,
  work: (record: SQSRecord) => Promise<'done' | 'retry'>,
  onError: (record: SQSRecord, error: unknown) => void,
): Promise<SQSBatchResponse> => {
  const failures: SQSBatchItemFailure[] = [];
  const queue = [...event.Records];
  const worker = async (): Promise<void> => {
    for (let record = queue.shift(); record !== undefined; record = queue.shift()) {
      try {
        if ((await work(record)) === 'retry') failures.push({ itemIdentifier: record.messageId });
      } catch (error) {
        onError(record, error);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, queue.length)) }, worker));
  return { batchItemFailures: failures };
};

export const remainingTime = (context: Pick<Context, 'getRemainingTimeInMillis'>) => (): number =>
  context.getRemainingTimeInMillis();

export const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === 'object' &&
  event !== null &&
  Array.isArray((event as { Records?: unknown }).Records) &&
  (event as SQSEvent).Records.every((r) => r.eventSource === 'aws:sqs');
