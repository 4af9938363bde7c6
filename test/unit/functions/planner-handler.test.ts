import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PlannerDeps } from '#functions/planner/deps.ts';
import {
  createPlanMessageHandler,
  createScheduledRefreshHandler,
  createStartRunHandler,
} from '#functions/planner/handler.ts';
import { observability } from '#functions/shared/observability.ts';
import { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { InMemoryDeadLetters } from '#test/fakes/in-memory-queue.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const context = {
  functionName: 'autopilot-export-planner',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 300_000,
} as Context;

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

/** The planner's dependencies on the in-memory pipeline, logging into `lines`. */
const plannerDeps = (h: PipelineHarness, lines: string[] = []): PlannerDeps => {
  const logger = new ScopedLogger(new RecordingLogger(lines));
  return {
    plan: { ...h.planDeps, logger },
    start: { ...h.startDeps, logger },
    planDeadLetters: new InMemoryDeadLetters(),
    observability: observability(logger, noMetrics),
  };
};

describe('planner handlers', () => {
  it('planMessage: an unreadable plan message goes to the dead-letter queue at once, with its reason, and is not retried', async () => {
    const h = new PipelineHarness();
    const lines: string[] = [];
    const deps = plannerDeps(h, lines);
    const planDeadLetters = deps.planDeadLetters as InMemoryDeadLetters;
    const event: SQSEvent = {
      Records: [record('not json', 'm1'), record('{"v":1,"type":"plan"}', 'm2')],
    };

    const response = await createPlanMessageHandler(deps)(event, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(planDeadLetters.letters.map((l) => l.reason)).toEqual([
      'body is not JSON',
      expect.stringMatching(/^runId: /),
    ]);
    expect(
      lines.map((l) => JSON.parse(l)).map((l) => [l.message, l.messageId, l.function_request_id]),
    ).toEqual([
      ['malformed plan message sent to the dead-letter queue', 'm1', 'req-1'],
      ['malformed plan message sent to the dead-letter queue', 'm2', 'req-1'],
    ]);
  });

  it('planMessage: plans the run a message names', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const started = await h.start();
    const [message] = h.planQueue.take();

    const response = await createPlanMessageHandler(plannerDeps(h))(
      { Records: [record(JSON.stringify(message), 'm1')] },
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sendQueue.take().map((b) => b.runId)).toContain(started.run.id);
  });

  it('scheduledRefresh: starts a run of every scheduled export', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addConnection();
    await h.addExport({ scheduled: true }, 'exp-1');
    await h.addExport({ scheduled: false }, 'exp-2');

    const summary = await createScheduledRefreshHandler(plannerDeps(h))(
      { kind: 'scheduled-refresh' },
      context,
    );

    expect(summary.started).toHaveLength(1);
    expect(h.planQueue.take().map((m) => m.exportId)).toEqual(['exp-1']);
  });

  it('scheduledRefresh: refuses any other input, naming the field, and starts nothing', async () => {
    const h = new PipelineHarness();
    await h.addConnection();
    await h.addExport({ scheduled: true });

    const refused = createScheduledRefreshHandler(plannerDeps(h))({ kind: 'start-run' }, context);

    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/^event\.kind: /);
    expect(h.planQueue.take()).toEqual([]);
  });

  it('startRun: starts one run of the export it names, with the trigger it gives', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addConnection();
    await h.addExport();

    const result = await createStartRunHandler(plannerDeps(h))(
      { kind: 'start-run', exportId: 'exp-1', trigger: 'dry-run', requestedBy: 'ops' },
      context,
    );

    expect(result.started).toBe(true);
    expect(result.run).toMatchObject({ exportId: 'exp-1', trigger: 'dry-run', requestedBy: 'ops' });
    expect(h.planQueue.take().map((m) => m.runId)).toEqual([result.run.id]);
  });

  it('startRun: refuses an event without an export id, naming the field', async () => {
    const h = new PipelineHarness();

    const refused = createStartRunHandler(plannerDeps(h))(
      { kind: 'start-run', trigger: 'on-demand', requestedBy: 'ops' },
      context,
    );

    await expect(refused).rejects.toThrow(/event\.exportId: /);
  });
});
