import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import * as z from 'zod';
import { Account, toListSnapshot, toSnapshot } from './account.ts';
import { BehaviourState } from './behaviour.ts';
import type { ContactWrite } from './contact-input.ts';
import { FaultInjector, type FaultStrike } from './faults.ts';
import { type ApiResponse, apiError, handleRoute, ROUTES_WITH_BODY } from './handlers.ts';
import { malformed, readJsonBody, send, sendText } from './http-io.ts';
import { TokenBucketLimiter } from './rate-limiter.ts';
import { type Outcome, RequestLog } from './request-log.ts';
import { matchRoute, type RouteMatch, UNKNOWN_ROUTE } from './routes.ts';
import type {
  AutopilotStandIn,
  FaultCount,
  FaultOptions,
  RequestRecord,
  StandInBehaviour,
  StandInContact,
  StandInList,
  StandInOptions,
} from './types.ts';

const ServerOptionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  apiKeys: z.array(z.string().min(1, 'an API key must not be empty')).default([]),
  seed: z.number().int().optional(),
  recordTimeline: z.boolean().default(true),
});

interface KeyEntry {
  account: Account;
  revoked: boolean;
  /** Revoked by the fault set's schedule, so a new fault set restores it. */
  revokedByFaults?: boolean;
}

const SIMULATED = 'Simulated failure (stand-in fault injection).';
const isSuccess = (status: number): boolean => status >= 200 && status < 300;

class StandInServer implements AutopilotStandIn {
  readonly url: string;
  readonly port: number;

