// The HTTP layer moved to lib/adapters/http so every destination shares one agent and one `send`;
// Autopilot's names stay, for its callers and tests.
import {
  createHttpAgent,
  defaultHttpAgent,
  type HttpAgent,
  type HttpAgentOptions,
} from '#lib/adapters/http/transport.ts';

export { DEFAULT_TIMEOUT_MS, type HttpAnswer, type HttpRequest, send } from '#lib/adapters/http/transport.ts';

export type AutopilotAgentOptions = HttpAgentOptions;
export type AutopilotAgent = HttpAgent;
export const createAutopilotAgent: (options?: AutopilotAgentOptions) => AutopilotAgent = createHttpAgent;
export const defaultAutopilotAgent: () => AutopilotAgent = defaultHttpAgent;
