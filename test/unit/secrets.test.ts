import { inspect } from 'node:util';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { RECOVERY_WINDOW_DAYS, SecretsManagerSecretProvider } from '#lib/adapters/secrets/secrets-manager.ts';
import { FatalRunError, TransientError, ValidationError } from '#lib/domain/errors.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';

const KEY = 'sk-live-3f9a1c0b7e4d4a2b9c8d7e6f5a4b3c2d';
const PREFIX = 'autopilot-export/connections/';
const meta = { httpStatusCode: 400, requestId: 'req-1' };

const sm = mockClient(SecretsManagerClient);
const provider = () =>
  new SecretsManagerSecretProvider({
    client: new SecretsManagerClient({ region: 'eu-west-1' }),
    prefix: PREFIX,
  });

/** Every way an error could leak the key: message, stack, JSON, util.inspect (what loggers use). */
const expectNoKey = (error: unknown, key = KEY): void => {
  const e = error as Error;
  for (const text of [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 })]) {
    expect(text).not.toContain(key);
  }
};

const caught = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

const markedForDeletion = () =>
  new InvalidRequestException({
    $metadata: meta,
    message: "You can't perform this operation on the secret because it was marked for deletion.",
  });

beforeEach(() => sm.reset());

describe('SecretsManagerSecretProvider', () => {
  it('reads the key from the secret named prefix + connection id', async () => {
    sm.on(GetSecretValueCommand, { SecretId: `${PREFIX}c-1` }).resolves({ SecretString: KEY });
    await expect(provider().getApiKey('c-1')).resolves.toBe(KEY);
  });

  it('a missing secret is FatalRunError missing_api_key naming the connection', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        $metadata: meta,
        message: "Secrets Manager can't find the specified secret.",
      }),
    );
    const error = await caught(provider().getApiKey('c-404'));
    expect(error).toBeInstanceOf(FatalRunError);
    expect(error).toMatchObject({ reason: 'missing_api_key' });
    expect((error as Error).message).toContain('c-404');
  });

  it('a secret marked for deletion is missing too', async () => {
    sm.on(GetSecretValueCommand).rejects(markedForDeletion());
    await expect(provider().getApiKey('c-1')).rejects.toMatchObject({
      name: 'FatalRunError',
      reason: 'missing_api_key',
    });
  });

  it('a secret without a string value is missing', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(provider().getApiKey('c-1')).rejects.toMatchObject({ reason: 'missing_api_key' });
  });

  it('access denied is a configuration failure; throttling is transient', async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(provider().getApiKey('c-1')).rejects.toMatchObject({ reason: 'configuration' });
    sm.on(GetSecretValueCommand).rejectsOnce(
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(provider().getApiKey('c-1')).rejects.toBeInstanceOf(TransientError);
  });

  it('put creates the secret the first time', async () => {
    sm.on(CreateSecretCommand).resolves({});
    await provider().putApiKey('c-1', KEY);
    const [call] = sm.commandCalls(CreateSecretCommand);
    expect(call?.args[0].input).toMatchObject({ Name: `${PREFIX}c-1`, SecretString: KEY });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('put on an existing secret stores a new version with PutSecretValue', async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ $metadata: meta, message: 'exists' }));
    sm.on(PutSecretValueCommand).resolves({});
    await provider().putApiKey('c-1', KEY);
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: `${PREFIX}c-1`,
      SecretString: KEY,
    });
  });

  it('put on a secret in its recovery window restores it, then stores the key', async () => {
    sm.on(CreateSecretCommand).rejects(
      new InvalidRequestException({
        $metadata: meta,
        message:
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
      }),
    );
    sm.on(RestoreSecretCommand).resolves({});
    sm.on(PutSecretValueCommand).resolves({});
    await provider().putApiKey('c-1', KEY);
    expect(sm.commandCalls(RestoreSecretCommand)).toHaveLength(1);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('delete keeps a recovery window and tolerates a secret already gone', async () => {
    sm.on(DeleteSecretCommand)
      .resolvesOnce({})
      .rejectsOnce(new ResourceNotFoundException({ $metadata: meta, message: 'not found' }));
    await provider().deleteApiKey('c-1');
    await provider().deleteApiKey('c-1');
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: `${PREFIX}c-1`,
      RecoveryWindowInDays: RECOVERY_WINDOW_DAYS,
    });
    expect(RECOVERY_WINDOW_DAYS).toBe(7);
  });

  it('refuses a connection id that cannot be part of a secret name', async () => {
    await expect(provider().getApiKey('a b')).rejects.toBeInstanceOf(ValidationError);
    await expect(provider().getApiKey('')).rejects.toBeInstanceOf(ValidationError);
    expect(sm.calls()).toHaveLength(0);
  });

  it('the key never appears in an error, even when AWS echoes it back', async () => {
    // Worst case: a service message that contains the submitted value.
    const echo = (name: string) =>
      new SecretsManagerServiceException({
        name,
        $fault: 'client',
        $metadata: meta,
        message: `Value '${KEY}' at 'secretString' failed to satisfy constraint`,
      });
    sm.on(CreateSecretCommand).rejects(echo('ValidationException'));
    expectNoKey(await caught(provider().putApiKey('c-1', KEY)));

    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ $metadata: meta, message: 'exists' }));
    sm.on(PutSecretValueCommand).rejects(echo('InternalServiceError'));
    expectNoKey(await caught(provider().putApiKey('c-1', KEY)));

    sm.on(GetSecretValueCommand).rejects(echo('DecryptionFailure'));
    const error = await caught(provider().getApiKey('c-1'));
    expect(error).toMatchObject({ reason: 'configuration' });
    expectNoKey(error);
  });
});

