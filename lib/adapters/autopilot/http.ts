import type { Agent as AgentType, Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import Agent from 'undici/lib/dispatcher/agent.js';

export type { AgentType, Dispatcher };
export { Agent };

/**
 * undici's `request(url, options)` without importing the package root: splits the URL into origin
 * and path as undici does and dispatches on the given dispatcher (an Agent, or a MockAgent in tests).
 */
export const request = (
  url: string,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher },
): Promise<Dispatcher.ResponseData> => {
  const { dispatcher, ...rest } = options;
  const parsed = new URL(url);
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
  });
};
