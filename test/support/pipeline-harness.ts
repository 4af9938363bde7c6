import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import type { Connection } from '#lib/domain/connection.ts';
import type { ExportConfigInput } from '#lib/domain/export-config.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import { type PlanRunDeps, planRun } from '#lib/use-cases/plan-run.ts';
import { type SendBatchDeps, type SendResult, sendBatch } from '#lib/use-cases/send-batch.ts';
import { type StartRunDeps, startRun } from '#lib/use-cases/start-run.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { InMemoryDeadLetters, InMemoryQueue } from '#test/fakes/in-memory-queue.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { InMemorySegmentSource } from '#test/fakes/in-memory-segments.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { aConnection } from '#test/fixtures/state-records.ts';

export const plannerSettings: PlanRunDeps['settings'] = {
  pageSize: 50,
  perContactBatchSize: 25,
  reserveMs: 1_000,
  probeRecheckMs: 7 * 24 * 3600_000,
  maxAttempts: 3,
  baseDelayMs: 100,
};

export const senderSettings: SendBatchDeps['settings'] = {
  maxAttempts: 3,
  baseDelayMs: 100,
  reserveMs: 1_000,
  requeueDelaySeconds: 5,
  probeRecheckMs: 7 * 24 * 3600_000,
  probeWaitMs: 5_000,
  singleRetryLimit: 10,
  maskEmails: true,
};

/**
 * The whole pipeline on in-memory fakes of every port: the real use cases, a virtual clock, and
 * queues the test drains explicitly, so every interleaving is deterministic.
 */
export class PipelineHarness {
  readonly clock = new FakeClock();
  /** Every role port over the pipeline's state, in memory. */
  readonly state = createInMemoryState();
  readonly segments = new InMemorySegmentSource();
  readonly destination = new InMemoryDestination({ validKeys: ['key-1'] });
  /** As in production: the key store behind a per-environment cache. */
  readonly keyStore = new InMemorySecretProvider();
  readonly secrets = new CachedSecretProvider(this.keyStore, { clock: this.clock });
  readonly rateBudget = new InMemoryRateBudget(this.clock);
  readonly planQueue = new InMemoryQueue<PlanMessage>();
  /** FIFO, as deployed: one group per connection, no per-message delays. */
  readonly sendQueue = new InMemoryQueue<SendBatchMessageInput>({ fifo: true });
  readonly deadLetters = new InMemoryDeadLetters();
  readonly notifier = new RecordingNotifier();
  /** Virtual time left in each invocation; tests shrink it to force checkpoints. */
  remainingMs = (): number => 15 * 60_000;
  private ids = 0;

  get lifecycle() {
    return { ...this.state, notifier: this.notifier, clock: this.clock, logger: silentLogger };
  }

  get startDeps(): StartRunDeps {
    return {
      ...this.lifecycle,
      segments: this.segments,
      planQueue: this.planQueue,
      destinations: oneDestination(this.destination),
      newId: () => `run-${String(++this.ids).padStart(4, '0')}`,
    };
  }

  get planDeps(): PlanRunDeps {
    return {
      ...this.lifecycle,
      segments: this.segments,
      destinations: oneDestination(this.destination),
      secrets: this.secrets,
      rateBudget: this.rateBudget,
      sendQueue: this.sendQueue,
      planQueue: this.planQueue,
      settings: plannerSettings,
    };
  }

  get sendDeps(): SendBatchDeps {
    return {
      ...this.lifecycle,
      destinations: oneDestination(this.destination),
      secrets: this.secrets,
      rateBudget: this.rateBudget,
      sendQueue: this.sendQueue,
      deadLetters: this.deadLetters,
      settings: senderSettings,
    };
  }

  async addConnection(overrides: Partial<Connection> = {}): Promise<Connection> {
    const now = new Date(this.clock.now()).toISOString();
    const connection = aConnection({ createdAt: now, updatedAt: now, ...overrides });
    await this.state.connections.create(connection);
    await this.secrets.putApiKey(connection.id, 'key-1');
    return connection;
  }

  async addExport(config: Partial<ExportConfigInput> = {}, id = 'exp-1'): Promise<ExportRecord> {
    const now = new Date(this.clock.now()).toISOString();
    const record: ExportRecord = {
      ...ExportConfigSchema.parse({
        name: 'Newsletter',
        connectionId: 'conn-1',
        segmentIds: ['seg-a'],
        dataMatching: { email: 'email', fields: { FirstName: 'first_name' } },
        ...config,
      }),
      id,
      createdBy: 'admin',
      createdAt: now,
      updatedBy: 'admin',
      updatedAt: now,
      version: 1,
    };
    await this.state.exports.create(record);
    return record;
  }

  async start(exportId = 'exp-1', trigger: 'on-demand' | 'dry-run' | 'schedule' = 'on-demand') {
    return startRun(this.startDeps, { exportId, trigger, requestedBy: 'tester' });
  }

  /** Messages SQS gave up on after `maxReceiveCount` receives (the queues' redrive policy). */
  readonly exhausted: Array<{ queue: 'plan' | 'send'; body: unknown }> = [];
  readonly maxReceiveCount = 5;

  /**
   * Processes queued plan messages, then send messages, until both queues are empty. Like SQS, a
   * message whose handler throws (or answers `retry`) comes back, and after `maxReceiveCount`
   * receives it moves to the dead-letter queue (`exhausted`).
   */
  async drain(options: { sendResults?: SendResult[] } = {}): Promise<void> {
    const receives = new Map<unknown, number>();
    const received = (body: unknown): number => {
      const n = (receives.get(body) ?? 0) + 1;
      receives.set(body, n);
      return n;
    };
    for (let guard = 0; guard < 10_000; guard++) {
      const plan = this.planQueue.take();
      for (const message of plan) {
        const receiveCount = received(message);
        try {
          await planRun(this.planDeps, message, () => this.remainingMs());
        } catch {
          if (receiveCount >= this.maxReceiveCount) this.exhausted.push({ queue: 'plan', body: message });
          else this.planQueue.messages.push({ body: message, delaySeconds: 0 });
          receives.set(message, receiveCount);
        }
      }
      const batches = this.sendQueue.take();
      for (const batch of batches) {
        const receiveCount = received(batch);
        let result: SendResult;
        try {
          result = await sendBatch(this.sendDeps, JSON.stringify(batch), () => this.remainingMs(), {
            receiveCount,
            maxReceiveCount: this.maxReceiveCount,
          });
        } catch {
          result = 'retry';
        }
        options.sendResults?.push(result);
        if (result === 'retry') {
          if (receiveCount >= this.maxReceiveCount) this.exhausted.push({ queue: 'send', body: batch });
          else this.sendQueue.messages.push({ body: batch, delaySeconds: 0 });
        }
      }
      if (plan.length === 0 && batches.length === 0) return;
    }
    throw new Error('pipeline did not settle');
  }

  async run(runId: string): Promise<RunRecord> {
    const run = await this.state.runs.get(runId);
    if (run === undefined) throw new Error(`no run ${runId}`);
    return run;
  }
}