describe('InMemorySecretProvider', () => {
  it('has the same semantics: seeded keys, missing → missing_api_key, idempotent delete', async () => {
    const secrets = new InMemorySecretProvider({ 'c-1': KEY });
    await expect(secrets.getApiKey('c-1')).resolves.toBe(KEY);
    await secrets.deleteApiKey('c-1');
    await secrets.deleteApiKey('c-1');
    const error = await caught(secrets.getApiKey('c-1'));
    expect(error).toMatchObject({ name: 'FatalRunError', reason: 'missing_api_key' });
    expect((error as Error).message).toContain('c-1');
    await secrets.putApiKey('c-2', KEY);
    await expect(secrets.getApiKey('c-2')).resolves.toBe(KEY);
    expectNoKey(await caught(secrets.putApiKey('', KEY)));
  });
});

class FakeClock implements Clock {
  constructor(public time = 0) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

/** A provider that counts reads and lets a test decide when each read answers. */
class ControlledProvider implements SecretProvider {
  reads = 0;
  keys = new Map<string, string>();
  #gates: Array<() => void> = [];
  gated = false;

  async getApiKey(connectionId: string): Promise<string> {
    this.reads++;
    if (this.gated) await new Promise<void>((resolve) => this.#gates.push(resolve));
    const key = this.keys.get(connectionId);
    if (key === undefined) throw new FatalRunError(`No API key for ${connectionId}`, 'missing_api_key');
    return key;
  }
  async putApiKey(connectionId: string, apiKey: string): Promise<void> {
    this.keys.set(connectionId, apiKey);
  }
  async deleteApiKey(connectionId: string): Promise<void> {
    this.keys.delete(connectionId);
  }
  release(): void {
    for (const open of this.#gates.splice(0)) open();
  }
}

describe('CachedSecretProvider', () => {
  let inner: ControlledProvider;
  let clock: FakeClock;
  let cache: CachedSecretProvider;

  beforeEach(() => {
    inner = new ControlledProvider();
    inner.keys.set('c-1', 'key-1');
    clock = new FakeClock();
    cache = new CachedSecretProvider(inner, { ttlMs: 60_000, clock });
  });
  afterEach(() => inner.release());

  it('reuses a key until the TTL runs out, then reads again', async () => {
    expect(await cache.getApiKey('c-1')).toBe('key-1');
    clock.time += 59_999;
    expect(await cache.getApiKey('c-1')).toBe('key-1');
    expect(inner.reads).toBe(1);
    inner.keys.set('c-1', 'key-2');
    clock.time += 1;
    expect(await cache.getApiKey('c-1')).toBe('key-2');
    expect(inner.reads).toBe(2);
  });

  it('concurrent reads of one connection share a single fetch', async () => {
    inner.gated = true;
    const reads = [cache.getApiKey('c-1'), cache.getApiKey('c-1'), cache.getApiKey('c-1')];
    inner.release();
    expect(await Promise.all(reads)).toEqual(['key-1', 'key-1', 'key-1']);
    expect(inner.reads).toBe(1);
  });

  it('evict makes the next read fetch the rotated key', async () => {
    await cache.getApiKey('c-1');
    inner.keys.set('c-1', 'rotated');
    cache.evict('c-1');
    expect(await cache.getApiKey('c-1')).toBe('rotated');
    expect(inner.reads).toBe(2);
  });

  it('a fetch in flight when evicted does not repopulate the cache', async () => {
    inner.gated = true;
    const stale = cache.getApiKey('c-1');
    cache.evict('c-1');
    inner.keys.set('c-1', 'rotated');
    const fresh = cache.getApiKey('c-1');
    inner.release();
    await stale;
    expect(await fresh).toBe('rotated');
    inner.gated = false;
    expect(await cache.getApiKey('c-1')).toBe('rotated');
    expect(inner.reads).toBe(2);
  });

  it('failures are not cached', async () => {
    await expect(cache.getApiKey('c-9')).rejects.toMatchObject({ reason: 'missing_api_key' });
    inner.keys.set('c-9', 'late');
    expect(await cache.getApiKey('c-9')).toBe('late');
    expect(inner.reads).toBe(2);
  });

  it('put serves the new key without a read; delete forgets it', async () => {
    await cache.getApiKey('c-1');
    await cache.putApiKey('c-1', 'new-key');
    expect(await cache.getApiKey('c-1')).toBe('new-key');
    expect(inner.reads).toBe(1);
    await cache.deleteApiKey('c-1');
    await expect(cache.getApiKey('c-1')).rejects.toMatchObject({ reason: 'missing_api_key' });
  });
});

afterEach(() => sm.reset());
