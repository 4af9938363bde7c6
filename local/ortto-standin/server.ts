import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import * as z from 'zod';
import { TokenBucketLimiter } from '#local/autopilot-standin/rate-limiter.ts';
import { type Outcome, RequestLog } from '#local/autopilot-standin/request-log.ts';
import type { Account } from './account.ts';
import { BehaviourState } from './behaviour.ts';
import { FaultInjector, type FaultStrike } from './faults.ts';
import { handleRoute } from './handlers.ts';
import {
  type ApiResponse,
  malformedText,
  orttoError,
  rateLimited,
  readJsonBody,
  send,
  sendJson,
} from './http-io.ts';
import { BadRequestBans } from './ip-ban.ts';
import { KeyRing } from './key-ring.ts';
import { matchRoute, type RouteMatch } from './routes.ts';
import type { FaultOptions, StandInBehaviour } from './types.ts';

export const ServerOptionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  apiKeys: z.array(z.string().min(1, 'an API key must not be empty')).default([]),
  seed: z.number().int().optional(),
  recordTimeline: z.boolean().default(true),
});

const SIMULATED = 'Simulated failure (stand-in fault injection)';
const isSuccess = (status: number): boolean => status >= 200 && status < 300;
/** What Ortto's bad-request limiter counts: the caller's mistakes, not throttling. */
const isBad = (status: number): boolean => status >= 400 && status < 500 && status !== 429;

/** The HTTP side: ban → auth → rate limit → faults → route (docs/ortto-standin.md#order). */
export class RequestPipeline {
  readonly behaviour = new BehaviourState();
  readonly keys = new KeyRing();
  readonly requests: RequestLog;
  readonly bans = new BadRequestBans(() => this.behaviour.current);
  readonly limiter = new TokenBucketLimiter(() => this.behaviour.current);
  private readonly faults: FaultInjector;
  private readonly shutdown = new AbortController();

  constructor(
    readonly clock: () => number,
    seed: number,
    recordTimeline: boolean,
    log: ((line: string) => void) | undefined,
  ) {
    this.requests = new RequestLog(recordTimeline, log);
    this.faults = new FaultInjector(seed);
  }

  setFaults(faults: FaultOptions | undefined): void {
    this.faults.apply(faults, this.clock());
    this.keys.restoreRevokedByFaults();
  }

  abort(): void {
    this.shutdown.abort();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const started = performance.now();
    const method = req.method ?? 'GET';
    const match = matchRoute(method, (req.url ?? '/').split('?')[0] ?? '/', req.headers.host);
    const record = (outcome: Outcome): void =>
      this.requests.record({ arrivedAt, started, method, route: match.key }, outcome);
    const finish = (
      response: ApiResponse,
      outcome: Omit<Outcome, 'status'>,
      headers?: Record<string, string>,
    ) => {
      record({ ...outcome, status: response.status });
      sendJson(res, response, headers);
    };
    const ip = req.socket.remoteAddress ?? 'unknown';
    const banned = this.bans.remainingSeconds(ip, this.clock());
    if (banned !== undefined) {
      return finish(rateLimited(banned, 'too many bad requests: IP blocked'), {}, this.retryAfter(banned));
    }

    const apiKey = req.headers['x-api-key'];
    const entry = typeof apiKey === 'string' ? this.keys.get(apiKey) : undefined;
    if (entry !== undefined && !entry.revoked && this.faults.revokes(entry.account.label, this.clock())) {
      this.keys.revokeByFaults(entry);
      this.requests.countFault('key-revoked', false);
    }
    const crossRegion = entry !== undefined && entry.account.region !== match.region;
    if (entry === undefined || entry.revoked || (crossRegion && !this.behaviour.current.crossRegionKeys)) {
      this.bans.recordBad(ip, this.clock());
      return finish(orttoError(401, 'Invalid API key'), {});
    }
    const { account } = entry;
    const label = account.label;

    const admission = this.limiter.take(label, this.clock());
    if (!admission.admitted) {
      const seconds = admission.retryAfterSeconds;
      return finish(rateLimited(seconds), { account: label }, this.retryAfter(seconds));
    }

    const { strike, latencyMs } = this.faults.decide(match.key, this.clock());
    if (strike?.phase === 'before') {
      this.requests.countFault(strike.name, false);
      const outcome = { account: label, fault: strike.name, applied: false };
      if (strike.kind === 'reset') {
        record({ ...outcome, status: 0 });
        req.socket.destroy();
        return;
      }
      if (strike.kind === 'hang') {
        record({ ...outcome, status: 504 });
        await this.sleep(strike.hangMs);
        sendJson(res, orttoError(504, 'Gateway timeout (stand-in fault injection)'));
        return;
      }
      return finish(this.injectedError(strike), outcome, this.injectedHeaders(strike));
    }
    if (latencyMs !== undefined) await this.sleep(latencyMs);

    const response = await this.route(match, req, account, this.behaviour.current);
    if (isBad(response.status)) this.bans.recordBad(ip, this.clock());
    if (strike === undefined) return finish(response, { account: label });
    const applied = isSuccess(response.status);
    if (strike.kind === 'malformed' && !applied) return finish(response, { account: label });
    this.requests.countFault(strike.name, applied);
    const outcome = { account: label, fault: strike.name, applied };
    switch (strike.kind) {
      case 'error':
        return finish(this.injectedError(strike), outcome, this.injectedHeaders(strike));
      case 'reset':
        record({ ...outcome, status: 0 });
        req.socket.destroy();
        return;
      case 'hang':
        record({ ...outcome, status: response.status });
        await this.sleep(strike.hangMs);
        sendJson(res, response);
        return;
      case 'malformed':
        record({ ...outcome, status: response.status });
        send(res, response.status, malformedText(response));
        return;
    }
  }

  private async route(
    match: RouteMatch,
    req: IncomingMessage,
    account: Account,
    behaviour: StandInBehaviour,
  ): Promise<ApiResponse> {
    if (match.name === undefined) {
      // Drain the body so the connection stays usable.
      for await (const _ of req);
      return orttoError(404, `No route for ${req.method ?? 'GET'} ${(req.url ?? '').slice(0, 200)}`);
    }
    const read = await readJsonBody(req);
    if (!read.ok) return read.response;
    return handleRoute(match.name, { account, behaviour, body: read.value, now: new Date().toISOString() });
  }

  private retryAfter(seconds: number): Record<string, string> | undefined {
    return this.behaviour.current.retryAfter ? { 'Retry-After': String(seconds) } : undefined;
  }

  private injectedError(strike: FaultStrike): ApiResponse {
    return strike.status === 429 ? rateLimited(strike.tryInSeconds) : orttoError(strike.status, SIMULATED);
  }

  private injectedHeaders(strike: FaultStrike): Record<string, string> | undefined {
    return strike.status === 429 ? this.retryAfter(strike.tryInSeconds) : undefined;
  }

  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.shutdown.signal });
  }
}

/** Listens on loopback (or `host`), resolving once it is listening. */
export async function listen(port: number, host: string): Promise<Server> {
  const server = createServer({ keepAliveTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export const randomSeed = (): number => randomInt(2 ** 31);
