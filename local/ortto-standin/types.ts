/** Public types of the Ortto stand-in; re-exported by index.ts (docs/ortto-standin.md). */

/** Ortto's three data regions; each has its own host, and a key works only on its own. */
export type Region = 'global' | 'eu' | 'au';

/**
 * When a fault strikes: 'before' the route (nothing is written), or 'after' it ran (the write took
 * effect; only the answer is lost, late, wrong or malformed).
 */
export type FaultPhase = 'before' | 'after';
export type FaultKind = 'error' | 'reset' | 'hang' | 'malformed';

/**
 * One fault. With none of `rate`, `every` and `at` it strikes every matching request (in its window,
 * up to `max`). Matching requests are those on `routes` that passed the ban, auth and the rate limit.
 */
export interface FaultRule {
  /**
   * error: answer `status` (default 503) in Ortto's error envelope (a 429 in the rate-limit body with
   * `tryInSeconds`); reset: destroy the socket; hang: hold the request `hangMs` (default 30 000), then
   * 504 (before) or the route's answer (after); malformed: the route's 2xx cut short (always after).
   */
  kind: FaultKind;
  /** Default 'before' ('after' for malformed). */
  phase?: FaultPhase;
  /** error only: 400-599. */
  status?: number;
  /** error with status 429 only: the body's try-in-seconds (default 1). */
  tryInSeconds?: number;
  /** hang only, in ms. */
  hangMs?: number;
  /** Route keys as in counts() (e.g. 'POST /v1/person/merge'); all routes when omitted. */
  routes?: string[];
  /** Probability per matching request (seeded). */
  rate?: number;
  /** Strike every Nth matching request. A rule counts only the requests that reach it: one struck by an earlier rule is not counted. */
  every?: number;
  /** Strike these matching requests (1-based, counted as for `every`). */
  at?: number[];
  /** Active from `fromMs` to `toMs`, in ms on the stand-in's clock since the fault set was applied. */
  fromMs?: number;
  toMs?: number;
  /** Strike at most this many times. */
  max?: number;
}

export interface FaultOptions {
  /** Checked in order after the outages; the first that strikes wins. */
  rules?: FaultRule[];
  /** Every request in a window (ms since the fault set was applied) gets `status` (default 503). */
  outages?: Array<{ fromMs: number; toMs: number; status?: number }>;
  /** Added latency per routed request, uniformly in [min, max] ms (real time, not the clock). */
  latencyMs?: { min: number; max: number };
  /** Every key turns invalid (401) after this many of its requests, or this long after the set was applied. */
  revokeKeys?: { afterRequests?: number; afterMs?: number };
}

export interface FaultCount {
  injected: number;
  /** How many of those requests had taken effect (the route ran and succeeded). */
  applied: number;
}

/** What a merge batch with some invalid people answers (the evidence does not say). */
export type MixedBatchMode = 'inline' | 'omit' | 'reject';
/** Whether tags/unset_tags reach an existing person under merge strategy 1 or 3. */
export type TagMode = 'apply' | 'ignore';

export interface StandInBehaviour {
  /** Token bucket refill per API key; default 10 (the lowest plan). */
  ratePerSecond: number;
  /** Bucket capacity; default = ratePerSecond. */
  burst: number;
  /** Also send Retry-After on 429s (real API: not documented); default false. */
  retryAfter: boolean;
  /** Bad requests (4xx other than 429, from the stand-in's own logic) from one IP that trigger a ban; default 15. */
  banThreshold: number;
  /** The window those bad requests are counted in, in seconds; default 15. */
  banWindowSeconds: number;
  /** How long an IP is banned, in seconds; default 15. */
  banSeconds: number;
  /** Default 'inline': invalid people get {status, error} in their place, the rest are applied. */
  mixedBatch: MixedBatchMode;
  /**
   * What a merge with skip_non_existing answers for a person it skipped because nobody matched:
   * `ignored` (default) an entry `{status: "ignored"}` in its place; `omit` no entry, so positions
   * shift. Ortto's documentation shows neither.
   */
  skippedAnswer: 'ignored' | 'omit';
  /** Tags on existing people under strategy 1 (append only); default 'apply'. */
  strategy1Tags: TagMode;
  /** Tags on existing people under strategy 3 (ignore); default 'ignore'. */
  strategy3Tags: TagMode;
  /** Whether person/get accepts {"$id_set_is":{"field_id":"u4s::t","value":[tag ids]}}; default false (undocumented). */
  tagFilter: boolean;
  /** Whether a key is accepted on another region's host; default false. */
  crossRegionKeys: boolean;
}

