import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { SqsDeadLetters } from '#lib/adapters/sqs/dead-letters.ts';
import { MessageTooLargeError, SQS_BATCH_MAX_BYTES, SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import { TransientError, ValidationError } from '#lib/domain/errors.ts';
import { MAX_MESSAGE_BYTES } from '#lib/domain/messages.ts';
import { localSqs, receiveAll as receiveAllFrom, uniqueName } from '#test/support/aws.ts';

const Msg = z.object({ n: z.number().int(), pad: z.string().default('') });
type Msg = z.infer<typeof Msg>;

let sqs: SQSClient;
beforeAll(() => {
  sqs = localSqs();
});

const newQueue = async (): Promise<string> => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('work') }));
  if (!QueueUrl) throw new Error('no queue url');
  return QueueUrl;
};

const receiveAll = (queueUrl: string, count: number, timeoutMs = 10_000): Promise<Message[]> =>
  receiveAllFrom(sqs, queueUrl, count, timeoutMs);

const depth = async (queueUrl: string): Promise<number> => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesDelayed)
  );
};

const batchCalls = (client: SQSClient) => {
  const spy = vi.spyOn(client, 'send');
  return () =>
    spy.mock.calls
      .map(([command]): unknown => command)
      .filter((c): c is SendMessageBatchCommand => c instanceof SendMessageBatchCommand);
};

describe('SqsWorkQueue', () => {
  it('25 messages arrive exactly once, in batch calls of at most 10', async () => {
    const client = localSqs();
    const calls = batchCalls(client);
    const queueUrl = await newQueue();
    const queue = new SqsWorkQueue<Msg>({ client, queueUrl, schema: Msg });

    await queue.send(Array.from({ length: 25 }, (_, n) => ({ n, pad: '' })));

    expect(calls().map((c) => c.input.Entries?.length)).toEqual([10, 10, 5]);
    const received = await receiveAll(queueUrl, 25);
    const ns = received.map((m) => (JSON.parse(m.Body ?? '') as Msg).n).sort((a, b) => a - b);
    expect(ns).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(await receiveAll(queueUrl, 1, 1_500)).toEqual([]);
  });

  it('packs by payload too: no call carries more than 256 KiB', async () => {
    const client = localSqs();
    const calls = batchCalls(client);
    const queueUrl = await newQueue();
    const queue = new SqsWorkQueue<Msg>({ client, queueUrl });
    const pad = 'x'.repeat(100 * 1024);

    await queue.send(Array.from({ length: 5 }, (_, n) => ({ n, pad })));

    const sizes = calls().map((c) =>
      (c.input.Entries ?? []).reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0),
    );
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(SQS_BATCH_MAX_BYTES);
    expect(await receiveAll(queueUrl, 5)).toHaveLength(5);
  });

  it('refuses an oversize message before sending anything, naming its index and size', async () => {
    const client = localSqs();
    const calls = batchCalls(client);
    const queueUrl = await newQueue();
    const queue = new SqsWorkQueue<Msg>({ client, queueUrl });
    const messages = Array.from({ length: 15 }, (_, n) => ({ n, pad: '' }));
    messages[12] = { n: 12, pad: 'x'.repeat(MAX_MESSAGE_BYTES) };

    const error = await queue.send(messages).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toMatch(/Message 12 is \d+ bytes/);
    expect(calls()).toHaveLength(0);
    expect(await depth(queueUrl)).toBe(0);
  });

  it('refuses a message its schema rejects before sending anything', async () => {
    const client = localSqs();
    const calls = batchCalls(client);
    const queue = new SqsWorkQueue<Msg>({ client, queueUrl: await newQueue(), schema: Msg });
    const error = await queue
      .send([
        { n: 1, pad: '' },
        { n: 1.5, pad: '' },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('messages[1].n');
    expect(calls()).toHaveLength(0);
  });

  it('delaySeconds keeps messages invisible at first, then delivers them', async () => {
    const queueUrl = await newQueue();
    const queue = new SqsWorkQueue<Msg>({ client: sqs, queueUrl });
    await queue.send([{ n: 1, pad: '' }], { delaySeconds: 2 });

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }),
    );
    expect(Messages).toHaveLength(0);
    expect(await receiveAll(queueUrl, 1, 15_000)).toHaveLength(1);
  });

  it('retries entries SQS failed on its side, then names how many were not sent', async () => {
    const client = localSqs();
    const queueUrl = await newQueue();
    const real = client.send.bind(client);
    let flaky = 2; // the first two calls lose their first two entries
    const sent = vi.spyOn(client, 'send').mockImplementation((async (command: unknown) => {
      if (!(command instanceof SendMessageBatchCommand)) return real(command as never);
      const entries = command.input.Entries ?? [];
      if (flaky-- > 0) {
        const ok = await real(new SendMessageBatchCommand({ ...command.input, Entries: entries.slice(2) }));
        const failed = entries
          .slice(0, 2)
          .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' }));
        return { ...ok, Failed: [...(ok.Failed ?? []), ...failed] };
      }
      return real(command);
    }) as never);
    const queue = new SqsWorkQueue<Msg>({ client, queueUrl, baseDelayMs: 1 });

    await queue.send(Array.from({ length: 4 }, (_, n) => ({ n, pad: '' })));
    expect(await receiveAll(queueUrl, 4)).toHaveLength(4);

    flaky = Number.POSITIVE_INFINITY;
    const error = await queue
      .send([
        { n: 9, pad: '' },
        { n: 10, pad: '' },
        { n: 11, pad: '' },
      ])
      .catch((e) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/^2 of 3 messages were not sent/);
    sent.mockRestore();
  });
});

