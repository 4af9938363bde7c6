import { loadEnv, PlannerEnvSchema } from '../shared/env.ts';
import { createPlannerDeps } from './deps.ts';
import { createPlannerHandler } from './handler.ts';

export const handler = createPlannerHandler(createPlannerDeps(loadEnv(PlannerEnvSchema, process.env)));
