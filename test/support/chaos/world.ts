import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { TransientError } from '#lib/domain/errors.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { Destination, DestinationSession } from '#lib/ports/destination.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import type { State } from '#lib/ports/state.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import { endStalledRuns } from '#lib/use-cases/end-stalled-runs.ts';
import { cancelRun } from '#lib/use-cases/manage-runs.ts';
import { type PlanRunDeps, planRun } from '#lib/use-cases/plan-run.ts';
import type { LifecycleDeps } from '#lib/use-cases/run-lifecycle.ts';
import { type SendBatchDeps, type SendResult, sendBatch } from '#lib/use-cases/send-batch.ts';
import { type StartRunDeps, type StartRunResult, startRun } from '#lib/use-cases/start-run.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { InMemoryDeadLetters } from '#test/fakes/in-memory-queue.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { InMemorySegmentSource } from '#test/fakes/in-memory-segments.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { plannerSettings, senderSettings } from '#test/support/pipeline-harness.ts';
import { type FaultRates, NO_FAULTS, requestFault } from './faults.ts';
import type { Rng } from './rng.ts';

export const API_KEY = 'chaos-key-0123456789abcdef';
const MAX_RECEIVES = 5;
const MINUTE = 60_000;
/** As in the stack: a message's visibility timeout outlasts its consumer's longest invocation. */
const VISIBILITY_MS = { plan: 6 * 15 * MINUTE, send: 6 * 5 * MINUTE };
/** State writes a transaction conflict may strike (port.method). */
const WRITES = new Set([
  'batches.record',
  'batches.lease',
  'batches.addRequests',
  'plans.commit',
  'plans.note',
  'plans.complete',
  'plans.lease',
  'snapshots.apply',
  'snapshots.stage',
  'snapshots.settle',
  'snapshots.rebase',
  'exports.claimActiveRun',
  'exports.releaseActiveRun',
  'runs.transition',
  'checkpoints.save',
  'targets.claim',
  'connections.claimProbe',
  'connections.settleProbe',
]);

/** The process died here: whatever the invocation was doing stops, its message comes back. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** One handler invocation: when (if ever) its process dies, and whether it has. */
class Invocation {
  dead = false;
  calls = 0;
  constructor(
    readonly crashAt: number,
    readonly crashAfterEffect: boolean,
    readonly deadline: number,
  ) {}

  check(): void {
    if (this.dead) throw new SimulatedCrash('the invocation already died');
  }
}

interface Envelope<T> {
  body: T;
  receives: number;
  visibleAt: number;
}

/**
 * The whole pipeline on in-memory ports, with faults at every boundary drawn from one seed: handlers
 * that die between (or right after) any two state calls, conflicts, queue sends that fail before
 * or after enqueuing, duplicate and out-of-order delivery, short invocations, and Autopilot faults
 * before and after the write took effect. Time is virtual; SQS's visibility timeouts, redelivery and
 * dead-letter moves are modelled; the watchdog runs when nothing else can move.
 */
export class ChaosWorld {
  readonly clock = new FakeClock();
  readonly state = createInMemoryState();
  readonly segments = new InMemorySegmentSource();
  readonly destination = new InMemoryDestination({ validKeys: [API_KEY] });
  readonly keyStore = new InMemorySecretProvider();
  readonly secrets = new CachedSecretProvider(this.keyStore, { clock: this.clock });
  readonly rateBudget = new InMemoryRateBudget(this.clock);
  readonly logger = new RecordingLogger();
  readonly notifier = new RecordingNotifier();
  readonly senderDeadLetters = new InMemoryDeadLetters();
  readonly planQueue: Envelope<PlanMessage>[] = [];
  readonly sendQueue: Envelope<SendBatchMessageInput>[] = [];
  readonly deadLettered: Array<{ queue: 'plan' | 'send'; body: unknown }> = [];
  rates: FaultRates = NO_FAULTS;
  /** A cancel requested at this destination request number (once). */
  cancelAtRequest: number | undefined;
  /** The key stops working at this destination request number (once). */
  revokeAtRequest: number | undefined;
  private requests = 0;
  private ids = 0;

