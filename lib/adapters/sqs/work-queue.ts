import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type * as z from 'zod';
import { PermanentError, TransientError, ValidationError } from '#lib/domain/errors.ts';
import { MAX_MESSAGE_BYTES } from '#lib/domain/messages.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import { type FifoIds, fifoId, isFifoQueueUrl } from './fifo.ts';

/** SendMessageBatch takes at most 10 entries… */
export const SQS_BATCH_MAX_ENTRIES = 10;
/** …and at most 256 KiB of payload per call (the newer 1 MiB quota is not in every region/emulator). */
export const SQS_BATCH_MAX_BYTES = 256 * 1024;
/** SQS's own bound on DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

/** A message over {@link MAX_MESSAGE_BYTES}; nothing of that `send` call was enqueued. */
export class MessageTooLargeError extends PermanentError {
  override readonly name: string = 'MessageTooLargeError';
  constructor(
    readonly index: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `Message ${index} is ${bytes} bytes serialised, over the ${limit}-byte limit; nothing was sent. ` +
        'Split it into smaller batches.',
      { reason: 'message_too_large' },
    );
  }
}

export interface SqsWorkQueueOptions<T> {
  client: SQSClient;
  queueUrl: string;
  /** Validates (and normalises) each outgoing message before anything is sent. */
  schema?: z.ZodType<T>;
  /** SendMessageBatch calls in flight at once. Default 4. */
  parallelCalls?: number;
  /** Attempts per entry SQS reports as failed through no fault of ours. Default 3. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter. Default 100 ms. */
  baseDelayMs?: number;
  clock?: Clock;
  /**
   * Each message's group and deduplication id, required when the queue is FIFO (its URL ends in
   * `.fifo`). A standard queue ignores them, so one wiring serves both kinds.
   */
  fifo?: FifoIds<T>;
}

interface Encoded {
  index: number;
  body: string;
  bytes: number;
  /** FIFO queues only. */
  ids?: { group: string; dedup: string };
}

interface Unsent {
  index: number;
  code: string;
  retryable: boolean;
}

const queueName = (queueUrl: string): string => queueUrl.slice(queueUrl.lastIndexOf('/') + 1);

