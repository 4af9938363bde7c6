import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { type Clock, systemClock } from '#lib/ports/clock.ts';

/**
 * The context a handler receives: a complete Lambda `Context`, so real handlers plug in unchanged.
 * `getRemainingTimeInMillis` counts down from the configured function timeout.
 */
export type LambdaLikeContext = Context;

export type SqsEventHandler = (
  event: SQSEvent,
  context: LambdaLikeContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: as aws-lambda's SQSHandler, so `async (event) => {}` fits
) => Promise<SQSBatchResponse | void>;

export type EventSourcePhase = 'receive' | 'handler' | 'timeout' | 'response' | 'delete';

export interface SqsEventSourceOptions {
  client: SQSClient;
  queueUrl: string;
  /** Looked up with GetQueueAttributes on `start()` when not given. */
  queueArn?: string;
  handler: SqsEventHandler;
  /** Messages per invocation, 1–10 (one ReceiveMessage; no batching window). Default 10. */
  batchSize?: number;
  /** Concurrent pollers, each running at most one handler: Lambda's `maxConcurrency`. Default 2. */
  concurrency?: number;
  /** Like the function timeout: a handler still running after it fails its whole batch. Default 30 s. */
  functionTimeoutMs?: number;
  functionName?: string;
  /** Long-poll wait per ReceiveMessage; also bounds how long `stop()` waits for an idle poller. Default 1. */
  waitTimeSeconds?: number;
  /** As the event source mapping's `ReportBatchItemFailures`. Default true. */
  reportBatchItemFailures?: boolean;
  /** Handler errors, timeouts, invalid responses and SQS errors. Default: one JSON line on stderr. */
  onError?: (error: unknown, info: { phase: EventSourcePhase; messageIds: string[] }) => void;
  clock?: Clock;
}

const defaultOnError = (error: unknown, info: { phase: EventSourcePhase; messageIds: string[] }): void => {
  const e =
    error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
  console.error(JSON.stringify({ level: 'ERROR', source: 'sqs-event-source', ...info, error: e }));
};

const base64 = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('base64');

/** SQS API attribute shape → the camel-cased shape Lambda puts in `record.messageAttributes`. */
const toLambdaAttributes = (
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes => {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => base64(b) ?? ''),
      dataType: value.DataType ?? 'String',
    };
  }
  return result;
};

const regionOf = (arn: string): string => arn.split(':')[3] ?? 'us-east-1';

/** Builds the record Lambda would deliver for a received message. */
export const toSqsRecord = (message: Message, queueArn: string): SQSRecord => {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ...a,
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: regionOf(queueArn),
  };
};

/**
 * Which records to delete after an invocation, by Lambda's rules for partial batch responses: no
 * response, or an empty/absent `batchItemFailures`, is complete success; a failure whose
 * `itemIdentifier` is missing, empty, or not a message of this batch makes it a complete failure.
 * Returns the error instead of the ids when the response is invalid.
 */
export const recordsToDelete = (
  records: readonly SQSRecord[],
  response: unknown,
  reportBatchItemFailures: boolean,
): { delete: SQSRecord[]; invalid?: string } => {
  if (!reportBatchItemFailures || response === undefined || response === null)
    return { delete: [...records] };
  if (typeof response !== 'object') return { delete: [], invalid: 'the response is not an object' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { delete: [...records] };
  if (!Array.isArray(failures)) return { delete: [], invalid: 'batchItemFailures is not an array' };
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) {
      return {
        delete: [],
        invalid: `itemIdentifier ${JSON.stringify(id ?? null)} is not a message of this batch`,
      };
    }
    failed.add(id);
  }
  return { delete: records.filter((r) => !failed.has(r.messageId)) };
};

class TaskTimedOutError extends Error {
  override readonly name = 'TaskTimedOutError';
}

/**
 * Lambda's SQS event source mapping, reproduced against any SQS endpoint (fauxqs locally).
 * `concurrency` pollers each loop: ReceiveMessage (up to `batchSize`) → invoke the handler with a
 * faithful `SQSEvent` → delete what succeeded. Failed records are not touched: they reappear when
 * the queue's VisibilityTimeout runs out (set it on the queue, as in AWS — see
 * {@link createLocalQueues}), and after `maxReceiveCount` receives the queue's RedrivePolicy moves
 * them to the DLQ.
 */
export class SqsEventSource {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #handler: SqsEventHandler;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #functionTimeoutMs: number;
  readonly #functionName: string;
  readonly #waitTimeSeconds: number;
  readonly #reportBatchItemFailures: boolean;
  readonly #onError: NonNullable<SqsEventSourceOptions['onError']>;
  readonly #clock: Clock;
  #queueArn: string | undefined;
  #workers: Promise<void>[] = [];
  #stopping = false;
  #inFlight = 0;

