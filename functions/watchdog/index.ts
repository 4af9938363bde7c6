import { loadEnv, WatchdogEnvSchema } from '../shared/env.ts';
import { createWatchdogDeps } from './deps.ts';
import { createWatchdogHandler } from './handler.ts';

export const handler = createWatchdogHandler(createWatchdogDeps(loadEnv(WatchdogEnvSchema, process.env)));
