import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context, SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { PlanMessageSchema } from '#lib/domain/messages.ts';
import { RunTriggerSchema } from '#lib/domain/run.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { type RefreshSummary, startScheduledRuns } from '#lib/use-cases/scheduled-refresh.ts';
import { type StartRunResult, startRun } from '#lib/use-cases/start-run.ts';
import { fromApiGateway, toApiGateway } from '../api/http.ts';
import { createRouter } from '../api/router.ts';
import { runStartRoute } from '../api/routes.ts';
import { isSqsEvent, processRecords, remainingTime } from '../shared/lambda.ts';
import type { PlannerDeps } from './deps.ts';

/** What EventBridge Scheduler sends (the schedule's fixed input). */
export const ScheduledRefreshEventSchema = z.object({ kind: z.literal('scheduled-refresh') });
/** A direct invocation to start one run (the API and the local runtime use it). */
export const StartRunEventSchema = z.object({
  kind: z.literal('start-run'),
  exportId: z.string().min(1),
  trigger: RunTriggerSchema,
  requestedBy: z.string().min(1),
});

export type PlannerResult = SQSBatchResponse | RefreshSummary | StartRunResult | APIGatewayProxyResultV2;

const isHttpEvent = (event: unknown): event is APIGatewayProxyEventV2 =>
  typeof event === 'object' && event !== null && 'requestContext' in event && 'rawPath' in event;

/**
 * The planner: the scheduled refresh, direct starts, and plan messages (first planning and
 * continuations from a checkpoint) from its SQS queue.
 */
export const createPlannerHandler = (deps: PlannerDeps) => {
  const http = createRouter([runStartRoute], deps.api);
  return async (event: unknown, context: Context): Promise<PlannerResult> => {
    try {
      if (isHttpEvent(event)) return toApiGateway(await http(fromApiGateway(event)));
      if (isSqsEvent(event)) {
        return await processRecords(
          event,
          1,
          async (record) => {
            const message = PlanMessageSchema.safeParse(JSON.parse(record.body));
            if (!message.success) {
              deps.plan.logger.error('malformed plan message dropped', { messageId: record.messageId });
              return 'done';
            }
            await planRun(deps.plan, message.data, remainingTime(context));
            return 'done';
          },
          (record, error) =>
            deps.plan.logger.error('planning failed; SQS will retry', {
              messageId: record.messageId,
              error: String(error),
            }),
        );
      }
      const scheduled = ScheduledRefreshEventSchema.safeParse(event);
      if (scheduled.success) return await startScheduledRuns(deps.start);
      const start = StartRunEventSchema.parse(event);
      return await startRun(deps.start, start);
    } finally {
      deps.flushMetrics();
    }
  };
};
