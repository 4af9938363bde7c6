/** The Ortto stand-in's public object: start, close, keys, switches, faults and inspection for tests. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId, toFieldSnapshot, toPersonSnapshot, toTagSnapshot } from './account.ts';
import { regionPrefix } from './routes.ts';
import { listen, RequestPipeline, randomSeed, ServerOptionsSchema } from './server.ts';
import type {
  FaultCount,
  FaultOptions,
  KeyOptions,
  OrttoStandIn,
  PermissionWrite,
  Region,
  RequestRecord,
  StandInBehaviour,
  StandInCustomField,
  StandInOptions,
  StandInPerson,
  StandInTag,
} from './types.ts';

class StandIn implements OrttoStandIn {
  readonly urls: Readonly<Record<Region, string>>;
  readonly url: string;
  readonly port: number;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    private readonly pipeline: RequestPipeline,
  ) {
    const address = server.address() as AddressInfo;
    this.port = address.port;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const base = (region: Region): string => `http://${host}:${address.port}${regionPrefix(region)}/v1`;
    this.urls = { global: base('global'), eu: base('eu'), au: base('au') };
    this.url = this.urls.global;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.pipeline.abort();
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  addKey(apiKey: string, options?: KeyOptions): void {
    this.pipeline.keys.add(apiKey, options);
  }
  revokeKey(apiKey: string): void {
    this.pipeline.keys.setRevoked(apiKey, true);
  }
  restoreKey(apiKey: string): void {
    this.pipeline.keys.setRevoked(apiKey, false);
  }
  configure(behaviour: Partial<StandInBehaviour>): void {
    this.pipeline.behaviour.apply(behaviour);
  }
  setFaults(faults: FaultOptions | undefined): void {
    this.pipeline.setFaults(faults);
  }
  counts(): Record<string, Record<number, number>> {
    return this.pipeline.requests.counts();
  }
  timeline(): RequestRecord[] {
    return this.pipeline.requests.timeline();
  }
  faultCounts(): Record<string, FaultCount> {
    return this.pipeline.requests.faultCounts();
  }
  resetCounts(): void {
    this.pipeline.requests.reset();
    this.pipeline.limiter.reset();
    this.pipeline.bans.reset();
  }
  bans(): number {
    return this.pipeline.bans.bans();
  }

  people(apiKey: string): StandInPerson[] {
    return [...this.account(apiKey).people.values()].map(toPersonSnapshot);
  }
  personByEmail(apiKey: string, email: string): StandInPerson | undefined {
    const person = this.account(apiKey).find('str::email', email);
    return person === undefined ? undefined : toPersonSnapshot(person);
  }
  tagMemberEmails(apiKey: string, tag: string): string[] {
    return this.account(apiKey)
      .tagMembers(tag)
      .map((p) => p.fields.get('str::email'))
      .filter((e): e is string => typeof e === 'string')
      .sort();
  }
  tags(apiKey: string): StandInTag[] {
    const account = this.account(apiKey);
    return [...account.tags.values()].map((t) => toTagSnapshot(account, t));
  }
  customFields(apiKey: string): StandInCustomField[] {
    return [...this.account(apiKey).fields.values()].map(toFieldSnapshot);
  }
  deletePerson(apiKey: string, email: string): boolean {
    const account = this.account(apiKey);
    const person = account.find('str::email', email);
    if (person !== undefined) account.remove(person);
    return person !== undefined;
  }
  deleteCustomField(apiKey: string, fieldId: string): boolean {
    return this.account(apiKey).fields.delete(fieldId);
  }
  permissionWrites(apiKey: string): PermissionWrite[] {
    return this.account(apiKey).permissionWrites.map((w) => ({ ...w }));
  }
  suppress(apiKey: string, email: string): void {
    this.account(apiKey).suppressed.add(email.toLowerCase());
  }
  unsubscribe(apiKey: string, email: string): void {
    const account = this.account(apiKey);
    const person = account.find('str::email', email);
    // Never echo the address.
    if (person === undefined) throw new Error(`No person with that email in ${account.label}.`);
    account.setField(person, 'bol::p', false);
  }
  addAudience(apiKey: string, name: string, tag: string): string {
    const id = newId();
    this.account(apiKey).audiences.set(id, { id, name, tag, createdAt: new Date().toISOString() });
    return id;
  }

  private account(apiKey: string) {
    return this.pipeline.keys.entry(apiKey).account;
  }
}

/** Starts an Ortto stand-in; resolves once it is listening. */
export async function startOrttoStandIn(options: StandInOptions = {}): Promise<OrttoStandIn> {
  const { port, host, apiKeys, seed, recordTimeline } = ServerOptionsSchema.parse({
    port: options.port,
    host: options.host,
    apiKeys: options.apiKeys,
    seed: options.seed,
    recordTimeline: options.recordTimeline,
  });
  const clock = options.clock ?? (() => performance.now());
  const pipeline = new RequestPipeline(clock, seed ?? randomSeed(), recordTimeline, options.log);
  // Validate everything before listening, so a bad option leaves no server behind.
  pipeline.behaviour.apply(options);
  pipeline.setFaults(options.faults);
  for (const key of apiKeys) pipeline.keys.add(key);
  const server = await listen(port, host);
  server.on('request', (req, res) => {
    pipeline.handle(req, res).catch(() => {
      // Only reachable for a request cut short by close() or a client that went away.
      if (!res.headersSent && !res.destroyed) res.destroy();
    });
  });
  return new StandIn(server, pipeline);
}
