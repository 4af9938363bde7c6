// Node's own http/https, not undici (286 KB of every bundle) nor global fetch: fetch cannot be given
// a pool of our own without the undici package, and it reports a malformed request (a line break in
// the key) as a code-less TypeError that a destination's error classification would count as transient.
// Shared by every destination client (Autopilot, Ortto): one agent per execution environment serves both.
import * as http from 'node:http';
import * as https from 'node:https';
import { text } from 'node:stream/consumers';

/** Default whole-request deadline: connect, headers and body. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpAgentOptions {
  /** Longest wait for a new connection to be established; default 5 s. */
  connectTimeoutMs?: number;
  /** Idle time before a pooled connection is closed (the server's keep-alive hint wins when shorter). */
  keepAliveTimeoutMs?: number;
  /** Most sockets per origin; unbounded by default. */
  connections?: number;
}

/** Keep-alive connection pools, one per scheme; share one per execution environment. */
export interface HttpAgent {
  agentFor(protocol: 'http:' | 'https:'): http.Agent;
  readonly connectTimeoutMs: number;
  /** Closes every pooled connection. */
  close(): Promise<void>;
}

/** One keep-alive agent per execution environment: create it at cold start and share it. */
export const createHttpAgent = (options: HttpAgentOptions = {}): HttpAgent => {
  const poolOptions: http.AgentOptions = {
    keepAlive: true,
    // On an idle pooled socket this is its idle timeout; Node shortens it to the server's
    // `Keep-Alive: timeout=` hint less a second, so a reused socket is rarely one the server closed.
    timeout: options.keepAliveTimeoutMs ?? 10_000,
    ...(options.connections === undefined ? {} : { maxSockets: options.connections }),
  };
  let plain: http.Agent | undefined;
  let secure: https.Agent | undefined;
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    agentFor(protocol) {
      if (protocol === 'https:') {
        secure ??= new https.Agent(poolOptions);
        return secure;
      }
      plain ??= new http.Agent(poolOptions);
      return plain;
    },
    async close() {
      plain?.destroy();
      secure?.destroy();
    },
  };
};

let sharedAgent: HttpAgent | undefined;
/** The process-wide default agent, for callers that pass none. */
export const defaultHttpAgent = (): HttpAgent => {
  sharedAgent ??= createHttpAgent();
  return sharedAgent;
};

export interface HttpRequest {
  agent: HttpAgent;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Ends the request in whatever phase it is: connecting, sending, waiting or reading. */
  signal: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * The code the destinations' error classifications give a request we built wrong (undici's name for
 * it, kept so the classification is unchanged): Node throws such errors synchronously, before anything is sent.
 */
export const INVALID_REQUEST_CODE = 'UND_ERR_INVALID_ARG';

const invalidRequest = (err: unknown): Error => {
  const code = (err as { code?: unknown }).code;
  return Object.assign(
    new Error(`request refused before sending: ${typeof code === 'string' ? code : 'invalid'}`),
    {
      code: INVALID_REQUEST_CODE,
    },
  );
};

/**
 * One request, its answer read in full. Rejects for every request that got no complete answer —
 * refused, reset before or after the body was sent, cut off mid-answer, aborted — with the Node
 * error (its `code` says which); a 4xx or 5xx is an answer, not a rejection.
 */
export const send = (url: string, req: HttpRequest): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      reject(
        Object.assign(new Error(`unsupported scheme ${target.protocol}`), { code: INVALID_REQUEST_CODE }),
      );
      return;
    }
    const transport = target.protocol === 'https:' ? https : http;
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    let outgoing: http.ClientRequest;
    try {
      outgoing = transport.request(target, {
        method: req.method,
        headers,
        agent: req.agent.agentFor(target.protocol),
        signal: req.signal,
      });
    } catch (err) {
      reject(invalidRequest(err));
      return;
    }
    // Stays attached: an error after the answer settled (a late reset) must not go unhandled.
    outgoing.on('error', reject);
    // A host that never completes the handshake fails fast and is retried, instead of spending the
    // whole request deadline; a pooled socket is already connected and skips this.
    outgoing.on('socket', (socket) => {
      if (!socket.connecting) return;
      const ms = req.agent.connectTimeoutMs;
      const timer = setTimeout(() => {
        outgoing.destroy(Object.assign(new Error(`connect timed out after ${ms} ms`), { code: 'ETIMEDOUT' }));
      }, ms);
      const done = (): void => clearTimeout(timer);
      socket.once('connect', done);
      socket.once('close', done);
    });
    outgoing.on('response', (res) => {
      text(res).then(
        (body) => resolve({ status: res.statusCode ?? 0, text: body, headers: res.headers }),
        reject,
      );
    });
    outgoing.end(req.body);
  });
