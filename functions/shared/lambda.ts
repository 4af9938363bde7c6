import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { idIssue } from '#lib/domain/validation.ts';
import type { Observability } from './observability.ts';

export interface RecordProcessing {
  /** Records worked on at once. */
  parallelism: number;
  /** Reports `retry` (or throws) for a record that must come back. */
  work: (record: SQSRecord) => Promise<'done' | 'retry'>;
  onError: (record: SQSRecord, error: unknown) => void;
  /** Called for each record about to be reported as failed (e.g. to schedule its retry). */
  onRetry?: (record: SQSRecord) => Promise<void>;
  /** All of one record's processing (work, onError, onRetry) logs with {@link recordLogKeys}. */
  logs: Pick<Observability, 'withLogKeys'>;
}

/**
 * Runs `work` on every record with bounded parallelism, each in its own log scope; records it
 * reports as `retry` (or that throw) fail.
 */
export const processRecords = async (
  event: SQSEvent,
  options: RecordProcessing,
): Promise<SQSBatchResponse> => {
  const { parallelism, work, onError, onRetry, logs } = options;
  const failures: SQSBatchItemFailure[] = [];
  const queue = [...event.Records];
  const fail = async (record: SQSRecord): Promise<void> => {
    failures.push({ itemIdentifier: record.messageId });
    await onRetry?.(record);
  };
  const processOne = async (record: SQSRecord): Promise<void> => {
    try {
      if ((await work(record)) === 'retry') await fail(record);
    } catch (error) {
      onError(record, error);
      await fail(record);
    }
  };
  const worker = async (): Promise<void> => {
    for (let record = queue.shift(); record !== undefined; record = queue.shift()) {
      const current = record;
      await logs.withLogKeys(recordLogKeys(current), () => processOne(current));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, queue.length)) }, worker));
  return { batchItemFailures: failures };
};

/**
 * The keys every line logged for a record carries: its message id, and the run, export and batch its
 * body names (plan and send messages both name them). A body that is not JSON, or ids that are not
 * ids, add nothing: the use case reports what is wrong with the message.
 */
export const recordLogKeys = (record: SQSRecord): Record<string, unknown> => {
  const keys: Record<string, unknown> = { messageId: record.messageId };
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return keys;
  }
  if (typeof body !== 'object' || body === null) return keys;
  const { runId, exportId, batchNo } = body as Record<string, unknown>;
  if (typeof runId === 'string' && idIssue(runId) === undefined) keys.runId = runId;
  if (typeof exportId === 'string' && idIssue(exportId) === undefined) keys.exportId = exportId;
  if (Number.isSafeInteger(batchNo)) keys.batchNo = batchNo;
  return keys;
};

export const remainingTime = (context: Pick<Context, 'getRemainingTimeInMillis'>) => (): number =>
  context.getRemainingTimeInMillis();

/** Seconds until a failed message's next attempt: `base` doubling per receive, at most 15 min. */
export const retryDelaySeconds = (receiveCount: number, baseSeconds: number): number =>
  Math.min(900, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
