import { AutopilotClient, type PageCall } from '#lib/adapters/autopilot/client.ts';
import { checkEmail } from '#lib/domain/email.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import { RequestTally, type RetryPolicy, withRetries } from '#lib/use-cases/destination-calls.ts';
import { type SampleDataset, sampleSegmentMembers } from './sample-data.ts';

/**
 * How verification reads: at the connection's rate through its shared budget, with the product's
 * retry policy, so a 429 backs the budget off and a reset or 5xx re-reads that page only.
 */
export interface ReadPacing {
  rateBudget: RateBudget;
  connectionId: string;
  ratePerSecond: number;
  clock?: Clock;
  /** Give up after this long (default 30 min): transient failures retry, 429s wait, but not forever. */
  deadlineMs?: number;
}

export interface VerifyResult {
  checks: SegmentCheck[];
  /** Every read request, by kind, and how many were answered 429. */
  requests: RequestTally;
}

/** Transient failures (resets, 5xx, timeouts) retried per page with 0.5 s, 1 s, 2 s, 4 s back-off. */
const READ_ATTEMPTS = 5;
const READ_BASE_DELAY_MS = 500;

/** Request hooks and a retrying page reader that pace every read through the connection's budget. */
export const pacedReads = (
  pacing: ReadPacing,
): { hooks: RequestHooks; call: PageCall; tally: RequestTally } => {
  const clock = pacing.clock ?? systemClock;
  const deadline = clock.now() + (pacing.deadlineMs ?? 30 * 60_000);
  const tally = new RequestTally();
  const hooks: RequestHooks = {
    beforeRequest: () => pacing.rateBudget.acquire(pacing.connectionId, pacing.ratePerSecond),
    afterResponse: (kind, status) => tally.record(kind, status),
  };
  const policy: RetryPolicy = {
    clock,
    rateBudget: pacing.rateBudget,
    connectionId: pacing.connectionId,
    maxAttempts: READ_ATTEMPTS,
    baseDelayMs: READ_BASE_DELAY_MS,
    ratePerSecond: pacing.ratePerSecond,
    remainingMs: () => deadline - clock.now(),
    reserveMs: 0,
  };
  return { hooks, call: (fetchPage) => withRetries(policy, fetchPage), tally };
};

const pacedClient = (
  options: { baseUrl: string; apiKey: string },
  pacing: ReadPacing,
): { client: AutopilotClient; call: PageCall; tally: RequestTally } => {
  const { hooks, call, tally } = pacedReads(pacing);
  return { client: new AutopilotClient({ ...options, hooks }), call, tally };
};

export interface SegmentCheck {
  segment: string;
  expected: number;
  actual: number;
  missing: number;
  extra: number;
  /** List mode: other Autopilot lists with the same title (e.g. left by a POST /list whose answer was lost). */
  duplicates: number;
}

/** The valid, distinct email keys of one sample segment: what its Autopilot list must hold. */
export const expectedMembers = (dataset: SampleDataset, segmentId: string): Set<string> => {
  const keys = new Set<string>();
  for (const p of sampleSegmentMembers(dataset, segmentId)) {
    const e = checkEmail(p.email);
    if (e.ok) keys.add(e.key);
  }
  return keys;
};

export const compare = (
  segment: string,
  expected: Set<string>,
  actual: Set<string>,
  duplicates = 0,
): SegmentCheck => {
  let missing = 0;
  for (const k of expected) if (!actual.has(k)) missing++;
  let extra = 0;
  for (const k of actual) if (!expected.has(k)) extra++;
  return { segment, expected: expected.size, actual: actual.size, missing, extra, duplicates };
};

/** Whether Autopilot holds exactly what the segments say, and nothing that looks like it. */
export const checksPass = (checks: readonly SegmentCheck[]): boolean =>
  checks.every((c) => c.missing === 0 && c.extra === 0 && c.duplicates === 0);

/**
 * Reads back what Autopilot holds, through the public API (works against the stand-in and the real
 * service alike): list members in list mode, the boolean membership fields in field mode. Every
 * read, paging included, goes through `pacing` as the pipeline's own requests do.
 */
export const verifyAgainstAutopilot = async (options: {
  baseUrl: string;
  apiKey: string;
  dataset: SampleDataset;
  mode: 'list' | 'field';
  /** `title`: the list's title in Autopilot (list mode), to spot a second list with the same one. */
  lists: Array<{ segmentId: string; name: string; title?: string; listId?: string; field: string }>;
  pacing: ReadPacing;
}): Promise<VerifyResult> => {
  const { client, call, tally } = pacedClient(options, options.pacing);
  const checks: SegmentCheck[] = [];
  if (options.mode === 'list') {
    const titled = new Map<string, number>();
    for (const l of await call(() => client.listLists())) titled.set(l.title, (titled.get(l.title) ?? 0) + 1);
    for (const list of options.lists) {
      const actual = new Set<string>();
      if (list.listId) {
        for await (const c of client.allListContacts(list.listId, call))
          if (c.email) actual.add(c.email.toLowerCase());
      }
      const sameTitle = list.title === undefined ? 0 : (titled.get(list.title) ?? 0);
      const duplicates = Math.max(0, sameTitle - (list.listId ? 1 : 0));
      checks.push(compare(list.name, expectedMembers(options.dataset, list.segmentId), actual, duplicates));
    }
    return { checks, requests: tally };
  }
  const flagged = new Map(options.lists.map((l) => [l.field, new Set<string>()]));
  for await (const c of client.allContacts(call)) {
    for (const [field, set] of flagged)
      if (c.email && c.custom[field]?.value === true) set.add(c.email.toLowerCase());
  }
  for (const list of options.lists) {
    checks.push(
      compare(
        list.name,
        expectedMembers(options.dataset, list.segmentId),
        flagged.get(list.field) ?? new Set(),
      ),
    );
  }
  return { checks, requests: tally };
};
