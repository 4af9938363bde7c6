/** Public types of the Autopilot stand-in; re-exported by index.ts. */

/**
 * When a fault strikes a request: 'before' it reaches its route (nothing is written), or 'after'
 * the route ran (the write took effect; only the answer is lost, late, wrong or malformed).
 */
export type FaultPhase = 'before' | 'after';

export type FaultKind = 'error' | 'reset' | 'hang' | 'malformed';

/**
 * One fault: what it does, where and when. With none of `rate`, `every` and `at`, it strikes every
 * matching request (in its window, up to `max`). "Matching" counts requests on `routes` that passed
 * authentication and the rate limit, since the fault set was applied.
 */
export interface FaultRule {
  /**
   * - error: answer `status` (default 503) with the standard error body, and `retryAfter` if given;
   * - reset: destroy the socket without an answer;
   * - hang: hold the request `hangMs` (default 30 000) — before: then answer 504 without routing
   *   it; after: then send the route's answer (the client's timeout fires first);
   * - malformed: answer the route's 2xx with a body that is not JSON (always after).
   */
  kind: FaultKind;
  /** Default 'before' ('after' for malformed). */
  phase?: FaultPhase;
  /** error only: 400-599. */
  status?: number;
  /** error only: a Retry-After header value, sent as is (odd values test the client's clamp). */
  retryAfter?: string;
  /** hang only, in ms. */
  hangMs?: number;
  /** Route keys as in counts() (e.g. 'POST /contacts'); all routes when omitted. */
  routes?: string[];
  /** Probability per matching request (seeded). */
  rate?: number;
  /** Strike every Nth matching request (N, 2N, ...). */
  every?: number;
  /** Strike these matching requests (1-based). */
  at?: number[];
  /** Active only from `fromMs` to `toMs`, in ms since the fault set was applied. */
  fromMs?: number;
  toMs?: number;
  /** Strike at most this many times. */
  max?: number;
}

export interface FaultOptions {
  /** Faults with rates and schedules, checked in order after the fields below; the first that strikes wins. */
  rules?: FaultRule[];
  /**
   * Contacts Autopilot refuses for good: an address (case-insensitive), or a suffix starting with
   * '@' or '.' ('@blocked.example'). POST /contact answers 400; POST /contacts leaves them out of
   * `contact_ids` and `email_contact_map`. Nothing is written for them.
   */
  rejectContacts?: string[];
  /** Every key turns invalid (401) after this many of its requests, or this long after the fault set was applied. */
  revokeKeys?: { afterRequests?: number; afterMs?: number };
  /** Random error responses before routing: each request matching `routes` (all when omitted) fails with `status` with probability `rate`. */
  errorRates?: Array<{ status: number; rate: number; routes?: string[] }>;
  /** Added latency per request, uniformly in [min, max] ms. */
  latencyMs?: { min: number; max: number };
  /** Windows, in ms since the fault set was applied (or server start), during which every request gets `status` (default 503). */
  outages?: Array<{ fromMs: number; toMs: number; status?: number }>;
  /** Probability that a request's socket is destroyed without a response, before routing (connection reset). */
  resetRate?: number;
  /** Probability that a request is routed at once (the write happens) but answered only after `hangMs` (default 30000). */
  hangRate?: number;
  hangMs?: number;
}

/** How often one fault struck, and how many of those requests had taken effect (the route ran and succeeded). */
export interface FaultCount {
  injected: number;
  applied: number;
}

export interface StandInBehaviour {
  /** Token bucket refill per API key; default 5. */
  ratePerSecond: number;
  /** Bucket capacity; default = ratePerSecond. */
  burst: number;
  /** Send a Retry-After header on 429 (real API: not evidenced); default false. */
  retryAfter: boolean;
  /** Does POST /contacts honour _autopilot_list per item; default 'ignore'. */
  bulkListMembership: 'ignore' | 'honour';
  /** POST /list with an existing title; default 'allow'. */
  duplicateListNames: 'allow' | 'conflict';
  /** Default 200. */
  deleteContactStatus: 200 | 204;
  /** Answer {"not_modified":true} when add/remove changes nothing; default true. */
  membershipNotModified: boolean;
}

export interface StandInOptions extends Partial<StandInBehaviour> {
  /** 0 = any free port (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Each key is its own Autopilot account (own contacts/lists). */
  apiKeys?: string[];
  faults?: FaultOptions;
  /** Seeds the PRNG used by faults, so tests are deterministic. */
  seed?: number;
  /** Keep a per-request timeline (default true). */
  recordTimeline?: boolean;
  /** Optional request log; never receives API keys. */
  log?: (line: string) => void;
}

export interface StandInContact {
  contactId: string;
  email?: string;
  /** Standard fields as stored (e.g. FirstName), Email included. */
  fields: Record<string, unknown>;
  /** Keyed by human name ("Plan Name"). */
  custom: Record<string, { fieldType: string; value: unknown }>;
  lists: string[];
  unsubscribed: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface StandInList {
  listId: string;
  title: string;
  memberIds: string[];
}

export interface RequestRecord {
  /** Arrival time, ms since epoch. */
  t: number;
  /** Route template, e.g. 'POST /contacts'; 'UNKNOWN' for unmatched requests. */
  route: string;
  /** HTTP status sent; 0 when the connection was reset without a response. */
  status: number;
  /** Account label (e.g. 'account-1'), never the key; absent when the key was missing or invalid. */
  account?: string;
  /** The injected fault, as named in faultCounts() (e.g. 'reset after'). */
  fault?: string;
  /** For a request a fault struck: whether its route ran and succeeded (the write took effect). */
  applied?: boolean;
}

export interface AutopilotStandIn {
  /** e.g. http://127.0.0.1:4010/v1 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Creates an empty account for a new key (no-op for a key that already has one). */
  addKey(apiKey: string): void;
  /** The key turns invalid (→ 401); its data stays. */
  revokeKey(apiKey: string): void;
  restoreKey(apiKey: string): void;
  configure(behaviour: Partial<StandInBehaviour>): void;
  /**
   * Replaces the fault set (validated: an invalid one throws, naming the field); clocks, request
   * ordinals and dice restart here, and keys revoked by the previous set's `revokeKeys` are restored.
   */
  setFaults(faults: FaultOptions | undefined): void;
  /** Requests by route key and status, e.g. { 'POST /contacts': { 200: 10, 429: 1 } }. */
  counts(): Record<string, Record<number, number>>;
  timeline(): RequestRecord[];
  /** Injected faults by name: 'error 503 before', 'reset after', 'hang before', 'malformed after', 'outage 503', 'reject-contact', 'key-revoked'. */
  faultCounts(): Record<string, FaultCount>;
  /** Clears counts, fault counts and timeline. */
  resetCounts(): void;
  contacts(apiKey: string): StandInContact[];
  contactByEmail(apiKey: string, email: string): StandInContact | undefined;
  lists(apiKey: string): StandInList[];
  /** Emails of a list's members, by list id or by title (first list with that title), sorted. */
  listMemberEmails(apiKey: string, listIdOrTitle: string): string[];
  /** Takes every member off a list as a person would in the UI (no request counted); answers how many. */
  emptyList(apiKey: string, listIdOrTitle: string): number;
  customFields(apiKey: string): Array<{ name: string; fieldType: string }>;
}
