import { ApiEnvSchema, loadEnv } from '#functions/shared/env.ts';
import { createApiDeps } from './deps.ts';
import { createApiHandler } from './handler.ts';

export const handler = createApiHandler(createApiDeps(loadEnv(ApiEnvSchema, process.env)));
