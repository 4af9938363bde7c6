import type { WorkQueue } from '#lib/ports/work-queue.ts';

/**
 * A queue that does what the SQS adapter does with each message before it leaves the process
 * (serialise it to JSON and measure it) and then lets it go, so a benchmark's memory is the
 * planner's, not a test fake's growing copy of every message.
 */
export class SerialisingQueue<T> implements WorkQueue<T> {
  messages = 0;
  bytes = 0;
  calls = 0;

  async send(messages: readonly T[]): Promise<void> {
    this.calls++;
    for (const m of messages) {
      this.messages++;
      this.bytes += Buffer.byteLength(JSON.stringify(m));
    }
  }
}
