/** Where connection API keys live (Secrets Manager in AWS). Keys never leave through any other port. */
export interface SecretProvider {
  /** The connection's API key; throws FatalRunError('missing_api_key') when there is none. */
  getApiKey(connectionId: string): Promise<string>;
  putApiKey(connectionId: string, apiKey: string): Promise<void>;
  deleteApiKey(connectionId: string): Promise<void>;
}