describe('SqsDeadLetters', () => {
  it('keeps the body and attaches reason (≤ 256 chars) and failedAt', async () => {
    const queueUrl = await newQueue();
    const dlq = new SqsDeadLetters({ client: sqs, queueUrl, clock: { now: () => 0, sleep: async () => {} } });
    await dlq.send('{"v":1}', `poison: ${'é'.repeat(400)}`);

    const [message] = await receiveAll(queueUrl, 1);
    expect(message?.Body).toBe('{"v":1}');
    const reason = message?.MessageAttributes?.reason?.StringValue ?? '';
    expect(reason.startsWith('poison: ')).toBe(true);
    expect(Array.from(reason)).toHaveLength(256);
    expect(message?.MessageAttributes?.failedAt?.StringValue).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('SqsWorkQueue on a FIFO queue', () => {
  interface Grouped {
    group: string;
    n: number;
  }
  const newFifoQueue = async (): Promise<string> => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${uniqueName('work')}.fifo`,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      }),
    );
    if (!QueueUrl) throw new Error('no queue url');
    return QueueUrl;
  };
  const receive = async (queueUrl: string): Promise<Message[]> =>
    (
      await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
      )
    ).Messages ?? [];
  const numbers = (messages: readonly Message[]): string[] =>
    messages.map((m) => {
      const body = JSON.parse(m.Body ?? '{}') as Grouped;
      return `${body.group}#${body.n}`;
    });

  it('a repeated send is kept once, and a group’s next message waits until the one in flight is done', async () => {
    const queueUrl = await newFifoQueue();
    const queue = new SqsWorkQueue<Grouped>({
      client: sqs,
      queueUrl,
      fifo: { groupId: (m) => m.group, deduplicationId: (m) => `${m.group}#${m.n}` },
    });
    await queue.send([
      { group: 'a', n: 1 },
      { group: 'a', n: 2 },
      { group: 'b', n: 1 },
    ]);
    await queue.send([{ group: 'a', n: 1 }]); // a retried send: SQS drops it by its deduplication id

    const first = await receive(queueUrl);
    expect(numbers(first).sort()).toEqual(['a#1', 'b#1']);
    expect(await receive(queueUrl)).toEqual([]); // both groups are held by a message in flight
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first.find((m) => m.Body?.includes('"a"'))?.ReceiptHandle,
      }),
    );
    expect(numbers(await receive(queueUrl))).toEqual(['a#2']);
    expect(await depth(queueUrl)).toBe(0); // the retried a#1 was never enqueued
  });
});
