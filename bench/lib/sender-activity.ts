import type { Destination, RequestHooks } from '#lib/ports/destination.ts';

/** Request kinds only a sender makes (the planner's list lookups and creations are setup). */
const SENDER_KINDS = new Set([
  'bulkUpsert',
  'bulkUpsertWithList',
  'upsert',
  'upsertWithList',
  'listAdd',
  'listRemove',
  'membershipCheck',
]);

/** What the senders' sessions did, from the first request each asked for to its last answer. */
export interface SenderActivity {
  /** Sessions (one per delivery attempt) that sent at least one request. */
  deliveries: number;
  /** The most sessions busy at one moment. */
  peakConcurrent: number;
  /** Seconds from the first session's first request to the last session's last answer. */
  spanSeconds: number;
  /** The sessions' busy seconds added up: what senders are billed for while they deliver. */
  busySeconds: number;
  /** busySeconds ÷ spanSeconds: how many senders were delivering, on average. */
  averageConcurrent: number;
  /** Time spent inside beforeRequest (watch + waiting for a rate slot), summed over requests. */
  waitingSeconds: number;
}

interface Window {
  start: number;
  end: number;
  sender: boolean;
}

/**
 * Wraps the runtime's destination so that every session's busy window is known: a sender that
 * waits for slots another sender is using shows up as a second busy window over the same span,
 * which is what a second Lambda instance is billed for.
 */
export const senderActivityProbe = (now: () => number = () => performance.now()) => {
  const windows: Window[] = [];
  let waitingMs = 0;
  const wrap = (destination: Destination): Destination => ({
    name: destination.name,
    costs: destination.costs,
    membershipModes: destination.membershipModes,
    open: (apiKey, hooks) => {
      const window: Window = { start: Number.NaN, end: Number.NaN, sender: false };
      windows.push(window);
      const wrapped: RequestHooks = {
        beforeRequest: async (kind) => {
          const asked = now();
          if (Number.isNaN(window.start)) window.start = asked;
          if (SENDER_KINDS.has(kind)) window.sender = true;
          try {
            await hooks?.beforeRequest(kind);
          } finally {
            if (SENDER_KINDS.has(kind)) waitingMs += now() - asked;
          }
        },
        afterResponse: (kind, status, elapsedMs) => {
          window.end = now();
          hooks?.afterResponse(kind, status, elapsedMs);
        },
        ...(hooks?.timeLeftMs === undefined ? {} : { timeLeftMs: () => hooks.timeLeftMs?.() ?? 0 }),
      };
      return destination.open(apiKey, wrapped);
    },
  });
  const reset = (): void => {
    windows.length = 0;
    waitingMs = 0;
  };
  const summary = (): SenderActivity => {
    const done = windows.filter((w) => w.sender && !Number.isNaN(w.start) && !Number.isNaN(w.end));
    const first = Math.min(...done.map((w) => w.start));
    const last = Math.max(...done.map((w) => w.end));
    const spanMs = done.length === 0 ? 0 : last - first;
    const busyMs = done.reduce((n, w) => n + (w.end - w.start), 0);
    const edges = done.flatMap((w) => [
      { t: w.start, d: 1 },
      { t: w.end, d: -1 },
    ]);
    edges.sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0;
    let peak = 0;
    for (const e of edges) {
      open += e.d;
      peak = Math.max(peak, open);
    }
    return {
      deliveries: done.length,
      peakConcurrent: peak,
      spanSeconds: spanMs / 1000,
      busySeconds: busyMs / 1000,
      averageConcurrent: spanMs > 0 ? busyMs / spanMs : 0,
      waitingSeconds: waitingMs / 1000,
    };
  };
  return { wrap, reset, summary };
};