  constructor(readonly rng: Rng) {
    this.destination.fault = (request) => requestFault(this.rng, this.rates, request);
    this.destination.beforeRequest = async () => {
      this.requests++;
      if (this.requests === this.revokeAtRequest) this.destination.validKeys.delete(API_KEY);
      if (this.requests === this.cancelAtRequest) {
        const active = (await this.state.exports.get('exp-1'))?.activeRunId;
        if (active !== undefined) {
          await cancelRun(this.lifecycle(), active, { id: 'chaos-admin', role: 'admin' }).catch(() => {});
        }
      }
    };
  }

  lifecycle(state: State = this.state): State & LifecycleDeps {
    return { ...state, notifier: this.notifier, clock: this.clock, logger: this.logger };
  }

  startDeps(): StartRunDeps {
    return {
      ...this.lifecycle(),
      segments: this.segments,
      planQueue: this.queue(this.planQueue, undefined),
      destinations: oneDestination(this.destination),
      newId: () => `run-${String(++this.ids).padStart(4, '0')}`,
    };
  }

  async start(trigger: 'on-demand' | 'schedule' = 'on-demand'): Promise<StartRunResult> {
    return startRun(this.startDeps(), { exportId: 'exp-1', trigger, requestedBy: 'chaos' });
  }

  /** Processes both queues until nothing can move, letting the watchdog end what stalled. */
  async drain(): Promise<void> {
    for (let step = 0; step < 20_000; step++) {
      const now = this.clock.now();
      const plans = this.rng.shuffle(this.planQueue.filter((e) => e.visibleAt <= now));
      for (const e of plans) await this.deliver(e, this.planQueue, 'plan');
      const sends = this.rng.shuffle(this.sendQueue.filter((e) => e.visibleAt <= this.clock.now()));
      for (const e of sends) await this.deliver(e, this.sendQueue, 'send');
      if (plans.length > 0 || sends.length > 0) continue;
      const waiting = [...this.planQueue, ...this.sendQueue].map((e) => e.visibleAt);
      if (waiting.length > 0) {
        this.clock.advance(Math.max(1, Math.min(...waiting) - this.clock.now()));
        continue;
      }
      if (await this.allRunsEnded()) return;
      // Nothing can move: what is left waits for the watchdog (a batch in the DLQ, a lost plan).
      this.clock.advance(31 * MINUTE);
      await endStalledRuns(this.lifecycle());
    }
    throw new Error('the pipeline did not settle (livelock)');
  }

  async allRunsEnded(): Promise<boolean> {
    const { runs } = await this.state.runs.list('exp-1', 1_000);
    return runs.every((r) => isTerminal(r.status));
  }

  private async deliver<T>(
    envelope: Envelope<T>,
    queue: Envelope<T>[],
    kind: 'plan' | 'send',
  ): Promise<void> {
    envelope.receives++;
    const copies = this.rng.chance(this.rates.duplicate) ? 2 : 1;
    const results = await Promise.all(Array.from({ length: copies }, () => this.invoke(envelope, kind)));
    if (results.includes('done')) {
      queue.splice(queue.indexOf(envelope), 1);
      return;
    }
    if (envelope.receives >= MAX_RECEIVES) {
      queue.splice(queue.indexOf(envelope), 1);
      this.deadLettered.push({ queue: kind, body: envelope.body });
      return;
    }
    const crashed = results.includes('crashed');
    envelope.visibleAt =
      this.clock.now() + (crashed ? VISIBILITY_MS[kind] : 1_000 * 2 ** Math.max(0, envelope.receives - 1));
  }

  private async invoke<T>(envelope: Envelope<T>, kind: 'plan' | 'send'): Promise<SendResult | 'crashed'> {
    const short = this.rng.chance(this.rates.shortTime);
    const inv = new Invocation(
      this.rng.chance(this.rates.crash) ? this.rng.int(1, 30) : Number.POSITIVE_INFINITY,
      this.rng.chance(0.5),
      this.clock.now() + (short ? this.rng.int(1_500, 6_000) : 5 * MINUTE),
    );
    const remaining = () => inv.deadline - this.clock.now();
    try {
      if (kind === 'plan') {
        await planRun(this.planDeps(inv), envelope.body as PlanMessage, remaining);
        return 'done';
      }
      return await sendBatch(this.sendDeps(inv), JSON.stringify(envelope.body), remaining, {
        receiveCount: envelope.receives,
        maxReceiveCount: MAX_RECEIVES,
      });
    } catch (error) {
      return error instanceof SimulatedCrash ? 'crashed' : 'retry';
    }
  }

