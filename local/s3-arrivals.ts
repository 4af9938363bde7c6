import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Context, S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import type { Logger } from '#lib/ports/logger.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import { LOCAL_REGION } from './dynamodb-local.ts';
import { lambdaContext } from './lambda-context.ts';

/*
 * The local stand-in for "S3 → EventBridge Object Created" (fauxqs has no S3 event notifications):
 * it lists `refreshes/` and hands every new `refreshes/<id>/manifest.json` to the handler as
 * EventBridge would. A manifest uploaded again (a new ETag or time) is a new event, as every PUT is
 * in S3; the handler is the one that must start nothing twice.
 */

export type ArrivalHandler = (event: S3ObjectCreatedNotificationEvent, context: Context) => Promise<unknown>;

export interface ArrivalOutcome {
  key: string;
  /** Handler calls for this upload of the key. */
  attempts: number;
  /** What the handler answered, or why the last attempt failed (then given up). */
  result?: unknown;
  error?: string;
}

export interface S3ArrivalsOptions {
  s3: S3Client;
  bucket: string;
  handler: ArrivalHandler;
  /** Between the end of one listing and the next (default 500 ms). */
  intervalMs?: number;
  /** Handler calls per upload before it is given up, each on a later poll (default 5). */
  maxAttempts?: number;
  functionName?: string;
  functionTimeoutMs?: number;
  logger?: Logger;
}

const MANIFEST = /^refreshes\/[^/]+\/manifest\.json$/;
/** S3's own key limit (1,024 bytes), checked before the pattern. */
const MAX_KEY_CHARS = 1024;

/** The event EventBridge delivers for an S3 PutObject (bucket with EventBridge notifications on). */
export const objectCreatedEvent = (
  bucket: string,
  object: { key: string; size: number; etag: string; versionId: string },
): S3ObjectCreatedNotificationEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '000000000000',
  time: new Date().toISOString(),
  region: LOCAL_REGION,
  resources: [`arn:aws:s3:::${bucket}`],
  detail: {
    version: '0',
    bucket: { name: bucket },
    object: {
      key: object.key,
      size: object.size,
      etag: object.etag,
      'version-id': object.versionId,
      sequencer: Date.now().toString(16).padStart(16, '0'),
    },
    'request-id': randomUUID(),
    requester: '000000000000',
    'source-ip-address': '127.0.0.1',
    reason: 'PutObject',
  },
});

export class S3Arrivals {
  readonly #options: S3ArrivalsOptions;
  readonly #logger: Logger;
  /** Per manifest key: the upload already delivered (or given up), as `etag|lastModified`. */
  readonly #delivered = new Map<string, string>();
  /** Uploads not yet delivered: the event (the same one on every retry, as EventBridge's) and its attempts. */
  readonly #pending = new Map<string, { event: S3ObjectCreatedNotificationEvent; attempts: number }>();
  readonly #outcomes = new Map<string, ArrivalOutcome[]>();
  readonly #waiters: Array<{ key: string; count: number; resolve: (o: ArrivalOutcome) => void }> = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: S3ArrivalsOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One listing and its deliveries now (after any in progress); what the timer does each interval. */
  async poll(): Promise<void> {
    // A failed listing does not hold up the next one.
    const previous = (this.#running ?? Promise.resolve()).catch(() => {});
    const next = previous.then(() => this.#pollOnce());
    this.#running = next;
    await next;
  }

  /**
   * Resolves once `key` has had `count` uploads delivered (handled, or given up after maxAttempts),
   * earlier ones included; rejects after `timeoutMs` (default 60 s).
   */
  delivered(key: string, options: { count?: number; timeoutMs?: number } = {}): Promise<ArrivalOutcome> {
    const count = options.count ?? 1;
    const reached = (this.#outcomes.get(key) ?? [])[count - 1];
    if (reached) return Promise.resolve(reached);
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const waiter = {
        key,
        count,
        resolve: (outcome: ArrivalOutcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`${key}: ${count} upload(s) not delivered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.poll()
        .catch((error: unknown) => this.#logger.error('listing refreshes failed', { error: String(error) }))
        .finally(() => this.#schedule(this.#options.intervalMs ?? 500));
    }, delayMs);
  }

  async #pollOnce(): Promise<void> {
    const { s3, bucket } = this.#options;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'refreshes/', ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (key.length > MAX_KEY_CHARS || !MANIFEST.test(key)) continue;
        const version = `${object.ETag ?? ''}|${object.LastModified?.toISOString() ?? ''}`;
        if (this.#delivered.get(key) === version) continue;
        await this.#deliver(key, version, object.Size ?? 0, (object.ETag ?? '').replaceAll('"', ''));
        if (this.#stopped) return;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async #deliver(key: string, version: string, size: number, etag: string): Promise<void> {
    const { bucket, handler } = this.#options;
    const uploadKey = `${key}#${version}`;
    const pending = this.#pending.get(uploadKey) ?? {
      // fauxqs keeps no object versions: a stand-in id per upload, as a versioned bucket has.
      event: objectCreatedEvent(bucket, { key, size, etag, versionId: randomUUID() }),
      attempts: 0,
    };
    pending.attempts++;
    this.#pending.set(uploadKey, pending);
    const { attempts } = pending;
    const context = lambdaContext(
      this.#options.functionName ?? 'autopilot-export-planner',
      this.#options.functionTimeoutMs ?? 300_000,
    );
    try {
      const result = await handler(pending.event, context);
      this.#settle(key, version, uploadKey, { key, attempts, result });
    } catch (error) {
      const max = this.#options.maxAttempts ?? 5;
      this.#logger.error('refresh arrival failed', { key, attempt: attempts, of: max, error: String(error) });
      if (attempts >= max) this.#settle(key, version, uploadKey, { key, attempts, error: String(error) });
    }
  }

  #settle(key: string, version: string, uploadKey: string, outcome: ArrivalOutcome): void {
    this.#delivered.set(key, version);
    this.#pending.delete(uploadKey);
    const done = [...(this.#outcomes.get(key) ?? []), outcome];
    this.#outcomes.set(key, done);
    for (const waiter of [...this.#waiters]) {
      if (waiter.key !== key || done.length < waiter.count) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(done[waiter.count - 1] as ArrivalOutcome);
    }
  }
}
