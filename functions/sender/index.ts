import { loadEnv, SenderEnvSchema } from '#functions/shared/env.ts';
import { createSenderDeps } from './deps.ts';
import { createSenderHandler } from './handler.ts';

export const handler = createSenderHandler(createSenderDeps(loadEnv(SenderEnvSchema, process.env)));
