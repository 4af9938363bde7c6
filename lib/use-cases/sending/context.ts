import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import type { BatchLedger } from '#lib/ports/batch-ledger.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import type { DeadLetters, WorkQueue } from '#lib/ports/work-queue.ts';
import type { LifecycleDeps } from '../run-lifecycle.ts';

/*
 * What sending a batch needs, in a module of its own: send-batch.ts and the sending/ modules it
 * calls all depend on it, and it on none of them (no import cycle).
 */

export interface SenderSettings {
  maxAttempts: number;
  baseDelayMs: number;
  /** Keep this much invocation time in hand; a batch that would wait past it goes back on the queue. */
  reserveMs: number;
  /**
   * A batch handed back (the rest of it, as a fresh message) goes no sooner than this after its
   * delivery began; the FIFO send queue takes no delay, so the sender pauses for it (settle.ts handBack).
   */
  requeueDelaySeconds: number;
  probeRecheckMs: number;
  probeWaitMs: number;
  /** Contacts rejected by a bulk upsert are retried one by one (to learn why) up to this many per batch. */
  singleRetryLimit: number;
  maskEmails: boolean;
  /** How often a delivery records its progress while it sends (default: DEFAULT_PROGRESS_EVERY). */
  progressEvery?: { results: number; ms: number };
}

export interface SendBatchDeps extends LifecycleDeps {
  connections: Connections;
  batches: BatchLedger;
  destinations: Destinations;
  secrets: SecretProvider;
  rateBudget: RateBudget;
  sendQueue: WorkQueue<SendBatchMessageInput>;
  deadLetters: DeadLetters;
  settings: SenderSettings;
}
