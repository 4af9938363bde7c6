import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { FatalRunError, TransientError, ValidationError } from '#lib/domain/errors.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';

/**
 * A deleted secret stays restorable for this many days (7 is Secrets Manager's minimum). Removing a
 * connection by mistake is then recoverable with `aws secretsmanager restore-secret`, while a key
 * the customer meant to revoke lingers no longer than a week. `ForceDeleteWithoutRecovery` would
 * make one wrong click irreversible and, per AWS, can race a re-create of the same name.
 */
export const RECOVERY_WINDOW_DAYS = 7;

/** Characters Secrets Manager allows in a secret name; 512 is its length limit. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

export interface SecretsManagerSecretProviderOptions {
  client: SecretsManagerClient;
  /** Prepended to the connection id, e.g. `autopilot-export/connections/`. */
  prefix: string;
  /** Customer-managed KMS key for new secrets; the account's `aws/secretsmanager` key otherwise. */
  kmsKeyId?: string;
  /** Tags for new secrets (e.g. `app=autopilot-export`, used to scope IAM). */
  tags?: Record<string, string>;
}

interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const awsError = (error: unknown): AwsError => (typeof error === 'object' && error !== null ? error : {});

/** Secrets Manager says "marked for deletion" or "scheduled for deletion" depending on the call. */
const isPendingDeletion = (error: AwsError): boolean =>
  error.name === 'InvalidRequestException' && /(marked|scheduled) for deletion/i.test(error.message ?? '');

/**
 * Describes an SDK failure by name, status and request id only. AWS messages never echo a secret
 * value today, but this file never relies on that: no SDK message, input or `cause` is passed on.
 */
const describe = (error: AwsError): string =>
  [
    error.name ?? 'Error',
    error.$metadata?.httpStatusCode ? `HTTP ${error.$metadata.httpStatusCode}` : undefined,
    error.$metadata?.requestId ? `request ${error.$metadata.requestId}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');

/**
 * Access or KMS problems are the deployment's to fix (fatal for the run); anything else from the
 * service is treated as passing (throttling, 5xx, network) and left to SQS redelivery.
 */
const classify = (operation: string, connectionId: string, error: unknown): Error => {
  const e = awsError(error);
  const what = `${operation} the API key of connection ${connectionId} failed (${describe(e)})`;
  if (
    e.name === 'AccessDeniedException' ||
    e.name === 'DecryptionFailure' ||
    e.name === 'EncryptionFailure'
  ) {
    return new FatalRunError(
      `${what}; check the function's IAM role and the secret's KMS key.`,
      'configuration',
    );
  }
  const status = e.$metadata?.httpStatusCode;
  return new TransientError(what, status === undefined ? {} : { status });
};

/**
 * {@link SecretProvider} on AWS Secrets Manager: one secret per connection, named
 * `${prefix}${connectionId}`, holding the API key as its SecretString.
 */
export class SecretsManagerSecretProvider implements SecretProvider {
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;
  readonly #kmsKeyId: string | undefined;
  readonly #tags: Record<string, string>;

  constructor(options: SecretsManagerSecretProviderOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#kmsKeyId = options.kmsKeyId;
    this.#tags = options.tags ?? {};
  }

  /** The secret's name for a connection; IAM policies are scoped to `${prefix}*`. */
  secretName(connectionId: string): string {
    const name = `${this.#prefix}${connectionId}`;
    if (connectionId.length === 0 || !SECRET_NAME.test(name)) {
      throw new ValidationError([
        { path: 'connectionId', reason: 'must be non-empty and use only letters, digits and /_+=.@-' },
      ]);
    }
    return name;
  }

  async getApiKey(connectionId: string): Promise<string> {
    const SecretId = this.secretName(connectionId);
    let secret: string | undefined;
    try {
      ({ SecretString: secret } = await this.#client.send(new GetSecretValueCommand({ SecretId })));
    } catch (error) {
      const e = awsError(error);
      if (e.name === 'ResourceNotFoundException' || isPendingDeletion(e)) {
        throw new FatalRunError(
          `No API key is stored for connection ${connectionId} (${e.name === 'ResourceNotFoundException' ? 'secret not found' : 'secret scheduled for deletion'}); ` +
            'the connection was removed or its key was never saved.',
          'missing_api_key',
        );
      }
      throw classify('Reading', connectionId, error);
    }
    if (!secret) {
      throw new FatalRunError(
        `The secret of connection ${connectionId} holds no API key (empty or binary value).`,
        'missing_api_key',
      );
    }
    return secret;
  }

  async putApiKey(connectionId: string, apiKey: string): Promise<void> {
    const SecretId = this.secretName(connectionId);
    if (apiKey.length === 0) throw new ValidationError([{ path: 'apiKey', reason: 'must not be empty' }]);
    try {
      await this.#client.send(
        new CreateSecretCommand({
          Name: SecretId,
          SecretString: apiKey,
          Description: `Autopilot API key of autopilot-export connection ${connectionId}`,
          ...(this.#kmsKeyId ? { KmsKeyId: this.#kmsKeyId } : {}),
          ...(Object.keys(this.#tags).length > 0
            ? { Tags: Object.entries(this.#tags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
      );
      return;
    } catch (error) {
      const e = awsError(error);
      if (isPendingDeletion(e)) {
        // The name is still reserved by a deleted secret in its recovery window: bring it back.
        await this.#call('Restoring', connectionId, () =>
          this.#client.send(new RestoreSecretCommand({ SecretId })),
        );
      } else if (e.name !== 'ResourceExistsException') {
        throw classify('Saving', connectionId, error);
      }
    }
    await this.#call('Saving', connectionId, () =>
      this.#client.send(new PutSecretValueCommand({ SecretId, SecretString: apiKey })),
    );
  }

  async deleteApiKey(connectionId: string): Promise<void> {
    const SecretId = this.secretName(connectionId);
    try {
      await this.#client.send(
        new DeleteSecretCommand({ SecretId, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }),
      );
    } catch (error) {
      const e = awsError(error);
      // Already gone, or already deleted and waiting out its window: the outcome the caller wants.
      if (e.name === 'ResourceNotFoundException' || isPendingDeletion(e)) return;
      throw classify('Deleting', connectionId, error);
    }
  }

  async #call(operation: string, connectionId: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      throw classify(operation, connectionId, error);
    }
  }
}