  constructor(options: SqsEventSourceOptions) {
    const batchSize = options.batchSize ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
      throw new RangeError(`batchSize must be an integer from 1 to 10, got ${batchSize}`);
    }
    const concurrency = options.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#queueArn = options.queueArn;
    this.#handler = options.handler;
    this.#batchSize = batchSize;
    this.#concurrency = concurrency;
    this.#functionTimeoutMs = options.functionTimeoutMs ?? 30_000;
    this.#functionName = options.functionName ?? 'local-function';
    this.#waitTimeSeconds = options.waitTimeSeconds ?? 1;
    this.#reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.#onError = options.onError ?? defaultOnError;
    this.#clock = options.clock ?? systemClock;
  }

  /** Handlers running (or deleting their batch) right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  async start(): Promise<void> {
    if (this.#workers.length > 0) throw new Error('SqsEventSource is already started');
    this.#queueArn ??= await queueArnOf(this.#client, this.#queueUrl);
    this.#stopping = false;
    this.#workers = Array.from({ length: this.#concurrency }, () => this.#poll());
  }

  /**
   * Stops polling and resolves once every poller has finished: a long poll in progress returns
   * within `waitTimeSeconds`, and a batch it brings back is still processed (its receive already
   * counted), as is every handler already running.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  /**
   * Resolves when nothing is left to do: no message visible, in flight or delayed on the queue, and
   * no handler running. Messages waiting out a visibility timeout count as pending, so this also
   * waits for their redelivery (or their move to the DLQ).
   */
  async idle(options: { timeoutMs?: number; pollIntervalMs?: number } = {}): Promise<void> {
    const deadline =
      options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    const interval = options.pollIntervalMs ?? 100;
    for (;;) {
      let pending = 'handlers running';
      if (this.#inFlight === 0) {
        const counts = await queueCounts(this.#client, this.#queueUrl);
        if (counts.visible + counts.notVisible + counts.delayed === 0 && this.#inFlight === 0) return;
        pending = `${counts.visible} visible, ${counts.notVisible} in flight, ${counts.delayed} delayed`;
      }
      if (Date.now() >= deadline) {
        throw new Error(`Queue ${this.#queueUrl} was not idle after ${options.timeoutMs} ms (${pending})`);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  async #poll(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.#client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#queueUrl,
            MaxNumberOfMessages: this.#batchSize,
            WaitTimeSeconds: this.#waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        ));
        failures = 0;
      } catch (error) {
        if (this.#stopping) break;
        this.#onError(error, { phase: 'receive', messageIds: [] });
        failures++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * 2 ** failures)));
        continue;
      }
      if (messages.length === 0) {
        // A short poll (waitTimeSeconds 0) would otherwise spin.
        if (this.#waitTimeSeconds === 0) await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.#inFlight++;
      try {
        await this.#invoke(messages);
      } finally {
        this.#inFlight--;
      }
    }
  }

  async #invoke(messages: Message[]): Promise<void> {
    const queueArn = this.#queueArn ?? '';
    const records = messages.map((m) => toSqsRecord(m, queueArn));
    const messageIds = records.map((r) => r.messageId);
    const invocation = Promise.resolve()
      .then(() => this.#handler({ Records: records }, this.#context()))
      .then(
        (response) => ({ ok: true as const, response }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#functionTimeoutMs);
    });
    const outcome = await Promise.race([invocation, timeout]);
    clearTimeout(timer);

    if (outcome === 'timeout') {
      const seconds = (this.#functionTimeoutMs / 1000).toFixed(2);
      this.#onError(new TaskTimedOutError(`Task timed out after ${seconds} seconds`), {
        phase: 'timeout',
        messageIds,
      });
      // Lambda would freeze the environment; here the promise runs on, and this poller stays busy
      // until it settles so `concurrency` still bounds the handlers running.
      await invocation;
      return;
    }
    if (!outcome.ok) {
      this.#onError(outcome.error, { phase: 'handler', messageIds });
      return;
    }
    const decision = recordsToDelete(records, outcome.response, this.#reportBatchItemFailures);
    if (decision.invalid) {
      this.#onError(
        new Error(`Invalid partial batch response: ${decision.invalid}; the whole batch failed`),
        {
          phase: 'response',
          messageIds,
        },
      );
      return;
    }
    await this.#delete(decision.delete);
  }

  async #delete(records: readonly SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      const { Failed = [] } = await this.#client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (Failed.length > 0) {
        const ids = Failed.map((f) => records[Number(f.Id)]?.messageId ?? '?');
        this.#onError(
          new Error(`DeleteMessageBatch failed for ${Failed.length} message(s): ${Failed[0]?.Code}`),
          {
            phase: 'delete',
            messageIds: ids,
          },
        );
      }
    } catch (error) {
      // The messages come back after the visibility timeout; handlers are idempotent.
      this.#onError(error, { phase: 'delete', messageIds: records.map((r) => r.messageId) });
    }
  }

  #context(): LambdaLikeContext {
    const deadline = this.#clock.now() + this.#functionTimeoutMs;
    const region = regionOf(this.#queueArn ?? '');
    const unsupported = (): never => {
      throw new Error('callback-style completion is not supported; return a promise');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.#functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${this.#functionName}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.#functionName}`,
      logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - this.#clock.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }
}

const queueArnOf = async (client: SQSClient, queueUrl: string): Promise<string> => {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${queueUrl} did not report its ARN`);
  return arn;
};

const queueCounts = async (
  client: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; notVisible: number; delayed: number }> => {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    notVisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};

export interface LocalQueues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/**
 * Creates the work queue `${prefix}` and its DLQ `${prefix}-dlq`, wired like the CDK stack: the
 * queue's VisibilityTimeout governs redelivery, and after `maxReceiveCount` receives a message
 * moves to the DLQ (kept 14 days). With `fifo`, both are FIFO queues (`.fifo`, as SQS requires a
 * FIFO queue's DLQ to be), taking explicit deduplication ids as the stack's do; fauxqs then gives
 * a group's messages to one consumer at a time, as SQS does.
 */
export const createLocalQueues = async (
  client: SQSClient,
  options: { prefix: string; visibilityTimeoutSeconds?: number; maxReceiveCount?: number; fifo?: boolean },
): Promise<LocalQueues> => {
  const suffix = options.fifo === true ? '.fifo' : '';
  const fifo = options.fifo === true ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
  const { QueueUrl: dlqUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: `${options.prefix}-dlq${suffix}`,
      Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600), ...fifo },
    }),
  );
  if (!dlqUrl) throw new Error(`CreateQueue ${options.prefix}-dlq returned no URL`);
  const dlqArn = await queueArnOf(client, dlqUrl);
  const { QueueUrl: queueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: `${options.prefix}${suffix}`,
      Attributes: {
        ...fifo,
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  if (!queueUrl) throw new Error(`CreateQueue ${options.prefix} returned no URL`);
  return { queueUrl, queueArn: await queueArnOf(client, queueUrl), dlqUrl, dlqArn };
};

/**
 * A FIFO message's group, to send it on in the group it had (nothing for a standard one). Its
 * deduplication id is the DLQ message's own id: the original one may still be inside SQS's
 * five-minute window, which would drop the copy, while a re-drive repeated after a crash is still
 * sent once.
 */
const fifoIdsOf = (m: Message): { MessageGroupId?: string; MessageDeduplicationId?: string } => {
  const group = m.Attributes?.MessageGroupId;
  return group === undefined ? {} : { MessageGroupId: group, MessageDeduplicationId: m.MessageId ?? '' };
};

/**
 * Moves every message from a DLQ back to a queue, body, message attributes and (between FIFO
 * queues) message group unchanged, and returns how many moved. Local stand-in for `aws sqs start-message-move-task`. Each message is
 * deleted from the DLQ only after SQS accepted its copy, so a crash can duplicate but never lose
 * one (the consumers are idempotent).
 */
export const redrive = async (client: SQSClient, fromDlqUrl: string, toQueueUrl: string): Promise<number> => {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: fromDlqUrl,
        MaxNumberOfMessages: 10,
        // Long polling asks every SQS host, so an empty answer means the DLQ really is empty.
        WaitTimeSeconds: 1,
        // Long enough to copy and delete this batch before anyone else could see it again.
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    if (Messages.length === 0) return moved;
    const { Successful = [], Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: toQueueUrl,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
          ...fifoIdsOf(m),
        })),
      }),
    );
    if (Successful.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: fromDlqUrl,
          Entries: Successful.map((s) => ({
            Id: s.Id ?? '',
            ReceiptHandle: Messages[Number(s.Id)]?.ReceiptHandle ?? '',
          })),
        }),
      );
      moved += Successful.length;
    }
    if (Failed.length > 0) {
      throw new Error(
        `Re-drive stopped: ${Failed.length} message(s) could not be sent back (${Failed[0]?.Code}); ` +
          `${moved} moved so far, the rest are still in the DLQ.`,
      );
    }
  }
};