  private planDeps(inv: Invocation): PlanRunDeps {
    return {
      ...this.lifecycle(this.stateFor(inv)),
      segments: this.segments,
      destinations: oneDestination(this.destinationFor(inv)),
      secrets: this.secrets,
      rateBudget: this.rateBudget,
      sendQueue: this.queue(this.sendQueue, inv),
      planQueue: this.queue(this.planQueue, inv),
      settings: plannerSettings,
    };
  }

  private sendDeps(inv: Invocation): SendBatchDeps {
    return {
      ...this.lifecycle(this.stateFor(inv)),
      destinations: oneDestination(this.destinationFor(inv)),
      secrets: this.secrets,
      rateBudget: this.rateBudget,
      sendQueue: this.queue(this.sendQueue, inv),
      deadLetters: this.senderDeadLetters,
      settings: senderSettings,
    };
  }

  /** The state as one invocation sees it: it dies at its crash point, and conflicts strike writes. */
  private stateFor(inv: Invocation): State {
    const rng = this.rng;
    const rates = () => this.rates;
    const guard = <T extends object>(port: string, target: T): T =>
      new Proxy(target, {
        get(t, prop, receiver) {
          const value = Reflect.get(t, prop, receiver);
          if (typeof value !== 'function') return value;
          const name = `${port}.${String(prop)}`;
          return (...args: unknown[]) => {
            inv.check();
            inv.calls++;
            const crashHere = inv.calls === inv.crashAt;
            if (crashHere && !inv.crashAfterEffect) {
              inv.dead = true;
              throw new SimulatedCrash(`died before ${name}`);
            }
            if (WRITES.has(name) && rng.chance(rates().conflict)) {
              throw new TransientError(`${name}: transaction conflict (injected)`);
            }
            const result = value.apply(t, args);
            if (!crashHere) return result;
            inv.dead = true;
            if (result instanceof Promise) {
              return result.then(() => {
                throw new SimulatedCrash(`died after ${name}`);
              });
            }
            throw new SimulatedCrash(`died after ${name}`);
          };
        },
      });
    const entries = Object.entries(this.state).map(([port, impl]) => [port, guard(port, impl as object)]);
    return Object.fromEntries(entries) as unknown as State;
  }

  /** Autopilot as one invocation sees it: a dead invocation sends nothing more. */
  private destinationFor(inv: Invocation): Destination {
    const inner = this.destination;
    return {
      name: inner.name,
      costs: inner.costs,
      membershipModes: inner.membershipModes,
      open: (apiKey, hooks) => {
        const session = inner.open(apiKey, hooks);
        const guarded = {} as Record<string, unknown>;
        for (const [name, fn] of Object.entries(session) as Array<
          [string, (...a: unknown[]) => Promise<unknown>]
        >) {
          guarded[name] = async (...args: unknown[]) => {
            inv.check();
            const out = await fn(...args);
            inv.check();
            return out;
          };
        }
        return guarded as unknown as DestinationSession;
      },
    };
  }

  /** A queue as one invocation sees it: a send may fail before or after the messages were queued. */
  private queue<T>(into: Envelope<T>[], inv: Invocation | undefined): WorkQueue<T> {
    return {
      send: async (messages, options = {}) => {
        inv?.check();
        const fails = inv !== undefined && this.rng.chance(this.rates.queueSend);
        if (fails && this.rng.chance(0.5)) throw new TransientError('SendMessageBatch failed (injected)');
        const visibleAt = this.clock.now() + (options.delaySeconds ?? 0) * 1_000;
        for (const body of messages) into.push({ body: structuredClone(body), receives: 0, visibleAt });
        if (fails) throw new TransientError('SendMessageBatch answer lost (injected)');
      },
    };
  }
}
