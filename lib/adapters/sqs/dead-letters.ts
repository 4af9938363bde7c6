import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { DeadLetters } from '#lib/ports/work-queue.ts';
import { fifoId, isFifoQueueUrl } from './fifo.ts';

export interface SqsDeadLettersOptions {
  client: SQSClient;
  queueUrl: string;
  clock?: Clock;
  /**
   * A FIFO DLQ's message group for a body (default: one group for all). A re-drive keeps the group,
   * so the send queue's wiring passes the one its messages had.
   */
  groupId?: (body: string) => string;
}

/** The group of a dead letter whose body names none (e.g. not JSON). */
export const DEAD_LETTER_GROUP = 'dead-letters';

/** Longest `reason` attribute we attach; enough for a classified error message. */
export const MAX_REASON_CHARS = 256;

/**
 * {@link DeadLetters} on an SQS queue (the work queue's DLQ). The original body is kept verbatim so
 * a re-drive replays it unchanged; `reason` and `failedAt` travel as message attributes.
 */
export class SqsDeadLetters implements DeadLetters {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #clock: Clock;
  readonly #groupId: ((body: string) => string) | undefined;

  constructor(options: SqsDeadLettersOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#clock = options.clock ?? systemClock;
    this.#groupId = isFifoQueueUrl(options.queueUrl)
      ? (options.groupId ?? (() => DEAD_LETTER_GROUP))
      : undefined;
  }

  async send(body: string, reason: string): Promise<void> {
    // Truncate by code point: a split surrogate pair is an invalid character to SQS.
    const trimmed = Array.from(reason.trim()).slice(0, MAX_REASON_CHARS).join('') || 'unspecified';
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        MessageBody: body,
        // The same body dead-lettered twice (a sender that died after sending it) is kept once.
        ...(this.#groupId === undefined
          ? {}
          : { MessageGroupId: fifoId(this.#groupId(body)), MessageDeduplicationId: fifoId(`dead#${body}`) }),
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: trimmed },
          failedAt: { DataType: 'String', StringValue: new Date(this.#clock.now()).toISOString() },
        },
      }),
    );
  }
}