export interface KeyOptions {
  /** Default 'global'. */
  region?: Region;
  /** Used when a merge omits merge_by; default ['str::email']. */
  defaultMergeBy?: string[];
}

export interface StandInOptions extends Partial<StandInBehaviour> {
  /** 0 = any free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Each key is its own Ortto account, in the global region. */
  apiKeys?: string[];
  faults?: FaultOptions;
  /** Seeds the fault dice. */
  seed?: number;
  /** Monotonic ms for the rate limit, the ban and fault windows; default performance.now (tests pass a fake). */
  clock?: () => number;
  /** Keep a per-request timeline (default true). */
  recordTimeline?: boolean;
  /** Optional request log; never receives keys or emails. */
  log?: (line: string) => void;
}

export interface StandInPerson {
  id: string;
  /** Field id → value, bol::p and bol::sp included. */
  fields: Record<string, unknown>;
  tags: string[];
}

export interface StandInTag {
  id: string;
  name: string;
  count: number;
}

export interface StandInCustomField {
  id: string;
  name: string;
  type: string;
  values?: string[];
}

/** A merge entry that carried bol::p or bol::sp: proof that an exporter sent consent. */
export interface PermissionWrite {
  field: 'bol::p' | 'bol::sp';
  value: unknown;
  personId?: string;
  /** The person's value before the merge (undefined for a new person). */
  before?: unknown;
  /** What the person holds after it. */
  after?: unknown;
}

export interface RequestRecord {
  /** Arrival time, ms since epoch. */
  t: number;
  /** Route key, e.g. 'POST /v1/person/merge'; 'UNKNOWN' for unmatched requests. */
  route: string;
  /** 0 when the connection was reset without a response. */
  status: number;
  /** Account label, never the key. */
  account?: string;
  fault?: string;
  applied?: boolean;
}

export interface OrttoStandIn {
  /** Base URL of each region, e.g. { global: 'http://127.0.0.1:4010/v1', eu: 'http://127.0.0.1:4010/eu/v1', ... }. */
  readonly urls: Readonly<Record<Region, string>>;
  /** The global region's base URL. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Creates an empty account for a new key (no-op for a known key). */
  addKey(apiKey: string, options?: KeyOptions): void;
  revokeKey(apiKey: string): void;
  restoreKey(apiKey: string): void;
  configure(behaviour: Partial<StandInBehaviour>): void;
  /** Replaces the fault set (validated; throws naming the field); its clock, ordinals and dice restart. */
  setFaults(faults: FaultOptions | undefined): void;
  /** Requests by route key and status. */
  counts(): Record<string, Record<number, number>>;
  timeline(): RequestRecord[];
  faultCounts(): Record<string, FaultCount>;
  /** Clears counts, fault counts, timeline, rate buckets and IP bans. */
  resetCounts(): void;
  /** How many times an IP was banned since the last resetCounts(). */
  bans(): number;
  people(apiKey: string): StandInPerson[];
  personByEmail(apiKey: string, email: string): StandInPerson | undefined;
  /** Emails of the people carrying a tag, sorted. */
  tagMemberEmails(apiKey: string, tag: string): string[];
  tags(apiKey: string): StandInTag[];
  customFields(apiKey: string): StandInCustomField[];
  /**
   * Deletes a custom field by id, as an Ortto user can in the web app (the API cannot): merges that
   * still write it are refused ("Object not found"), as Ortto refuses an unknown field.
   */
  deleteCustomField(apiKey: string, fieldId: string): boolean;
  /** Deletes the person with this email, as an Ortto user can in the web app; false when there is none. */
  deletePerson(apiKey: string, email: string): boolean;
  /** Every merge entry that carried bol::p / bol::sp, in order. */
  permissionWrites(apiKey: string): PermissionWrite[];
  /** Puts an email on the account's suppression list (as a person would in the UI). */
  suppress(apiKey: string, email: string): void;
  /** Unsubscribes a person from email (bol::p = false) as they would by a link; throws if unknown. */
  unsubscribe(apiKey: string, email: string): void;
  /** A UI audience whose filter is "has tag"; answers its id. */
  addAudience(apiKey: string, name: string, tag: string): string;
}
