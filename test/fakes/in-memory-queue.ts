import { TransientError, ValidationError } from '#lib/domain/errors.ts';
import type { DeadLetters, WorkQueue } from '#lib/ports/work-queue.ts';

/** Captures what was queued; tests drain it into the consumer under test. */
export class InMemoryQueue<T> implements WorkQueue<T> {
  readonly messages: Array<{ body: T; delaySeconds: number }> = [];
  /** `send` calls so far (1-based numbers go into `failSends`). */
  sends = 0;
  /** The `send` calls (by number) that fail without enqueuing anything, as a throttled SQS would. */
  readonly failSends = new Set<number>();
  /** As an SQS FIFO queue: a per-message delay is refused (the send queue is FIFO). */
  readonly fifo: boolean;

  constructor(options: { fifo?: boolean } = {}) {
    this.fifo = options.fifo ?? false;
  }

  async send(messages: readonly T[], options: { delaySeconds?: number } = {}): Promise<void> {
    if (this.fifo && (options.delaySeconds ?? 0) > 0) {
      throw new ValidationError([{ path: 'delaySeconds', reason: 'must be 0 on a FIFO queue (fake)' }]);
    }
    if (this.failSends.has(++this.sends)) throw new TransientError('SendMessageBatch failed (fake)');
    for (const body of messages)
      this.messages.push({ body: structuredClone(body), delaySeconds: options.delaySeconds ?? 0 });
  }

  /** Removes and returns everything queued so far. */
  take(): T[] {
    return this.messages.splice(0).map((m) => m.body);
  }
}

export class InMemoryDeadLetters implements DeadLetters {
  readonly letters: Array<{ body: string; reason: string }> = [];
  async send(body: string, reason: string): Promise<void> {
    this.letters.push({ body, reason });
  }
}
