import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import * as z from 'zod';
import { Account, toListSnapshot, toSnapshot } from './account.ts';
import { BehaviourState } from './behaviour.ts';
import { FaultInjector } from './faults.ts';
import { type ApiResponse, apiError, handleRoute, ROUTES_WITH_BODY } from './handlers.ts';
import { TokenBucketLimiter } from './rate-limiter.ts';
import { matchRoute, UNKNOWN_ROUTE } from './routes.ts';
import type {
  AutopilotStandIn,
  FaultOptions,
  RequestRecord,
  StandInBehaviour,
  StandInContact,
  StandInList,
  StandInOptions,
} from './types.ts';

/** Request bodies above this get 413 (the real limit is undocumented; 100 contacts fit easily). */
export const MAX_BODY_BYTES = 1024 * 1024;

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
}

type BodyResult = { ok: true; value: unknown } | { ok: false; response: ApiResponse };

class StandInServer implements AutopilotStandIn {
  readonly url: string;
  readonly port: number;

  private readonly keys = new Map<string, KeyEntry>();
  private accountCounter = 0;
  private readonly behaviour = new BehaviourState();
  private readonly limiter = new TokenBucketLimiter(() => this.behaviour.current);
  private readonly faults: FaultInjector;
  private readonly countsByRoute = new Map<string, Map<number, number>>();
  private records: RequestRecord[] = [];
  private readonly shutdown = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    address: AddressInfo,
    seed: number,
    private readonly recordTimeline: boolean,
    private readonly log: ((line: string) => void) | undefined,
  ) {
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
    this.entry(apiKey).revoked = true;
  }

  restoreKey(apiKey: string): void {
    this.entry(apiKey).revoked = false;
  }

  configure(behaviour: Partial<StandInBehaviour>): void {
    this.behaviour.apply(behaviour);
  }

  setFaults(faults: FaultOptions | undefined): void {
    this.faults.apply(faults, performance.now());
  }

  counts(): Record<string, Record<number, number>> {
    const out: Record<string, Record<number, number>> = {};
    for (const [route, byStatus] of this.countsByRoute) out[route] = Object.fromEntries(byStatus);
    return out;
  }

  timeline(): RequestRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  resetCounts(): void {
    this.countsByRoute.clear();
    this.records = [];
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

  customFields(apiKey: string): Array<{ name: string; fieldType: string }> {
    return this.entry(apiKey).account.customFields();
  }

  private entry(apiKey: string): KeyEntry {
    const entry = this.keys.get(apiKey);
    // Never echo the key itself.
    if (entry === undefined) throw new Error('Unknown API key: no stand-in account was created for it.');
    return entry;
  }

  /** Order: auth → rate limit → faults → route (autopilot-api.md §7). */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const started = performance.now();
    const method = req.method ?? 'GET';
    const match = matchRoute(method, (req.url ?? '/').split('?')[0] ?? '/');
    const route = match?.key ?? UNKNOWN_ROUTE;
    const finish = (response: ApiResponse, account?: string, headers?: Record<string, string>): void => {
      this.record(arrivedAt, started, method, route, response.status, account);
      send(res, response, headers);
    };

    const apiKey = req.headers.autopilotapikey;
    if (apiKey === undefined || apiKey === '') {
      return finish(apiError(400, 'No autopilotapikey header provided.'));
    }
    const entry = typeof apiKey === 'string' ? this.keys.get(apiKey) : undefined;
    if (entry === undefined || entry.revoked) {
      return finish(apiError(401, 'Provided autopilotapikey not valid.'));
    }
    const { account } = entry;

    const behaviour = this.behaviour.current;
    const admission = this.limiter.take(account.label, performance.now());
    if (!admission.admitted) {
      const message = `You have exceeded your request rate of ${behaviour.ratePerSecond} r/s.`;
      const headers = behaviour.retryAfter
        ? { 'Retry-After': String(admission.retryAfterSeconds) }
        : undefined;
      return finish(apiError(429, message), account.label, headers);
    }

    const fault = this.faults.decide(route, performance.now());
    if (fault.errorStatus !== undefined) {
      return finish(
        apiError(fault.errorStatus, 'Simulated failure (stand-in fault injection).'),
        account.label,
      );
    }
    if (fault.reset) {
      this.record(arrivedAt, started, method, route, 0, account.label);
      req.socket.destroy();
      return;
    }
    if (fault.latencyMs !== undefined) await this.sleep(fault.latencyMs);

    if (match === undefined) {
      return finish(apiError(404, `No route for ${method} ${req.url ?? ''}.`), account.label);
    }
    if (!match.validEncoding) {
      return finish(apiError(400, 'Invalid contact_id_or_email value provided.'), account.label);
    }
    let body: unknown;
    if (ROUTES_WITH_BODY.has(match.name)) {
      const read = await readJsonBody(req);
      if (!read.ok) return finish(read.response, account.label);
      body = read.value;
    }
    const response = handleRoute(match.name, { account, behaviour, params: match.params, body });
    if (fault.hangMs !== undefined) {
      // The write has happened; only the answer is late, as with Autopilot's gateway timeouts (§2).
      this.record(arrivedAt, started, method, route, response.status, account.label);
      await this.sleep(fault.hangMs);
      send(res, response);
      return;
    }
    finish(response, account.label);
  }

  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.shutdown.signal });
  }

  private record(
    arrivedAt: number,
    started: number,
    method: string,
    route: string,
    status: number,
    account: string | undefined,
  ): void {
    let byStatus = this.countsByRoute.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.countsByRoute.set(route, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (this.recordTimeline) {
      this.records.push(
        account === undefined ? { t: arrivedAt, route, status } : { t: arrivedAt, route, status, account },
      );
    }
    if (this.log !== undefined) {
      const label = route === UNKNOWN_ROUTE ? `${route} ${method}` : route;
      const outcome = status === 0 ? 'reset' : String(status);
      const ms = (performance.now() - started).toFixed(1);
      this.log(`${new Date(arrivedAt).toISOString()} ${account ?? '-'} ${label} ${outcome} ${ms}ms`);
    }
  }
}

function send(res: ServerResponse, response: ApiResponse, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'Last-Modified': new Date().toUTCString(), ...extraHeaders };
  if (response.status === 413) headers.Connection = 'close';
  if (response.body === undefined) {
    if (response.status !== 204) headers['Content-Length'] = '0';
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  res.end(text);
}

/**
 * Reads the whole body (discarding it past the limit, so the client is not cut off mid-send) and
 * parses it as JSON whatever the Content-Type says: real clients all send application/json.
 */
async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) return { ok: false, response: apiError(413, 'Request body exceeds 1 MB.') };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, response: apiError(400, 'Request body is not valid JSON.') };
  }
}

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
