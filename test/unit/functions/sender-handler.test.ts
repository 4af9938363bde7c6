import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSenderHandler } from '#functions/sender/handler.ts';
import { retryDelaySeconds } from '#functions/shared/lambda.ts';
import { unobserved } from '#functions/shared/observability.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const context = { getRemainingTimeInMillis: () => 300_000 } as Context;

const record = (body: unknown, receiveCount: number, id: string, group?: string): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `handle-${id}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      ...(group === undefined ? {} : { MessageGroupId: group }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:0:send',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;

describe('sender handler', () => {
  it('reports only failed records and schedules their retry with a doubling delay', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', [
      { id: '1', attributes: { email: 'a@example.com' } },
      { id: '2', attributes: { email: 'b@example.com' } },
    ]);
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [batch] = h.sendQueue.take();
    const retries: Array<[string, number]> = [];
    const handler = createSenderHandler({
      send: h.sendDeps,
      parallelism: 2,
      retryLater: async (handle, seconds) => {
        retries.push([handle, seconds]);
      },
      retryBaseSeconds: 30,
      maxReceiveCount: 5,
      observability: unobserved,
    });
    // Every request fails: the batch's one delivery exhausts its attempts, however many are in flight.
    h.destination.fault = () => ({ kind: 'transient' });
    const event: SQSEvent = { Records: [record(batch, 3, 'm1'), record('not json', 1, 'm2')] };
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(retries).toEqual([['handle-m1', 120]]);
    expect(h.deadLetters.letters).toHaveLength(1);
  });

  it('after a record of a group fails, its later records are reported unworked and released at once; other groups go on', async () => {
    const h = new PipelineHarness();
    h.segments.set(
      'seg-a',
      'Newsletter',
      Array.from({ length: 50 }, (_, i) => ({ id: String(i), attributes: { email: `p${i}@example.com` } })),
    );
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [first, second] = h.sendQueue.take();
    if (first === undefined || second === undefined) throw new Error('expected two batches');
    const retries: Array<[string, number]> = [];
    const handler = createSenderHandler({
      send: h.sendDeps,
      parallelism: 1,
      retryLater: async (handle, seconds) => {
        retries.push([handle, seconds]);
      },
      retryBaseSeconds: 30,
      maxReceiveCount: 5,
      observability: unobserved,
    });
    h.destination.fault = () => ({ kind: 'transient' });
    const event: SQSEvent = {
      Records: [
        record(first, 1, 'm1', 'conn-1'),
        record(second, 1, 'm2', 'conn-1'),
        record('not json', 1, 'm3', 'conn-2'),
      ],
    };
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
    expect(retries).toEqual([
      ['handle-m1', 30],
      ['handle-m2', 0],
    ]);
    expect(await h.state.batches.get(run.id, second.batchNo)).toBeUndefined(); // never leased: not worked on
    expect(h.deadLetters.letters).toHaveLength(1); // the other group's record was handled
  });

  it('the retry delay doubles per receive from the base, capped at 15 minutes', () => {
    expect([1, 2, 3, 4, 6, 10].map((n) => retryDelaySeconds(n, 30))).toEqual([30, 60, 120, 240, 900, 900]);
  });
});
