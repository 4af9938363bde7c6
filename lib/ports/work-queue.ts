/**
 * A durable queue of JSON messages (SQS in AWS). `send` enqueues in the fewest calls the queue
 * allows and refuses a message over the queue's size limit before sending anything.
 */
export interface WorkQueue<T> {
  send(messages: readonly T[], options?: { delaySeconds?: number }): Promise<void>;
}

/** Where a message that can never be processed goes, with the reason attached (the DLQ). */
export interface DeadLetters {
  send(body: string, reason: string): Promise<void>;
}