  private readonly keys = new Map<string, KeyEntry>();
  private accountCounter = 0;
  private readonly behaviour = new BehaviourState();
  private readonly limiter = new TokenBucketLimiter(() => this.behaviour.current);
  private readonly faults: FaultInjector;
  private readonly requests: RequestLog;
  private readonly shutdown = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    address: AddressInfo,
    seed: number,
    recordTimeline: boolean,
    log: ((line: string) => void) | undefined,
  ) {
    this.requests = new RequestLog(recordTimeline, log);
    this.port = address.port;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}/v1`;
    this.faults = new FaultInjector(seed);
  }

  init(options: StandInOptions, apiKeys: string[]): void {
    this.behaviour.apply(options);
    this.faults.apply(options.faults, performance.now());
    for (const key of apiKeys) this.addKey(key);
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        // Only reachable for a request cut short by close() or a client that went away.
        if (!res.headersSent && !res.destroyed) send(res, apiError(500, 'Internal error in the stand-in.'));
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.shutdown.abort();
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  addKey(apiKey: string): void {
    if (apiKey === '') throw new TypeError('An API key must not be empty.');
    if (this.keys.has(apiKey)) return;
    this.accountCounter += 1;
    this.keys.set(apiKey, { account: new Account(`account-${this.accountCounter}`), revoked: false });
  }

  revokeKey(apiKey: string): void {
    const entry = this.entry(apiKey);
    entry.revoked = true;
    entry.revokedByFaults = false;
  }

  restoreKey(apiKey: string): void {
    const entry = this.entry(apiKey);
    entry.revoked = false;
    entry.revokedByFaults = false;
  }

  configure(behaviour: Partial<StandInBehaviour>): void {
    this.behaviour.apply(behaviour);
  }

  setFaults(faults: FaultOptions | undefined): void {
    this.faults.apply(faults, performance.now());
    for (const entry of this.keys.values()) {
      if (entry.revokedByFaults) {
        entry.revoked = false;
        entry.revokedByFaults = false;
      }
    }
  }

  counts(): Record<string, Record<number, number>> {
    return this.requests.counts();
  }

  timeline(): RequestRecord[] {
    return this.requests.timeline();
  }

  faultCounts(): Record<string, FaultCount> {
    return this.requests.faultCounts();
  }

  resetCounts(): void {
    this.requests.reset();
  }

  contacts(apiKey: string): StandInContact[] {
    return this.entry(apiKey).account.allContacts().map(toSnapshot);
  }

  contactByEmail(apiKey: string, email: string): StandInContact | undefined {
    const contact = this.entry(apiKey).account.findContact(email);
    return contact === undefined ? undefined : toSnapshot(contact);
  }

  lists(apiKey: string): StandInList[] {
    return this.entry(apiKey).account.allLists().map(toListSnapshot);
  }

  listMemberEmails(apiKey: string, listIdOrTitle: string): string[] {
    const account = this.entry(apiKey).account;
    const list = account.findList(listIdOrTitle);
    if (list === undefined)
      throw new Error(`No list with id or title "${listIdOrTitle}" in ${account.label}.`);
    const emails: string[] = [];
    for (const id of list.members) {
      const email = account.findContact(id)?.email;
      if (email !== undefined) emails.push(email);
    }
    return emails.sort();
  }

  /**
   * Takes every member off a list, as a person clearing it in Autopilot's UI would (no request is
   * counted). Returns how many were removed.
   */
  emptyList(apiKey: string, listIdOrTitle: string): number {
    const account = this.entry(apiKey).account;
    const list = account.findList(listIdOrTitle);
    if (list === undefined)
      throw new Error(`No list with id or title "${listIdOrTitle}" in ${account.label}.`);
    let removed = 0;
    for (const id of [...list.members]) {
      const contact = account.findContact(id);
      if (contact !== undefined && account.removeMember(list, contact)) removed++;
    }
    return removed;
  }

  customFields(apiKey: string): Array<{ name: string; fieldType: string }> {
    return this.entry(apiKey).account.customFields();
  }

  private entry(apiKey: string): KeyEntry {
    const entry = this.keys.get(apiKey);
    // Never echo the key itself.
    if (entry === undefined) throw new Error('Unknown API key: no stand-in account was created for it.');
    return entry;
  }

  /**
   * Order: auth (and the fault set's key revocation) → rate limit → faults → route
   * (docs/autopilot-api.md#stand-in). A fault 'before' answers instead of the route; one 'after' lets the
   * route run (the write takes effect) and then loses, delays, replaces or garbles its answer.
   */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const started = performance.now();
    const method = req.method ?? 'GET';
    const match = matchRoute(method, (req.url ?? '/').split('?')[0] ?? '/');
    const route = match?.key ?? UNKNOWN_ROUTE;
    const record = (outcome: Outcome): void =>
      this.requests.record({ arrivedAt, started, method, route }, outcome);
    const finish = (
      response: ApiResponse,
      outcome: Omit<Outcome, 'status'>,
      headers?: Record<string, string>,
    ) => {
      record({ ...outcome, status: response.status });
      send(res, response, headers);
    };

    const apiKey = req.headers.autopilotapikey;
    if (apiKey === undefined || apiKey === '') {
      return finish(apiError(400, 'No autopilotapikey header provided.'), {});
    }
    const entry = typeof apiKey === 'string' ? this.keys.get(apiKey) : undefined;
    if (
      entry !== undefined &&
      !entry.revoked &&
      this.faults.revokes(entry.account.label, performance.now())
    ) {
      entry.revoked = true;
      entry.revokedByFaults = true;
      this.requests.countFault('key-revoked', false);
    }
    if (entry === undefined || entry.revoked) {
      return finish(apiError(401, 'Provided autopilotapikey not valid.'), {});
    }
    const { account } = entry;
    const label = account.label;

    const behaviour = this.behaviour.current;
    const admission = this.limiter.take(label, performance.now());
    if (!admission.admitted) {
      const headers = behaviour.retryAfter
        ? { 'Retry-After': String(admission.retryAfterSeconds) }
        : undefined;
      return finish(apiError(429, this.throttledMessage()), { account: label }, headers);
    }

    const { strike, latencyMs } = this.faults.decide(route, performance.now());
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
        send(res, apiError(504, 'Gateway timeout (stand-in fault injection).'));
        return;
      }
      return finish(this.injectedError(strike), outcome, retryAfterHeader(strike));
    }
    if (latencyMs !== undefined) await this.sleep(latencyMs);

    const response = await this.route(match, req, { account, behaviour });
    if (strike === undefined) return finish(response, { account: label });
    const applied = isSuccess(response.status);
    if (strike.kind === 'malformed' && !applied) return finish(response, { account: label });
    this.requests.countFault(strike.name, applied);
    const outcome = { account: label, fault: strike.name, applied };
    switch (strike.kind) {
      case 'error':
        return finish(this.injectedError(strike), outcome, retryAfterHeader(strike));
      case 'reset':
        record({ ...outcome, status: 0 });
        req.socket.destroy();
        return;
      case 'hang':
        record({ ...outcome, status: response.status });
        await this.sleep(strike.hangMs);
        send(res, response);
        return;
      case 'malformed': {
        const garbled = malformed(response);
        record({ ...outcome, status: garbled.status });
        sendText(res, garbled.status, garbled.text);
        return;
      }
    }
  }

  /** What the route itself answers: 404 for no route, 400 for bad encoding or body, else its handler. */
  private async route(
    match: RouteMatch | undefined,
    req: IncomingMessage,
    ctx: { account: Account; behaviour: StandInBehaviour },
  ): Promise<ApiResponse> {
    if (match === undefined) return apiError(404, `No route for ${req.method ?? 'GET'} ${req.url ?? ''}.`);
    if (!match.validEncoding) return apiError(400, 'Invalid contact_id_or_email value provided.');
    let body: unknown;
    if (ROUTES_WITH_BODY.has(match.name)) {
      const read = await readJsonBody(req);
      if (!read.ok) return read.response;
      body = read.value;
    }
    return handleRoute(match.name, { ...ctx, params: match.params, body, rejects: this.rejects });
  }

  private readonly rejects = (write: ContactWrite): boolean => {
    const refused = [write.email, write.newEmail].some((e) => e !== undefined && this.faults.rejects(e));
    if (refused) this.requests.countFault('reject-contact', false);
    return refused;
  };

  private throttledMessage(): string {
    return `You have exceeded your request rate of ${this.behaviour.current.ratePerSecond} r/s.`;
  }

  private injectedError(strike: FaultStrike): ApiResponse {
    return apiError(strike.status, strike.status === 429 ? this.throttledMessage() : SIMULATED);
  }

  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.shutdown.signal });
  }
}

const retryAfterHeader = (strike: FaultStrike): Record<string, string> | undefined =>
  strike.retryAfter === undefined ? undefined : { 'Retry-After': strike.retryAfter };

/** Starts a stand-in on loopback; resolves once it is listening. */
export async function startAutopilotStandIn(options: StandInOptions = {}): Promise<AutopilotStandIn> {
  const { port, host, apiKeys, seed, recordTimeline } = ServerOptionsSchema.parse({
    port: options.port,
    host: options.host,
    apiKeys: options.apiKeys,
    seed: options.seed,
    recordTimeline: options.recordTimeline,
  });
  const server = createServer({ keepAliveTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const standIn = new StandInServer(
    server,
    server.address() as AddressInfo,
    seed ?? randomInt(2 ** 31),
    recordTimeline,
    options.log,
  );
  try {
    standIn.init(options, apiKeys);
  } catch (error) {
    await standIn.close();
    throw error;
  }
  return standIn;
}
