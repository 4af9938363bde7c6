import {
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '#lib/adapters/sqs/dead-letters.ts';
import {
  createLocalQueues,
  type LocalQueues,
  redrive,
  type SqsEventHandler,
  SqsEventSource,
  type SqsEventSourceOptions,
} from '#local/sqs-event-source.ts';
import { localSqs, receiveAll as receiveAllFrom, uniqueName } from '#test/support/aws.ts';

let sqs: SQSClient;
beforeAll(() => {
  sqs = localSqs();
});

const running: SqsEventSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

const queues = (maxReceiveCount = 3): Promise<LocalQueues> =>
  createLocalQueues(sqs, { prefix: uniqueName('events'), visibilityTimeoutSeconds: 1, maxReceiveCount });

const sendBodies = async (queueUrl: string, bodies: readonly string[]): Promise<void> => {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(i + j), MessageBody })),
      }),
    );
  }
};

const start = async (
  q: LocalQueues,
  handler: SqsEventHandler,
  options: Partial<SqsEventSourceOptions> = {},
): Promise<SqsEventSource> => {
  const source = new SqsEventSource({
    client: sqs,
    queueUrl: q.queueUrl,
    handler,
    waitTimeSeconds: 1,
    onError: () => {},
    ...options,
  });
  running.push(source);
  await source.start();
  return source;
};

const until = async (condition: () => boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

const receiveAll = (queueUrl: string, count: number, timeoutMs = 15_000): Promise<Message[]> =>
  receiveAllFrom(sqs, queueUrl, count, timeoutMs);

const failures = (records: readonly SQSRecord[]): SQSBatchResponse => ({
  batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })),
});

