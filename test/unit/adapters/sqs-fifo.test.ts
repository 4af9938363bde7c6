import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '#lib/adapters/sqs/dead-letters.ts';
import { fifoId } from '#lib/adapters/sqs/fifo.ts';
import { SqsWorkQueue } from '#lib/adapters/sqs/work-queue.ts';
import { ValidationError } from '#lib/domain/errors.ts';

interface Msg {
  group: string;
  n: number;
}
const FIFO_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/send.fifo';
const STANDARD_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/send';
const ids = { groupId: (m: Msg) => m.group, deduplicationId: (m: Msg) => `${m.group}#${m.n}` };

const sqs = mockClient(SQSClient);
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({});
});

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('SqsWorkQueue on a FIFO queue', () => {
  it('refuses to be built for a FIFO queue without its ids, naming the option', () => {
    const error = thrown(() => new SqsWorkQueue<Msg>({ client: new SQSClient({}), queueUrl: FIFO_URL }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('fifo');
    expect((error as ValidationError).message).toContain('send.fifo');
  });

  it('refuses a per-message delay before sending anything, naming delaySeconds', async () => {
    const queue = new SqsWorkQueue<Msg>({ client: new SQSClient({}), queueUrl: FIFO_URL, fifo: ids });
    const error = await queue.send([{ group: 'a', n: 1 }], { delaySeconds: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['delaySeconds']);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends each message with its group and deduplication id, as SQS takes them', async () => {
    const queue = new SqsWorkQueue<Msg>({ client: new SQSClient({}), queueUrl: FIFO_URL, fifo: ids });
    const long = 'x'.repeat(200);
    await queue.send([
      { group: 'conn-1', n: 1 },
      { group: 'conn-ü', n: 2 },
      { group: long, n: 3 },
    ]);
    const entries = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries.map((e) => [e.MessageGroupId, e.MessageDeduplicationId])).toEqual([
      ['conn-1', 'conn-1#1'],
      [fifoId('conn-ü'), fifoId('conn-ü#2')],
      [fifoId(long), fifoId(`${long}#3`)],
    ]);
    for (const e of entries) {
      expect(e.DelaySeconds).toBeUndefined();
      expect(e.MessageGroupId).toMatch(/^[\x21-\x7e]{1,128}$/);
      expect(e.MessageDeduplicationId).toMatch(/^[\x21-\x7e]{1,128}$/);
    }
  });

  it('a standard queue gets no FIFO ids and keeps its delays', async () => {
    const queue = new SqsWorkQueue<Msg>({ client: new SQSClient({}), queueUrl: STANDARD_URL, fifo: ids });
    await queue.send([{ group: 'a', n: 1 }], { delaySeconds: 5 });
    const [entry] = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(entry?.MessageGroupId).toBeUndefined();
    expect(entry?.MessageDeduplicationId).toBeUndefined();
    expect(entry?.DelaySeconds).toBe(5);
  });
});

describe('fifoId', () => {
  it('keeps an id SQS takes and hashes any other to 64 hex characters, the same every time', () => {
    expect(fifoId('run-1#4#0')).toBe('run-1#4#0');
    expect(fifoId('with space')).toMatch(/^[0-9a-f]{64}$/);
    expect(fifoId('x'.repeat(129))).toBe(fifoId('x'.repeat(129)));
    expect(fifoId('x'.repeat(129))).not.toBe(fifoId('x'.repeat(130)));
    expect(fifoId('')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('SqsDeadLetters on a FIFO DLQ', () => {
  it('puts a dead letter in the group the wiring names, deduplicated by its body', async () => {
    const letters = new SqsDeadLetters({
      client: new SQSClient({}),
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/send-dlq.fifo',
      groupId: () => 'conn-1',
    });
    await letters.send('{"connectionId":"conn-1"}', 'poison');
    await letters.send('{"connectionId":"conn-1"}', 'poison again');
    const inputs = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.MessageGroupId)).toEqual(['conn-1', 'conn-1']);
    expect(inputs[0]?.MessageDeduplicationId).toBeDefined();
    expect(inputs[0]?.MessageDeduplicationId).toBe(inputs[1]?.MessageDeduplicationId);
  });

  it('a standard DLQ gets no FIFO ids', async () => {
    const letters = new SqsDeadLetters({ client: new SQSClient({}), queueUrl: STANDARD_URL });
    await letters.send('body', 'poison');
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.MessageGroupId).toBeUndefined();
    expect(input?.MessageDeduplicationId).toBeUndefined();
  });
});
