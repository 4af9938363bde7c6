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

/** Default whole-request deadline: connect, headers and body. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface AutopilotAgentOptions {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Idle time before a pooled connection is closed (the server's keep-alive hint wins when shorter). */
  keepAliveTimeoutMs?: number;
  /** Most sockets per origin; unbounded by default. */
  connections?: number;
}

/** One keep-alive Agent per execution environment: create it at cold start and share it. */
export const createAutopilotAgent = (options: AutopilotAgentOptions = {}): AgentType =>
  new Agent({
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    headersTimeout: options.headersTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    bodyTimeout: options.bodyTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    keepAliveMaxTimeout: 60_000,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  });

let sharedAgent: AgentType | undefined;
/** The process-wide default Agent, for callers that pass no dispatcher. */
export const defaultAutopilotAgent = (): AgentType => {
  sharedAgent ??= createAutopilotAgent();
  return sharedAgent;
};
