import type { FakeFault, FakeRequest } from '#test/fakes/in-memory-destination.ts';
import type { Rng } from './rng.ts';

/** How often each fault strikes while faults are on (each seed draws its own mix). */
export interface FaultRates {
  /** Per handler invocation: the process dies at a random state call (any port) (before or after its effect). */
  crash: number;
  /** Per state write: a transaction/condition conflict surfaces (nothing written). */
  conflict: number;
  /** Per queue send: SendMessageBatch fails, before or after the messages were queued. */
  queueSend: number;
  /** Per delivery: SQS hands the same message to two consumers at once. */
  duplicate: number;
  /** Per invocation: it starts with little time left (forces checkpoints and hand-backs). */
  shortTime: number;
  /** Per destination request: one of the request faults below. */
  request: number;
}

export const NO_FAULTS: FaultRates = {
  crash: 0,
  conflict: 0,
  queueSend: 0,
  duplicate: 0,
  shortTime: 0,
  request: 0,
};

export const drawRates = (rng: Rng): FaultRates => ({
  crash: rng.pick([0, 0.05, 0.15]),
  conflict: rng.pick([0, 0.01, 0.03]),
  queueSend: rng.pick([0, 0.05, 0.15]),
  duplicate: rng.pick([0, 0.1, 0.3]),
  shortTime: rng.pick([0, 0.1, 0.3]),
  request: rng.pick([0, 0.05, 0.1, 0.2]),
});

/**
 * One request fault, as Autopilot (or the network) would serve it: a 429 without Retry-After, a 5xx
 * or a reset before or after the write took effect, a timeout after it, a garbled 2xx after it.
 */
export const requestFault = (rng: Rng, rates: FaultRates, request: FakeRequest): FakeFault | undefined => {
  if (!rng.chance(rates.request)) return undefined;
  const after = rng.chance(0.5);
  switch (rng.int(0, 5)) {
    case 0:
      return { kind: 'throttle' };
    case 1:
      return { kind: 'transient', status: rng.pick([500, 502, 503]), after };
    case 2:
      return { kind: 'transient', status: 0, after }; // a connection reset
    case 3:
      return { kind: 'transient', status: 0, after: true }; // a timeout: the write went through
    case 4:
      // A garbled 2xx: only writes can have taken effect; a read garbled is simply unreadable.
      return { kind: 'permanent', status: 200, after: request.kind !== 'listLists' };
    default:
      return { kind: 'throttle' };
  }
};
