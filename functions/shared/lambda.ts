import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Runs `work` on every record with bounded parallelism; records it reports as `retry` (or that throw) fail. */
export const processRecords = async (
  event: SQSEvent,
  parallelism: number,
  work: (record: SQSRecord) => Promise<'done' | 'retry'>,
  onError: (record: SQSRecord, error: unknown) => void,
  /** Called for each record about to be reported as failed (e.g. to schedule its retry). */
  onRetry?: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> => {
  const failures: SQSBatchItemFailure[] = [];
  const queue = [...event.Records];
  const fail = async (record: SQSRecord): Promise<void> => {
    failures.push({ itemIdentifier: record.messageId });
    await onRetry?.(record);
  };
  const worker = async (): Promise<void> => {
    for (let record = queue.shift(); record !== undefined; record = queue.shift()) {
      try {
        if ((await work(record)) === 'retry') await fail(record);
      } catch (error) {
        onError(record, error);
        await fail(record);
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

/** Seconds until a failed message's next attempt: `base` doubling per receive, at most 15 min. */
export const retryDelaySeconds = (receiveCount: number, baseSeconds: number): number =>
  Math.min(900, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
