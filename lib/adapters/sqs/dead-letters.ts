import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { DeadLetters } from '#lib/ports/work-queue.ts';

export interface SqsDeadLettersOptions {
  client: SQSClient;
  queueUrl: string;
  clock?: Clock;
}

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

  constructor(options: SqsDeadLettersOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#clock = options.clock ?? systemClock;
  }

  async send(body: string, reason: string): Promise<void> {
    // Truncate by code point: a split surrogate pair is an invalid character to SQS.
    const trimmed = Array.from(reason.trim()).slice(0, MAX_REASON_CHARS).join('') || 'unspecified';
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        MessageBody: body,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: trimmed },
          failedAt: { DataType: 'String', StringValue: new Date(this.#clock.now()).toISOString() },
        },
      }),
    );
  }
}
