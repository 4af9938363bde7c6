import type { Logger } from '#lib/ports/logger.ts';
import type { ApiEnv } from '../shared/env.ts';
import { commonParts, type Overrides } from '../shared/wiring.ts';

export interface ApiDeps {
  logger: Logger;
}

export const createApiDeps = (env: ApiEnv, overrides: Overrides = {}): ApiDeps => {
  const common = commonParts(env, overrides);
  return { logger: common.logger };
};
