import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PlannerDeps } from '#functions/planner/deps.ts';
import { createPlannerHandler } from '#functions/planner/handler.ts';
import { InMemoryDeadLetters } from '#test/fakes/in-memory-queue.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const context = { getRemainingTimeInMillis: () => 300_000 } as Context;

const record = (body: string, id: string): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `handle-${id}`,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:0:plan',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;

describe('planner handler', () => {
  it('an unreadable plan message goes to the dead-letter queue at once, with its reason, and is not retried', async () => {
    const h = new PipelineHarness();
    const planDeadLetters = new InMemoryDeadLetters();
    const handler = createPlannerHandler({
      plan: h.planDeps,
      start: h.startDeps,
      api: {} as PlannerDeps['api'],
      planDeadLetters,
      flushMetrics: () => {},
    });
    const event: SQSEvent = {
      Records: [record('not json', 'm1'), record('{"v":1,"type":"plan"}', 'm2')],
    };

    const response = await handler(event, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(planDeadLetters.letters.map((l) => l.reason)).toEqual([
      'body is not JSON',
      expect.stringMatching(/^runId: /),
    ]);
  });
});
