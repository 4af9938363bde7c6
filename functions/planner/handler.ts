import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { processRecords, remainingTime } from '#functions/shared/lambda.ts';
import { lambdaHandler } from '#functions/shared/observability.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { type PlanMessage, PlanMessageSchema } from '#lib/domain/messages.ts';
import { RunTriggerSchema } from '#lib/domain/run.ts';
import { parseOrThrow, toIssues } from '#lib/domain/validation.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { type RefreshArrivalSummary, refreshArrived } from '#lib/use-cases/refresh-arrival.ts';
import { type RefreshSummary, startScheduledRuns } from '#lib/use-cases/scheduled-refresh.ts';
import { type StartRunResult, startRun } from '#lib/use-cases/start-run.ts';
import type { PlannerDeps } from './deps.ts';
import { loggableKey, manifestRefreshId, RefreshArrivedEventSchema } from './refresh-event.ts';

/** What EventBridge Scheduler sends (the schedule's fixed input). */
export const ScheduledRefreshEventSchema = z.object({ kind: z.literal('scheduled-refresh') });
/** A direct invocation to start one run (the local runtime uses it; AWS has no route to it). */
export const StartRunEventSchema = z.object({
  kind: z.literal('start-run'),
  exportId: z.string().min(1),
  trigger: RunTriggerSchema,
  requestedBy: z.string().min(1),
});

const parsePlanMessage = (body: string): { ok: true; value: PlanMessage } | { ok: false; reason: string } => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = PlanMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = toIssues(parsed.error).slice(0, 5);
  return { ok: false, reason: issues.map((i) => `${i.path || '(message)'}: ${i.reason}`).join('; ') };
};

/**
 * The scheduled refresh (EventBridge Scheduler): starts a run of every scheduled export. Any other
 * input is refused, naming the field, rather than read as a refresh.
 */
export const createScheduledRefreshHandler = (deps: PlannerDeps) =>
  lambdaHandler(deps.observability, async (event: unknown): Promise<RefreshSummary> => {
    parseOrThrow(ScheduledRefreshEventSchema, event, 'event');
    return startScheduledRuns(deps.start);
  });

/**
 * The plan queue (SQS, partial batch responses): first planning and continuations from a
 * checkpoint. Every line logged for a message carries its `messageId`, `runId` and `exportId`.
 */
export const createPlanMessageHandler = (deps: PlannerDeps) =>
  lambdaHandler(
    deps.observability,
    async (event: SQSEvent, context): Promise<SQSBatchResponse> =>
      processRecords(event, {
        parallelism: 1,
        logs: deps.observability,
        work: async (record) => {
          const message = parsePlanMessage(record.body);
          if (!message.ok) {
            // Retrying cannot make it readable: straight to the dead-letter queue, with the reason.
            deps.plan.logger.error('malformed plan message sent to the dead-letter queue', {
              reason: message.reason,
            });
            await deps.planDeadLetters.send(record.body, message.reason);
            return 'done';
          }
          await planRun(deps.plan, message.value, remainingTime(context));
          return 'done';
        },
        onError: (_record, error) =>
          deps.plan.logger.error('planning failed; SQS will retry', { error: String(error) }),
      }),
  );

/** One run started by direct invocation (`{"kind": "start-run", ...}`); answers with the run. */
export const createStartRunHandler = (deps: PlannerDeps) =>
  lambdaHandler(
    deps.observability,
    async (event: unknown): Promise<StartRunResult> =>
      startRun(deps.start, parseOrThrow(StartRunEventSchema, event, 'event')),
  );

/**
 * A refresh folder's manifest arrived (S3 "Object Created" through EventBridge,
 * docs/architecture.md#refresh-arrival): verifies and records the refresh once and starts its runs.
 * Any other object of the segment bucket is ignored with one line. A problem of the refresh itself is
 * answered as a rejection (recorded and notified); S3 or DynamoDB failing throws, so the invocation
 * is retried, and a retry resumes what an interrupted one left.
 */
export const createRefreshArrivedHandler = (deps: PlannerDeps) =>
  lambdaHandler(
    deps.observability,
    async (event: unknown, context): Promise<RefreshArrivalSummary | { ignored: string }> => {
      const { id, detail } = parseOrThrow(RefreshArrivedEventSchema, event, 'event');
      const arrival = deps.arrival;
      if (arrival === undefined) {
        throw new ValidationError([
          {
            path: 'env.SEGMENT_SOURCE',
            reason: 'must be s3 (with SEGMENT_BUCKET) to receive refresh arrivals',
          },
        ]);
      }
      const { logger, clock } = arrival.deps;
      const key = detail.object.key;
      if (detail.bucket.name !== arrival.bucket) {
        logger.warn('object of another bucket ignored', {
          bucket: detail.bucket.name,
          key: loggableKey(key),
        });
        return { ignored: 'not the segment bucket' };
      }
      const refreshId = manifestRefreshId(key);
      if (refreshId === undefined) {
        logger.info('object is not a refresh manifest; ignored', { key: loggableKey(key) });
        return { ignored: 'not a refresh manifest' };
      }
      const deadline = clock.now() + context.getRemainingTimeInMillis();
      return refreshArrived(arrival.deps, { refreshId, holder: id, deadline });
    },
  );

/** The planner's entry points by name, as `index.ts` exports them and the stack wires them. */
export const createPlannerHandlers = (deps: PlannerDeps) => ({
  scheduledRefresh: createScheduledRefreshHandler(deps),
  planMessage: createPlanMessageHandler(deps),
  startRun: createStartRunHandler(deps),
  refreshArrived: createRefreshArrivedHandler(deps),
});
