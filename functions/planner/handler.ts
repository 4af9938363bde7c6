import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context, SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { type PlanMessage, PlanMessageSchema } from '#lib/domain/messages.ts';
import { RunTriggerSchema } from '#lib/domain/run.ts';
import { toIssues } from '#lib/domain/validation.ts';
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
            const message = parsePlanMessage(record.body);
            if (!message.ok) {
              // Retrying cannot make it readable: straight to the dead-letter queue, with the reason.
              deps.plan.logger.error('malformed plan message sent to the dead-letter queue', {
                messageId: record.messageId,
                reason: message.reason,
              });
              await deps.planDeadLetters.send(record.body, message.reason);
              return 'done';
            }
            await planRun(deps.plan, message.value, remainingTime(context));
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
