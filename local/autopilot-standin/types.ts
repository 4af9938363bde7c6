/** Public types of the Autopilot stand-in; re-exported by index.ts. */

export interface FaultOptions {
  /** Random error responses: each request matching `routes` (route keys like 'POST /contacts'; all when omitted) fails with `status` with probability `rate`. */
  errorRates?: Array<{ status: number; rate: number; routes?: string[] }>;
  /** Added latency per request, uniformly in [min, max] ms. */
  latencyMs?: { min: number; max: number };
  /** Windows, in ms since the fault set was applied (or server start), during which every request gets `status` (default 503). */
  outages?: Array<{ fromMs: number; toMs: number; status?: number }>;
  /** Probability that a request's socket is destroyed without a response (connection reset). */
  resetRate?: number;
  /** Probability that a request is answered only after `hangMs` (default 30000) — simulates timeouts. */
  hangRate?: number;
  hangMs?: number;
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
  /** Replaces the fault set; the clock for outages restarts here. */
  setFaults(faults: FaultOptions | undefined): void;
  /** Requests by route key and status, e.g. { 'POST /contacts': { 200: 10, 429: 1 } }. */
  counts(): Record<string, Record<number, number>>;
  timeline(): RequestRecord[];
  /** Clears counts and timeline. */
  resetCounts(): void;
  contacts(apiKey: string): StandInContact[];
  contactByEmail(apiKey: string, email: string): StandInContact | undefined;
  lists(apiKey: string): StandInList[];
  /** Emails of a list's members, by list id or by title (first list with that title), sorted. */
  listMemberEmails(apiKey: string, listIdOrTitle: string): string[];
  customFields(apiKey: string): Array<{ name: string; fieldType: string }>;
}
