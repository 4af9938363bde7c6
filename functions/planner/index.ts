import { loadEnv, PlannerEnvSchema } from '#functions/shared/env.ts';
import { createPlannerDeps } from './deps.ts';
import { createPlannerHandlers } from './handler.ts';

/*
 * One bundle, one entry point per event source; each Lambda function names its own
 * (cdk/constructs/bundling.ts FUNCTION_HANDLERS): `index.planMessage` for the plan queue,
 * `index.scheduledRefresh` for EventBridge Scheduler, `index.refreshArrived` for a refresh manifest's
 * S3 "Object Created" event. `startRun` is for direct invocation: the local runtime starts runs
 * through it; in AWS the API's `POST /exports/{id}/runs` starts them.
 */
const handlers = createPlannerHandlers(createPlannerDeps(loadEnv(PlannerEnvSchema, process.env)));

export const { scheduledRefresh, planMessage, startRun, refreshArrived } = handlers;
