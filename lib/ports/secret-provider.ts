/** Where connection API keys live (Secrets Manager in AWS). Keys never leave through any other port. */
export interface SecretProvider {
  /** The connection's API key; throws FatalRunError('missing_api_key') when there is none. */
  getApiKey(connectionId: string): Promise<string>;
  putApiKey(connectionId: string, apiKey: string): Promise<void>;
  deleteApiKey(connectionId: string): Promise<void>;
  /** Forget a cached key (after a 401 it may have just been rotated); a no-op where nothing is cached. */
  evict?(connectionId: string): void;
}