/** Greedy packing in order: ≤ 10 entries and ≤ 256 KiB per call. Each message alone always fits. */
const packBatches = (messages: readonly Encoded[]): Encoded[][] => {
  const batches: Encoded[][] = [];
  let current: Encoded[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (current.length === SQS_BATCH_MAX_ENTRIES || bytes + message.bytes > SQS_BATCH_MAX_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

/** Runs `task` over `items` with at most `limit` in flight; never rejects (tasks report their own failures). */
const forEachBounded = async <I>(items: readonly I[], limit: number, task: (item: I) => Promise<void>) => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as I;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

/**
 * {@link WorkQueue} on an SQS queue, standard or FIFO. Messages are JSON. A `send` either refuses up front
 * (validation, size) with nothing enqueued, or enqueues in as few SendMessageBatch calls as the
 * limits allow. If SQS still reports entries as failed after a few retries, it throws and some of
 * the messages may already be on the queue: consumers are idempotent on the business key
 * (`runId#batchNo`), so the caller simply retries the whole `send` (on a FIFO queue, SQS drops a
 * retried message within five minutes by its deduplication id). Calls run side by side, so messages
 * of one group sent in one `send` are not promised to keep their order.
 */
export class SqsWorkQueue<T> implements WorkQueue<T> {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #schema: z.ZodType<T> | undefined;
  readonly #parallelCalls: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #clock: Clock;
  readonly #fifo: FifoIds<T> | undefined;

  constructor(options: SqsWorkQueueOptions<T>) {
    if (isFifoQueueUrl(options.queueUrl) && options.fifo === undefined) {
      throw new ValidationError([
        {
          path: 'fifo',
          reason: `is required: ${queueName(options.queueUrl)} is a FIFO queue, which refuses a message without a group`,
        },
      ]);
    }
    this.#fifo = isFifoQueueUrl(options.queueUrl) ? options.fifo : undefined;
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#schema = options.schema;
    this.#parallelCalls = Math.max(1, options.parallelCalls ?? 4);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#clock = options.clock ?? systemClock;
  }

  async send(messages: readonly T[], options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      throw new ValidationError([
        { path: 'delaySeconds', reason: `must be an integer from 0 to ${MAX_DELAY_SECONDS}` },
      ]);
    }
    if (delaySeconds > 0 && this.#fifo !== undefined) {
      throw new ValidationError([
        {
          path: 'delaySeconds',
          reason: `must be 0: ${queueName(this.#queueUrl)} is a FIFO queue, which takes no per-message delay`,
        },
      ]);
    }
    const encoded = messages.map((message, index) => this.#encode(message, index));
    if (encoded.length === 0) return;

    const unsent: Unsent[] = [];
    await forEachBounded(packBatches(encoded), this.#parallelCalls, async (batch) => {
      unsent.push(...(await this.#sendBatch(batch, delaySeconds)));
    });
    if (unsent.length > 0) throw this.#unsentError(unsent, encoded.length);
  }

  #encode(message: T, index: number): Encoded {
    let value: unknown = message;
    if (this.#schema) {
      const parsed = this.#schema.safeParse(message);
      if (!parsed.success) {
        throw new ValidationError(
          parsed.error.issues.map((issue) => ({
            path: [`messages[${index}]`, ...issue.path.map(String)].join('.'),
            reason: issue.message,
          })),
        );
      }
      value = parsed.data;
    }
    const body = JSON.stringify(value);
    if (typeof body !== 'string') {
      throw new ValidationError([{ path: `messages[${index}]`, reason: 'is not JSON-serialisable' }]);
    }
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(index, bytes, MAX_MESSAGE_BYTES);
    if (this.#fifo === undefined) return { index, body, bytes };
    const typed = value as T;
    const ids = {
      group: fifoId(this.#fifo.groupId(typed)),
      dedup: fifoId(this.#fifo.deduplicationId(typed)),
    };
    return { index, body, bytes, ids };
  }

  /** Sends one packed batch, retrying entries SQS failed on its side; returns what was never sent. */
  async #sendBatch(batch: readonly Encoded[], delaySeconds: number): Promise<Unsent[]> {
    let pending = batch;
    const unsent: Unsent[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const entries: SendMessageBatchRequestEntry[] = pending.map((m) => ({
        Id: `m${m.index}`,
        MessageBody: m.body,
        ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
        ...(m.ids ? { MessageGroupId: m.ids.group, MessageDeduplicationId: m.ids.dedup } : {}),
      }));
      let failed: BatchResultErrorEntry[];
      try {
        // The SDK already retries throttling and 5xx on the whole call; an error here is after those.
        const result = await this.#client.send(
          new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }),
        );
        failed = result.Failed ?? [];
      } catch (error) {
        const code = (error as { name?: string }).name ?? 'Error';
        failed = entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: code }));
      }
      const byId = new Map(pending.map((m) => [`m${m.index}`, m]));
      const retry: Encoded[] = [];
      for (const failure of failed) {
        const message = failure.Id === undefined ? undefined : byId.get(failure.Id);
        if (!message) continue;
        const code = failure.Code ?? 'Unknown';
        if (failure.SenderFault || attempt >= this.#maxAttempts) {
          unsent.push({ index: message.index, code, retryable: !failure.SenderFault });
        } else {
          retry.push(message);
        }
      }
      pending = retry;
      if (pending.length > 0) {
        const backoff = this.#baseDelayMs * 2 ** (attempt - 1);
        await this.#clock.sleep(backoff / 2 + Math.random() * backoff);
      }
    }
    return unsent;
  }

  #unsentError(unsent: readonly Unsent[], total: number): Error {
    const codes = new Map<string, number>();
    for (const u of unsent) codes.set(u.code, (codes.get(u.code) ?? 0) + 1);
    const summary = [...codes].map(([code, n]) => `${code} ×${n}`).join(', ');
    const indexes = unsent
      .map((u) => u.index)
      .sort((a, b) => a - b)
      .slice(0, 20)
      .join(', ');
    const message =
      `${unsent.length} of ${total} messages were not sent to queue ${queueName(this.#queueUrl)} ` +
      `(${summary}; message indexes ${indexes}${unsent.length > 20 ? ', …' : ''}). ` +
      'The others may have been enqueued; retrying the whole send is safe.';
    // Anything SQS blames on the request will fail the same way again.
    return unsent.every((u) => u.retryable)
      ? new TransientError(message)
      : new PermanentError(message, { reason: 'sqs_rejected' });
  }
}
