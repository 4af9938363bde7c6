import { createHash } from 'node:crypto';

/** SQS's rule for a MessageGroupId or MessageDeduplicationId: 1–128 printable ASCII characters. */
const MAX_FIFO_ID_CHARS = 128;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** SQS requires a FIFO queue's name to end in `.fifo`, so its URL says what it is. */
export const isFifoQueueUrl = (queueUrl: string): boolean => queueUrl.endsWith('.fifo');

/**
 * How a FIFO queue's messages are told apart: the group (its messages are delivered in order, to
 * one consumer at a time) and the deduplication id (a second send of the same id within SQS's
 * five-minute window is accepted but not enqueued). Any string: {@link fifoId} makes it one SQS takes.
 */
export interface FifoIds<T> {
  groupId(message: T): string;
  deduplicationId(message: T): string;
}

/**
 * `raw` when SQS takes it as it is, else its SHA-256 in hex (64 characters): ids are built from
 * our own ids, which may be 256 bytes of any printable Unicode. The same raw id always gives the
 * same SQS id, which is all grouping and deduplication need. The length is checked before the regex.
 */
export const fifoId = (raw: string): string =>
  raw.length > 0 && raw.length <= MAX_FIFO_ID_CHARS && PRINTABLE_ASCII.test(raw)
    ? raw
    : createHash('sha256').update(raw, 'utf8').digest('hex');
