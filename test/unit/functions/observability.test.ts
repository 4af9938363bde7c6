import { Logger as PowertoolsLoggerImpl } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSenderHandler } from '#functions/sender/handler.ts';
import { recordLogKeys } from '#functions/shared/lambda.ts';
import { observability } from '#functions/shared/observability.ts';
import { PowertoolsLogger } from '#lib/adapters/observability/powertools.ts';
import { ScopedLogger } from '#lib/adapters/observability/scoped-logger.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import type { SendBatchDeps } from '#lib/use-cases/send-batch.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';

const SERVICE = 'observability-test';

/** Every JSON line the real Powertools logger of this test writes to stdout or stderr. */
const captureLogLines = () => {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
  }
  return (): Array<Record<string, unknown>> =>
    written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.service === SERVICE);
};

afterEach(() => {
  vi.restoreAllMocks();
});

const context = (requestId: string): Context =>
  ({
    functionName: 'autopilot-export-sender',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:autopilot-export-sender',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 300_000,
  }) as Context;

const batchRecord = (messageId: string, runId: string, batchNo: number): SQSRecord =>
  ({
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: JSON.stringify({
      v: 1,
      type: 'send-batch',
      op: 'list-leave',
      runId,
      exportId: `exp-of-${runId}`,
      connectionId: 'conn-1',
      batchNo,
      segment: 0,
      listId: 'list-1',
      items: [{ email: 'someone@example.com', forget: false }],
    }),
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:0:send',
    awsRegion: 'eu-west-1',
  }) as unknown as SQSRecord;

/**
 * A sender whose run look-up holds every record until `inFlight` records are waiting, then finds no
 * run: each record then logs its dead-letter line through the function's root logger, with no ids of
 * its own in the fields, while the others are still being processed.
 */
const senderOnRealPowertools = (inFlight: number) => {
  const logger = new ScopedLogger(new PowertoolsLogger(new PowertoolsLoggerImpl({ serviceName: SERVICE })));
  let waiting = 0;
  let release = (): void => {};
  const allWaiting = new Promise<void>((resolve) => {
    release = resolve;
  });
  const send = {
    logger,
    metrics: noMetrics,
    runs: {
      get: async (): Promise<RunRecord | undefined> => {
        waiting += 1;
        if (waiting >= inFlight) release();
        await allWaiting;
        return undefined;
      },
    },
    deadLetters: { send: async () => {} },
  } as unknown as SendBatchDeps;
  const handler = createSenderHandler({
    send,
    parallelism: inFlight,
    retryLater: async () => {},
    retryBaseSeconds: 30,
    maxReceiveCount: 5,
    observability: observability(logger, noMetrics),
  });
  return { handler, logger };
};

describe('observability of the Lambda handlers', () => {
  it('records processed at once each log with their own ids, and every line carries the Lambda context', async () => {
    const lines = captureLogLines();
    const { handler } = senderOnRealPowertools(2);
    const event: SQSEvent = {
      Records: [batchRecord('m1', 'run-a', 0), batchRecord('m2', 'run-b', 7)],
    };

    await handler(event, context('req-1'));

    const written = lines();
    const deadLettered = written.filter(
      (l) => l.message === 'batch for an unknown run sent to the dead-letter queue',
    );
    expect(
      deadLettered
        .map((l) => ({ messageId: l.messageId, runId: l.runId, exportId: l.exportId, batchNo: l.batchNo }))
        .sort((a, b) => String(a.messageId).localeCompare(String(b.messageId))),
    ).toEqual([
      { messageId: 'm1', runId: 'run-a', exportId: 'exp-of-run-a', batchNo: 0 },
      { messageId: 'm2', runId: 'run-b', exportId: 'exp-of-run-b', batchNo: 7 },
    ]);
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const line of written) {
      expect(line).toMatchObject({
        function_request_id: 'req-1',
        function_name: 'autopilot-export-sender',
        function_arn: 'arn:aws:lambda:eu-west-1:000000000000:function:autopilot-export-sender',
        function_memory_size: '512',
        cold_start: true,
      });
    }
  });

  it('keys end with their record and invocation: the next invocation is warm and carries only its own', async () => {
    const lines = captureLogLines();
    const { handler, logger } = senderOnRealPowertools(1);
    await handler({ Records: [batchRecord('m1', 'run-a', 3)] }, context('req-1'));
    const first = lines().length;

    await handler({ Records: [batchRecord('m9', 'run-z', 4)] }, context('req-2'));
    logger.info('outside any invocation');

    const [second, after] = [lines().slice(first, -1), lines().at(-1)];
    expect(second.length).toBeGreaterThan(0);
    for (const line of second) {
      expect(line).toMatchObject({
        function_request_id: 'req-2',
        cold_start: false,
        runId: 'run-z',
        batchNo: 4,
      });
      expect(line.messageId).toBe('m9');
    }
    expect(after?.message).toBe('outside any invocation');
    for (const key of ['function_request_id', 'cold_start', 'messageId', 'runId', 'exportId', 'batchNo']) {
      expect(after).not.toHaveProperty(key);
    }
  });

  it("a line's own fields win over a child's keys, which win over the scope's", async () => {
    const recording = new RecordingLogger();
    const logger = new ScopedLogger(recording);

    await logger.withKeys({ runId: 'from-scope', batchNo: 1, messageId: 'm1' }, async () => {
      logger.child({ runId: 'from-child', batchNo: 2 }).info('line', { batchNo: 3 });
    });

    expect(recording.lines.map((l) => JSON.parse(l))).toEqual([
      { level: 'INFO', message: 'line', runId: 'from-child', batchNo: 3, messageId: 'm1' },
    ]);
  });

  it('a record adds only the ids its body names as ids: nothing from a body that is not JSON or an id too long', () => {
    const record = (body: string) => ({ ...batchRecord('m1', 'run-a', 0), body });

    expect(recordLogKeys(batchRecord('m1', 'run-a', 2))).toEqual({
      messageId: 'm1',
      runId: 'run-a',
      exportId: 'exp-of-run-a',
      batchNo: 2,
    });
    expect(recordLogKeys(record('not json'))).toEqual({ messageId: 'm1' });
    expect(recordLogKeys(record(JSON.stringify({ runId: 'r'.repeat(300), batchNo: '2' })))).toEqual({
      messageId: 'm1',
    });
  });
});
