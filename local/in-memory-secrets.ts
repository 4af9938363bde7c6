import { FatalRunError, ValidationError } from '#lib/domain/errors.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';

/**
 * {@link SecretProvider} kept in process memory, for local mode and tests. Same contract as the
 * Secrets Manager adapter: a missing key is `FatalRunError('missing_api_key')`, delete is
 * idempotent, and no error ever carries a key.
 */
export class InMemorySecretProvider implements SecretProvider {
  readonly #keys: Map<string, string>;

  constructor(seed: Readonly<Record<string, string>> | ReadonlyMap<string, string> = {}) {
    this.#keys = new Map(seed instanceof Map ? seed : Object.entries(seed));
  }

  async getApiKey(connectionId: string): Promise<string> {
    const key = this.#keys.get(connectionId);
    if (!key) {
      throw new FatalRunError(
        `No API key is stored for connection ${connectionId}; the connection was removed or its key was never saved.`,
        'missing_api_key',
      );
    }
    return key;
  }

  async putApiKey(connectionId: string, apiKey: string): Promise<void> {
    if (connectionId.length === 0)
      throw new ValidationError([{ path: 'connectionId', reason: 'must not be empty' }]);
    if (apiKey.length === 0) throw new ValidationError([{ path: 'apiKey', reason: 'must not be empty' }]);
    this.#keys.set(connectionId, apiKey);
  }

  async deleteApiKey(connectionId: string): Promise<void> {
    this.#keys.delete(connectionId);
  }

  /** Whether a key is stored (for tests and the local CLI; never returns the key). */
  has(connectionId: string): boolean {
    return this.#keys.has(connectionId);
  }
}
