import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';

export interface CachedSecretProviderOptions {
  /** How long a fetched key is reused. Default 60 s: one Secrets Manager call per connection per minute per environment. */
  ttlMs?: number;
  clock?: Clock;
}

interface Entry {
  key: Promise<string>;
  /** Infinity while the fetch is in flight. */
  expiresAt: number;
}

/**
 * Caches API keys per execution environment (create it once, at module scope), so a sender
 * processing many batches of one connection reads the secret once per TTL. Concurrent reads of the
 * same connection share one fetch; failures are not cached. After Autopilot answers 401, call
 * {@link evict}: the next read fetches again, picking up a key rotated moments ago.
 */
export class CachedSecretProvider implements SecretProvider {
  readonly #inner: SecretProvider;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(inner: SecretProvider, options: CachedSecretProviderOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  getApiKey(connectionId: string): Promise<string> {
    const cached = this.#entries.get(connectionId);
    if (cached && cached.expiresAt > this.#clock.now()) return cached.key;

    const entry: Entry = { key: this.#inner.getApiKey(connectionId), expiresAt: Number.POSITIVE_INFINITY };
    this.#entries.set(connectionId, entry);
    // Only touch the map if this fetch is still the current one (not evicted or replaced by a put).
    entry.key.then(
      () => {
        if (this.#entries.get(connectionId) === entry) entry.expiresAt = this.#clock.now() + this.#ttlMs;
      },
      () => {
        if (this.#entries.get(connectionId) === entry) this.#entries.delete(connectionId);
      },
    );
    return entry.key;
  }

  async putApiKey(connectionId: string, apiKey: string): Promise<void> {
    this.#entries.delete(connectionId);
    await this.#inner.putApiKey(connectionId, apiKey);
    this.#entries.set(connectionId, {
      key: Promise.resolve(apiKey),
      expiresAt: this.#clock.now() + this.#ttlMs,
    });
  }

  async deleteApiKey(connectionId: string): Promise<void> {
    this.#entries.delete(connectionId);
    try {
      await this.#inner.deleteApiKey(connectionId);
    } finally {
      // A read racing the delete may have re-cached the old key.
      this.#entries.delete(connectionId);
    }
  }

  /** Forget the cached key of one connection; the next read goes to the underlying provider. */
  evict(connectionId: string): void {
    this.#entries.delete(connectionId);
  }
}
