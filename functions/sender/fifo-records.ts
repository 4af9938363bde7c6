import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type RecordProcessing, recordLogKeys } from '#functions/shared/lambda.ts';

export interface FifoRecordProcessing extends RecordProcessing {
  /**
   * Called for each record reported failed without being worked on, because an earlier record of
   * its group failed: it should become visible again at once (else it holds its group until the
   * queue's visibility timeout ends, while the failed one may be due much sooner).
   */
  onUnprocessed: (record: SQSRecord) => Promise<void>;
}

/** A record's message group; a standard queue's records have none, and each is a group of its own. */
const groupOf = (record: SQSRecord): string =>
  record.attributes.MessageGroupId ?? `message:${record.messageId}`;

/**
 * Lambda's contract for a FIFO queue with partial batch responses: after a record of a group fails,
 * no later record of that group is worked on, and those are reported failed too (Lambda itself
 * deletes every record not reported). Records start in the batch's order, at most `parallelism` at
 * once; records of one group may run side by side, because send batches carry no order among
 * themselves (the batch ledger makes each exactly-once on its own), while groups stay one
 * connection's: its rate budget, not the order, is what a group protects.
 */
export const processFifoRecords = async (
  event: SQSEvent,
  options: FifoRecordProcessing,
): Promise<SQSBatchResponse> => {
  const { parallelism, work, onError, onRetry, onUnprocessed, logs } = options;
  const failures: SQSBatchItemFailure[] = [];
  const failedGroups = new Set<string>();
  const queue = [...event.Records];
  const processOne = async (record: SQSRecord): Promise<void> => {
    const group = groupOf(record);
    if (failedGroups.has(group)) {
      failures.push({ itemIdentifier: record.messageId });
      await onUnprocessed(record);
      return;
    }
    let failed = false;
    try {
      failed = (await work(record)) === 'retry';
    } catch (error) {
      onError(record, error);
      failed = true;
    }
    if (!failed) return;
    failedGroups.add(group);
    failures.push({ itemIdentifier: record.messageId });
    await onRetry?.(record);
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
