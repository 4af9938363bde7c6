import { createHash, type Hash } from 'node:crypto';
import type { WorkQueue } from '#lib/ports/work-queue.ts';

/**
 * A queue that does what the SQS adapter does with each message before it leaves the process
 * (serialise it to JSON and measure it) and then lets it go, so a benchmark's memory is the
 * planner's, not a test fake's growing copy of every message. With `digest`, it also keeps a
 * SHA-256 of every body in order: two planner versions that queue the same messages match.
 */
export class SerialisingQueue<T> implements WorkQueue<T> {
  messages = 0;
  bytes = 0;
  calls = 0;
  private readonly hash: Hash | undefined;

  constructor(options: { digest?: boolean } = {}) {
    this.hash = options.digest ? createHash('sha256') : undefined;
  }

  async send(messages: readonly T[]): Promise<void> {
    this.calls++;
    for (const m of messages) {
      const body = JSON.stringify(m);
      this.messages++;
      this.bytes += Buffer.byteLength(body);
      this.hash?.update(body).update('\n');
    }
  }

  /** Hex SHA-256 of every body sent (undefined without `digest`). */
  digest(): string | undefined {
    return this.hash?.digest('hex');
  }
}
