import { loadEnv, WatchdogEnvSchema } from '#functions/shared/env.ts';
import { createWatchdogDeps } from './deps.ts';
import { createWatchdogHandler } from './handler.ts';

export const handler = createWatchdogHandler(createWatchdogDeps(loadEnv(WatchdogEnvSchema, process.env)));