describe('SqsEventSource', () => {
  it('delivers a faithful SQSEvent and deletes what succeeded', async () => {
    const q = await queues();
    const events: SQSEvent[] = [];
    await sendBodies(q.queueUrl, ['a', 'b', 'c']);
    const source = await start(q, async (event) => {
      events.push(event);
    });
    await source.idle({ timeoutMs: 20_000 });

    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['a', 'b', 'c']);
    expect(records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: q.queueArn,
      awsRegion: q.queueArn.split(':')[3],
      messageAttributes: {},
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
    });
    expect(records[0]?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(records[0]?.receiptHandle).toBeTruthy();
  });

  it('a partial batch response redelivers only the failed records, with a growing receive count', async () => {
    const q = await queues(5);
    const seen: Array<{ body: string; count: number }> = [];
    await sendBodies(q.queueUrl, ['ok-1', 'fail', 'ok-2']);
    const source = await start(
      q,
      async (event) => {
        for (const r of event.Records)
          seen.push({ body: r.body, count: Number(r.attributes.ApproximateReceiveCount) });
        // Fail "fail" on its first two deliveries only.
        return failures(
          event.Records.filter((r) => r.body === 'fail' && Number(r.attributes.ApproximateReceiveCount) < 3),
        );
      },
      { concurrency: 1 },
    );
    await source.idle({ timeoutMs: 20_000 });

    expect(seen.filter((s) => s.body === 'ok-1')).toHaveLength(1);
    expect(seen.filter((s) => s.body === 'ok-2')).toHaveLength(1);
    expect(seen.filter((s) => s.body === 'fail').map((s) => s.count)).toEqual([1, 2, 3]);
  });

  it('a handler that throws fails the whole batch: every record comes back', async () => {
    const q = await queues(5);
    const seen: Array<{ body: string; count: string }> = [];
    await sendBodies(q.queueUrl, ['x', 'y']);
    let thrown = 0;
    const errors: string[] = [];
    const source = await start(
      q,
      async (event) => {
        for (const r of event.Records)
          seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
        if (thrown++ === 0 && event.Records.length === 2) throw new Error('boom');
      },
      { concurrency: 1, onError: (_e, info) => errors.push(info.phase) },
    );
    await source.idle({ timeoutMs: 20_000 });

    // Both records were received together (one batch), failed together, and came back.
    expect(
      seen
        .filter((s) => s.count === '1')
        .map((s) => s.body)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(
      seen
        .filter((s) => s.count === '2')
        .map((s) => s.body)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(errors).toEqual(['handler']);
  });

  it('an itemIdentifier not in the batch counts as a whole-batch failure', async () => {
    const q = await queues(5);
    let calls = 0;
    const errors: string[] = [];
    await sendBodies(q.queueUrl, ['only']);
    const source = await start(
      q,
      async () => (calls++ === 0 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined),
      { onError: (_e, info) => errors.push(info.phase) },
    );
    await source.idle({ timeoutMs: 20_000 });
    expect(calls).toBe(2);
    expect(errors).toEqual(['response']);
  });

  it('after maxReceiveCount failures the message is in the DLQ', async () => {
    const q = await queues(2);
    const counts: string[] = [];
    await sendBodies(q.queueUrl, ['poison']);
    const source = await start(q, async (event) => {
      counts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      return failures(event.Records);
    });
    await source.idle({ timeoutMs: 20_000 });

    expect(counts).toEqual(['1', '2']);
    const [dead] = await receiveAll(q.dlqUrl, 1);
    expect(dead?.Body).toBe('poison');
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const q = await queues(5);
    let active = 0;
    let peak = 0;
    await sendBodies(
      q.queueUrl,
      Array.from({ length: 12 }, (_, i) => `m${i}`),
    );
    const source = await start(
      q,
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 150));
        active--;
      },
      { concurrency: 3, batchSize: 1 },
    );
    await source.idle({ timeoutMs: 30_000 });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('the context counts down from the function timeout', async () => {
    const q = await queues();
    const remaining: number[] = [];
    const seen: Array<{ requestId: string; functionName: string }> = [];
    await sendBodies(q.queueUrl, ['t']);
    const source = await start(
      q,
      async (_event, context) => {
        remaining.push(context.getRemainingTimeInMillis());
        await new Promise((r) => setTimeout(r, 200));
        remaining.push(context.getRemainingTimeInMillis());
        seen.push({ requestId: context.awsRequestId, functionName: context.functionName });
      },
      { functionTimeoutMs: 10_000, functionName: 'sender' },
    );
    await source.idle({ timeoutMs: 20_000 });
    expect(seen).toEqual([{ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), functionName: 'sender' }]);
    const [first = 0, second = 0] = remaining;
    expect(first).toBeLessThanOrEqual(10_000);
    expect(first).toBeGreaterThan(5_000);
    expect(second).toBeLessThan(first);
  });

  it('a handler over the function timeout fails its batch', async () => {
    const q = await queues(5);
    let calls = 0;
    const errors: string[] = [];
    await sendBodies(q.queueUrl, ['slow']);
    const source = await start(
      q,
      async () => {
        if (calls++ === 0) await new Promise((r) => setTimeout(r, 600));
      },
      { functionTimeoutMs: 200, onError: (_e, info) => errors.push(info.phase) },
    );
    await source.idle({ timeoutMs: 20_000 });
    expect(calls).toBe(2);
    expect(errors).toEqual(['timeout']);
  });

  it('stop() waits for handlers in flight, and their batch is still deleted', async () => {
    const q = await queues();
    let finished = false;
    let started = false;
    await sendBodies(q.queueUrl, ['long']);
    const source = await start(q, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 500));
      finished = true;
    });
    await until(() => started);
    await source.stop();
    expect(finished).toBe(true);
    expect(source.inFlight).toBe(0);
    expect(await receiveAll(q.queueUrl, 1, 2_500)).toEqual([]);
  });

  it('redrive moves every DLQ message back to the queue, attributes included', async () => {
    const q = await queues();
    const dlq = new SqsDeadLetters({ client: sqs, queueUrl: q.dlqUrl });
    for (let i = 0; i < 13; i++) await dlq.send(`dead-${i}`, 'poison');

    expect(await redrive(sqs, q.dlqUrl, q.queueUrl)).toBe(13);

    const back = await receiveAll(q.queueUrl, 13);
    expect(back.map((m) => m.Body).sort()).toEqual(Array.from({ length: 13 }, (_, i) => `dead-${i}`).sort());
    expect(back[0]?.MessageAttributes?.reason?.StringValue).toBe('poison');
    expect(await receiveAll(q.dlqUrl, 1, 1_500)).toEqual([]);
  });

  it('on a FIFO queue a group is worked one message at a time, in order, also across a failure', async () => {
    const q = await createLocalQueues(sqs, {
      prefix: uniqueName('events'),
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 3,
      fifo: true,
    });
    expect(q.queueUrl.endsWith('.fifo') && q.dlqUrl.endsWith('.fifo')).toBe(true);
    const bodies = ['a1', 'a2', 'a3', 'b1', 'b2'];
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q.queueUrl,
        Entries: bodies.map((body, i) => ({
          Id: String(i),
          MessageBody: body,
          MessageGroupId: body.slice(0, 1),
          MessageDeduplicationId: body,
        })),
      }),
    );
    const handled: string[] = [];
    const busy = new Set<string>();
    let overlapped = false;
    let failedOnce = false;
    const source = await start(
      q,
      async (event) => {
        const failed: SQSRecord[] = [];
        for (const r of event.Records) {
          const group = r.attributes.MessageGroupId ?? '?';
          if (busy.has(group)) overlapped = true;
          busy.add(group);
          await new Promise((resolve) => setTimeout(resolve, 50));
          busy.delete(group);
          if (r.body === 'a2' && !failedOnce) {
            failedOnce = true;
            failed.push(r);
          } else handled.push(r.body);
        }
        return failures(failed);
      },
      { concurrency: 3, batchSize: 10 },
    );
    await source.idle({ timeoutMs: 20_000 });
    expect(overlapped).toBe(false);
    expect(handled.filter((b) => b.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(handled.filter((b) => b.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('redrive between FIFO queues keeps each message in its group', async () => {
    const q = await createLocalQueues(sqs, { prefix: uniqueName('events'), fifo: true });
    const dlq = new SqsDeadLetters({
      client: sqs,
      queueUrl: q.dlqUrl,
      groupId: (body) => body.split(' ')[0] ?? '',
    });
    await dlq.send('conn-1 batch', 'poison');
    await dlq.send('conn-2 batch', 'poison');
    expect(await redrive(sqs, q.dlqUrl, q.queueUrl)).toBe(2);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: q.queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    expect(Messages.map((m) => [m.Body, m.Attributes?.MessageGroupId]).sort()).toEqual([
      ['conn-1 batch', 'conn-1'],
      ['conn-2 batch', 'conn-2'],
    ]);
  });
});
